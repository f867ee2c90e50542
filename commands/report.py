"""`imbalance report CASE -o OUT.html`: the self-contained HTML explanation report."""

from __future__ import annotations

from pathlib import Path

import click

from commands.context import app
from engine.cases.case import load_case
from engine.errors import InputError


@click.command()
@click.argument("case", metavar="CASE")
@click.option("-o", "--output", required=True, metavar="OUT.html",
              help="Where to write the report ('-' for standard output).")
@click.option("--force", is_flag=True, help="Overwrite OUT.html if it already exists.")
@click.pass_context
def report(ctx: click.Context, case: str, output: str, force: bool) -> None:
    """Write one self-contained HTML report for the case in CASE (YAML, JSON or - for stdin).

    The report opens offline in any browser and prints on A4: red flags first, then triage,
    findings, conditions, causes, muscles, advice, the reasoning graph, HOW / WHY NOT / WHAT IF
    and the references. Set SOURCE_DATE_EPOCH for byte-identical reports.
    """
    from reports.output import check_target, write_atomically

    if output != "-":
        if case != "-" and Path(output).resolve() == Path(case).resolve():
            raise InputError(f"output '{output}' is the case file itself", key="-o",
                             suggestion="write the report to a .html file, e.g. -o report.html")
        check_target(output, force)  # before any work: refuse early, never clobber
    state = app(ctx)
    kb = state.kb()
    reasoner = state.reasoner()
    result = reasoner.assess(load_case(case, kb))
    from reports.html import report_html  # networkx and jinja2 only once there is a report to make

    html = report_html(result, reasoner)
    if output == "-":
        click.echo(html, nl=False)
        return
    write_atomically(output, html, force)
    flags = len(result.red_flags)
    summary = f"triage {result.triage}" + (f", {flags} red flag{'s' if flags != 1 else ''}" if flags else "")
    click.echo(f"wrote {output} ({summary})")
