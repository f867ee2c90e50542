"""`imbalance handout CASE -o OUT.html|OUT.pdf`: the patient's advice sheet (reports/handout.py)."""

from __future__ import annotations

import click

from commands.context import app
from commands.report import write_page
from engine.cases.case import load_case


@click.command()
@click.argument("case", metavar="CASE")
@click.option("-o", "--output", required=True, metavar="OUT.html",
              help="Where to write the sheet: .html, or .pdf ('-' for HTML on standard output).")
@click.option("--force", is_flag=True, help="Overwrite OUT if it already exists.")
@click.pass_context
def handout(ctx: click.Context, case: str, output: str, force: bool) -> None:
    """Write the patient's advice sheet for the case in CASE, in plain words.

    The plan's exercises with dose and side, what to avoid, when to come back and when to seek
    help at once. With a red flag it holds only the referral and the safety-net.
    """
    from reports.output import check_output

    check_output(case, output, force)
    kb = app(ctx).kb()
    result = app(ctx).reasoner().assess(load_case(case, kb))
    from reports.document import report_time
    from reports.handout import render_handout

    write_page(output, render_handout(result, report_time()), force,
               "red flag: referral and safety-net only" if result.red_flags else
               f"{len(result.plan)} steps")
