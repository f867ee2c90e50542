"""`imbalance report CASE -o OUT.html|OUT.pdf`: the explanation report, the answer first."""

from __future__ import annotations

import click

from commands.context import app
from engine.cases.case import load_case


def write_page(output: str, html: str, force: bool, summary: str) -> None:
    """Write an HTML page to `output` (a PDF when it ends in .pdf, HTML on stdout for '-')."""
    from reports.output import write_atomically

    if output == "-":
        click.echo(html, nl=False)
        return
    if output.lower().endswith(".pdf"):
        from reports.pdf import html_to_pdf

        write_atomically(output, html_to_pdf(html), force)
    else:
        write_atomically(output, html, force)
    click.echo(f"wrote {output} ({summary})")


@click.command()
@click.argument("case", metavar="CASE")
@click.option("-o", "--output", required=True, metavar="OUT.html",
              help="Where to write the report: .html, or .pdf ('-' for HTML on standard output).")
@click.option("--force", is_flag=True, help="Overwrite OUT if it already exists.")
@click.pass_context
def report(ctx: click.Context, case: str, output: str, force: bool) -> None:
    """Write one self-contained HTML (or PDF) report for the case in CASE (YAML, JSON or -).

    The first screen, and the first printed A4 page, is the answer: triage, red flags with what
    to do now, the top conditions with side and certainty, the plan and the review. Then the
    findings, every condition and cause, muscles, advice by phase, the reasoning graph, HOW /
    WHY NOT / WHAT IF and the references. It opens offline in any browser. A .pdf is written
    with WeasyPrint, or headless Chromium when WeasyPrint cannot run. Set SOURCE_DATE_EPOCH for
    byte-identical HTML.
    """
    from reports.output import check_output

    check_output(case, output, force)  # before any work: refuse early, never clobber
    state = app(ctx)
    kb = state.kb()
    reasoner = state.reasoner()
    result = reasoner.assess(load_case(case, kb))
    from reports.html import report_html  # networkx and jinja2 only once there is a report to make

    flags = len(result.red_flags)
    summary = f"triage {result.triage}" + (f", {flags} red flag{'s' if flags != 1 else ''}" if flags else "")
    write_page(output, report_html(result, reasoner), force, summary)
