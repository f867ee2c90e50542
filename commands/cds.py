"""`imbalance cds feedback`: which rules clinicians override when the CDS Hooks cards show them.

Reads the clinic database the server writes (`imbalance serve --db ...`); prints one line per
rule, the most overridden first, with the reasons clinicians gave. Authors use it to find rules
whose advice does not fit practice.
"""

from __future__ import annotations

import click

from engine.errors import InputError


@click.command()
@click.option("--db", "db_url", required=True, metavar="URL",
              help="The clinic database (sqlite:///path or postgresql://...), as given to serve.")
@click.option("--all", "show_all", is_flag=True, help="Also list rules with no feedback yet.")
def feedback(db_url: str, show_all: bool) -> None:
    """Per rule: cards shown, accepted, overridden, and the override reasons given."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import Session

    from clinic.cds_store import feedback_by_rule

    try:
        engine = create_engine(db_url)
        with Session(engine) as session:
            stats = feedback_by_rule(session)
    except (SQLAlchemyError, ValueError) as exc:
        raise InputError(f"cannot read the clinic database '{db_url}': {type(exc).__name__}", key="--db",
                         suggestion="give the URL given to 'imbalance serve --db', after the server "
                                    "has answered at least one CDS Hooks call") from None
    rows = [s for s in stats if show_all or s.accepted or s.overridden]
    if not rows:
        click.echo("no feedback on CDS Hooks cards yet")
        return
    width = max(len(s.rule) for s in rows)
    click.echo(f"{'rule':<{width}}  shown  accepted  overridden  override rate")
    for s in rows:
        click.echo(f"{s.rule:<{width}}  {s.shown:>5}  {s.accepted:>8}  {s.overridden:>10}  "
                   f"{s.override_rate:>12.0%}")
        for reason, count in s.reasons.most_common():
            click.echo(f"{'':<{width}}    {count} x {reason}")
