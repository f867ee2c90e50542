"""`imbalance kb schema [-o DIR]`: print or write the JSON Schemas editors validate with
(engine/authoring/schemas.py). The checked-in copies live in docs/schema/."""

from __future__ import annotations

from pathlib import Path

import click

from commands.context import app


@click.command()
@click.option("-o", "--output", default=None, metavar="DIR",
              help="Write kb-file.schema.json and case.schema.json into DIR (replacing them).")
@click.option("--kind", type=click.Choice(("kb-file", "case")), default="kb-file",
              show_default=True, help="Which schema to print when no -o is given.")
@click.pass_context
def schema(ctx: click.Context, output: str | None, kind: str) -> None:
    """The JSON Schema of a knowledge-base file (or of a case file, --kind case), generated from
    the tables the loader checks with, so it cannot drift from the code."""
    from engine.authoring.schemas import rendered

    files = rendered(app(ctx).kb())
    if output is None:
        click.echo(files[f"{kind}.schema.json"], nl=False)
        return
    from reports.output import write_atomically

    folder = Path(output)
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        write_atomically(str(folder / name), text, force=True)
    click.echo(f"wrote {', '.join(str(folder / name) for name in files)}")
