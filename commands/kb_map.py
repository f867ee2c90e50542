"""`imbalance kb map -o DIR`: write the knowledge-base map, an index and one page per
conclusion and per rule file (reports/kb_map.py). Refuses a folder that holds anything but an
earlier map, so nothing else is ever overwritten."""

from __future__ import annotations

import os
from pathlib import Path

import click

from commands.context import app
from engine.errors import InputError

MARKER = '<meta name="generator" content="imbalance kb map">'


@click.command(name="map")
@click.option("-o", "--output", required=True, metavar="DIR", help="The folder to write.")
@click.pass_context
def kb_map(ctx: click.Context, output: str) -> None:
    """Write a readable map of the knowledge base: index.html, a page per conclusion (what leads
    to it, what it leads on to, what it only gates) and a page per rule file."""
    target = Path(output)
    _check_folder(target)
    kb = app(ctx).kb()
    from reports.kb_map import map_pages
    from reports.output import write_atomically

    pages = map_pages(kb)
    for relative, html in pages.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(str(path), html, force=True)
    click.echo(f"wrote {target / 'index.html'} ({len(pages)} pages, {len(kb.rules)} rules)")


def _check_folder(target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise InputError(f"'{target}' exists and is not a folder", key="-o",
                         suggestion="give a folder name for the map, such as kb-map")
    if not target.is_dir():
        return
    for root, _dirs, files in os.walk(target):
        for name in files:
            path = Path(root) / name
            try:
                ours = path.suffix == ".html" and MARKER in path.read_text(encoding="utf-8",
                                                                          errors="replace")[:2000]
            except OSError:
                ours = False
            if not ours:
                raise InputError(f"'{target}' holds '{path.relative_to(target)}', which is not "
                                 "part of a knowledge-base map; it would be mixed in", key="-o",
                                 suggestion="give a new or empty folder")
