"""`imbalance assess CASE`: one case, printed for a clinician or as the contract's JSON."""

from __future__ import annotations

import json

import click

from commands.context import app
from engine.cases.case import load_case

FORMATS = ("text", "json", "markdown", "fhir")


@click.command()
@click.argument("case", metavar="CASE")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for the terminal, json for scripts (the contract), markdown for notes, "
              "fhir for a FHIR R4 Bundle (RiskAssessment, DetectedIssue, CarePlan).")
@click.pass_context
def assess(ctx: click.Context, case: str, fmt: str) -> None:
    """Assess the case in CASE (a YAML or JSON file, or - for stdin)."""
    state = app(ctx)
    kb = state.kb()
    result = state.reasoner().assess(load_case(case, kb))
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    elif fmt == "fhir":
        from reports.fhir_bundle import render_fhir

        click.echo(render_fhir(result), nl=False)
    elif fmt == "markdown":
        from reports.markdown import render_markdown

        click.echo(render_markdown(result), nl=False)
    else:
        from reports.text import render_text

        click.echo(render_text(result, color=None), nl=False)
