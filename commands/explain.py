"""`imbalance explain CASE CONCLUSION_ID`: how a conclusion was reached, or why it was not."""

from __future__ import annotations

import json

import click

from commands.context import app
from engine.cases.case import load_case
from engine.errors import InputError
from engine.kb.discover import layer_hint
from engine.kb.suggest import did_you_mean


@click.command()
@click.argument("case", metavar="CASE")
@click.argument("conclusion_id", metavar="CONCLUSION_ID")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True,
              help="text for the terminal, json for scripts.")
@click.pass_context
def explain(ctx: click.Context, case: str, conclusion_id: str, fmt: str) -> None:
    """Explain CONCLUSION_ID (a red flag, condition or cause) for the case in CASE.

    When it was reached: HOW, the chain of rules and findings with each rule's contribution and
    sources. When it was not: WHY NOT, the rules that could reach it, nearest first, with each
    premise marked satisfied, unknown (not asked) or contradicted.
    """
    state = app(ctx)
    kb = state.kb()
    if conclusion_id not in kb.conclusions:
        raise InputError(f"unknown conclusion '{conclusion_id}'", key="CONCLUSION_ID",
                         suggestion=layer_hint(conclusion_id, kb)
                         or did_you_mean(conclusion_id, kb.conclusions)
                         or "run 'imbalance kb show' to list the conclusions")
    reasoner = state.reasoner()
    result = reasoner.assess(load_case(case, kb))
    from engine.explain.explainer import Explainer  # networkx only once the input is good
    from reports.explanation import explanation_dict, render_explanation

    explainer = Explainer(result, reasoner)
    if fmt == "json":
        click.echo(json.dumps(explanation_dict(explainer, conclusion_id), indent=2, ensure_ascii=False))
    else:
        click.echo(render_explanation(explainer, conclusion_id), nl=False)
