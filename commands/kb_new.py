"""`imbalance kb new rule|condition|finding ID`: print (or write) a scaffold with every field.

Thin: the text comes from `engine.authoring.scaffold`; this command checks the ids against the
loaded knowledge base (shipped plus layers) and prints it, or writes it to a new file with -o.
"""

from __future__ import annotations

import click

from commands.context import app
from engine.authoring import scaffold
from engine.kb import model as m


@click.command()
@click.argument("kind", type=click.Choice(scaffold.KINDS))
@click.argument("ident", metavar="ID")
@click.option("--when", "when", multiple=True, metavar="FINDING",
              help="rule: a finding to use as a premise (repeatable).")
@click.option("--concludes", default="", metavar="ID", help="rule: the conclusion it reaches.")
@click.option("--source", default="", metavar="ID", help="rule: the source it cites.")
@click.option("--type", "ftype", type=click.Choice(m.FINDING_TYPES), default="boolean",
              show_default=True, help="finding: its type.")
@click.option("--category", type=click.Choice(m.CATEGORIES), default="symptom", show_default=True,
              help="finding: its category.")
@click.option("-o", "--output", default=None, metavar="FILE.yaml",
              help="Write a new file instead of printing (never overwrites).")
@click.pass_context
def new(ctx: click.Context, kind: str, ident: str, when: tuple[str, ...], concludes: str,
        source: str, ftype: str, category: str, output: str | None) -> None:
    """Scaffold a new rule, condition or finding with the fields the schema needs; fill in the
    TODOs, then run 'imbalance kb lint'."""
    kb = app(ctx).kb()
    if kind == "rule":
        text = scaffold.rule(kb, ident, when, concludes, source)
    elif kind == "condition":
        text = scaffold.condition(kb, ident)
    else:
        text = scaffold.finding(kb, ident, ftype, category)
    if output is None:
        click.echo(text, nl=False)
        return
    from reports.output import check_target, write_atomically

    check_target(output, False)
    write_atomically(output, text, False)
    click.echo(f"wrote {output}: fill in the TODOs, then run 'imbalance kb lint'", err=True)
