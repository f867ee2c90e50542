"""`imbalance kb show [ID]`: a rule, finding, conclusion, muscle, recommendation or source, with
its definition (file:line), where it is used, what it can lead to and its sources. Without an id,
list every id by kind. An unknown id is bad input: exit 2 with a did-you-mean."""

from __future__ import annotations

import json

import click

from commands.context import app
from engine.authoring.catalogue import Catalogue
from engine.errors import KBError
from engine.kb.loader import load_layers, shipped_kb_dir

FORMATS = ("text", "json")


@click.command()
@click.argument("ident", metavar="[ID]", required=False, default="")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.pass_context
def show(ctx: click.Context, ident: str, fmt: str) -> None:
    """Show ID: its definition, where it is used, what it can lead to, its sources."""
    loaded = load_layers((shipped_kb_dir(), *app(ctx).kb_dirs))
    if loaded.errors:
        raise KBError(loaded.errors)
    catalogue = Catalogue(loaded.kb, loaded.disabled_rules)
    if not ident:
        groups = catalogue.index()
        if fmt == "json":
            click.echo(json.dumps({heading: items for heading, items in groups}, indent=2,
                                  ensure_ascii=False))
            return
        for heading, items in groups:
            click.echo(f"{heading} ({len(items)}):")
            click.echo("\n".join(f"  {item}" for item in items))
        return
    entries = catalogue.show(ident.strip())
    if fmt == "json":
        click.echo(json.dumps([e.to_dict() for e in entries], indent=2, ensure_ascii=False))
        return
    blocks = []
    for entry in entries:
        lines = [f"{entry.kind} {entry.id}: {entry.title}", f"  defined at {entry.location}"]
        for heading, items in entry.sections:
            if len(items) == 1 and "\n" not in items[0] and not items[0].startswith(" "):
                lines.append(f"  {heading}: {items[0]}")
            else:
                lines.append(f"  {heading}:")
                lines += [f"    {item}" for item in items]
        blocks.append("\n".join(lines))
    click.echo("\n\n".join(blocks))
