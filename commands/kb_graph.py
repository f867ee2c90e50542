"""`imbalance kb graph -o kb.html`: the whole knowledge base as a dependency graph."""

from __future__ import annotations

import click

from commands.context import app
from engine.errors import InputError
from engine.kb.suggest import did_you_mean


@click.command()
@click.option("-o", "--output", required=True, metavar="OUT.html",
              help="Where to write the page ('-' for standard output).")
@click.option("--force", is_flag=True, help="Overwrite OUT.html if it already exists.")
@click.option("--focus", metavar="ID", default=None,
              help="Draw only what leads to or follows from one finding, rule or conclusion.")
@click.pass_context
def graph(ctx: click.Context, output: str, force: bool, focus: str | None) -> None:
    """Draw findings -> rules -> conclusions for the whole KB as one self-contained HTML page.

    For a large knowledge base, 'imbalance kb map -o DIR' stays readable: an index and one page
    per conclusion and per rule file."""
    from reports.output import check_target, write_atomically

    if output != "-":
        check_target(output, force)
    kb = app(ctx).kb()
    if focus is not None:
        known = [*kb.findings, *(r.id for r in kb.rules), *kb.conclusions]
        if focus not in known:
            raise InputError(f"unknown finding, rule or conclusion '{focus}'", key="--focus",
                             suggestion=did_you_mean(focus, known) or "run 'imbalance kb show' to list ids")
    from reports.html import kb_graph_html  # networkx and jinja2 only once the input is good

    html = kb_graph_html(kb, focus=focus)
    if output == "-":
        click.echo(html, nl=False)
        return
    write_atomically(output, html, force)
    hint = "" if focus or len(kb.rules) < 60 else "; for a readable map use 'imbalance kb map -o DIR'"
    click.echo(f"wrote {output} ({len(kb.rules)} rules){hint}")
