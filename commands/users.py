"""`imbalance users add NAME` / `imbalance users list`: who may log in to the clinic server."""

from __future__ import annotations

import sys

import click

from commands.serve import DB_HELP, open_database, settings_db
from engine.errors import InputError


@click.group()
def users() -> None:
    """Manage the clinic server's users (passwords are stored as argon2 hashes)."""


@users.command("add")
@click.argument("name")
@click.option("--db", "db_url", metavar="URL", help=DB_HELP)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def add(name: str, db_url: str | None, password_stdin: bool) -> None:
    """Add a user; the password is asked twice (or read from stdin with --password-stdin)."""
    from sqlalchemy import select

    from clinic.auth import MIN_PASSWORD, add_user, check_name
    from clinic.models import User

    problem = check_name(name)
    if problem:
        raise InputError(f"NAME '{name}': {problem}", key="NAME")
    if password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD:
        raise InputError(f"the password has {len(password)} characters; at least {MIN_PASSWORD} "
                         "are needed", key="password", suggestion="use a longer passphrase")
    database = open_database(settings_db(db_url))
    with database.session() as session:
        if session.scalar(select(User).where(User.name == name)) is not None:
            raise InputError(f"user '{name}' already exists", key="NAME")
        add_user(session, name, password)
    database.dispose()
    click.echo(f"added user {name}")


@users.command("list")
@click.option("--db", "db_url", metavar="URL", help=DB_HELP)
def list_users(db_url: str | None) -> None:
    """List the users who may log in."""
    from sqlalchemy import select

    from clinic.models import User

    database = open_database(settings_db(db_url))
    with database.session() as session:
        for user in session.scalars(select(User).order_by(User.name)):
            click.echo(f"{user.name}\tadded {user.created_at:%Y-%m-%d %H:%M} UTC")
    database.dispose()
