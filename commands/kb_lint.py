"""`imbalance kb lint`: check the combined knowledge base (shipped kb/ plus every --kb layer).

Exit 0 when clean, 1 when any problem (error or warning) is found, including problems that stop
the KB from loading: for lint those are findings, not bad usage. Bad usage (a missing --kb
folder, an unknown option) is still exit 2.
"""

from __future__ import annotations

import json
from typing import Any

import click

from commands.context import app
from engine.kb.loader import load_layers, shipped_kb_dir
from engine.lint import CHECKS
from engine.lint import lint as run_lint

FORMATS = ("text", "json")


@click.command()
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text: one 'path:line: severity: message (suggestion) [check]' per problem; "
                   "json: one object for scripts.")
@click.option("-v", "--verbose", is_flag=True,
              help="Also list the issues switched off with 'lint:', with their reasons.")
@click.option("--list-checks", is_flag=True, help="List every check with its id, severity and "
              "description, then exit.")
@click.option("--review-days", "review_days", type=click.IntRange(min=1), default=None,
              metavar="N", help="A rule reviewed more than N days ago is overdue (default: "
              "imbalance.toml's [lint] review_interval_days, else 730).")
@click.pass_context
def lint(ctx: click.Context, fmt: str, verbose: bool, list_checks: bool,
         review_days: int | None) -> None:
    """Check the rule files; exit 1 when problems are found.

    Switch a check off for one rule (or finding, conclusion, muscle, recommendation, source)
    with a reason, on that entry: 'lint: {subsumed: "deliberately weaker, see note"}'.
    """
    if list_checks:
        _print_checks(fmt)
        return
    state = app(ctx)
    loaded = load_layers((shipped_kb_dir(), *state.kb_dirs))
    report = run_lint(loaded, review_days=review_days or state.config.review_days)
    if fmt == "json":
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo("\n".join(report.lines(show_switched_off=verbose)))
    ctx.exit(report.exit_code)


def _print_checks(fmt: str) -> None:
    rows: list[dict[str, Any]] = [{"id": cid, "severity": cls.severity, "stage": cls.stage,
             "switchable": cls.switchable(), "description": cls.description}
            for cid, cls in sorted(CHECKS.items(), key=lambda kv: (kv[1].stage, kv[0]))]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    width = max(len(row["id"]) for row in rows)
    for row in rows:
        where = "" if row["switchable"] else " (while loading; cannot be switched off)" \
            if row["stage"] == "load" else " (cannot be switched off)"
        click.echo(f"{row['id']:<{width}}  {row['severity']:<7}  {row['description']}{where}")
