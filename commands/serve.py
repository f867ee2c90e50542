"""`imbalance serve`: the clinic web application (and the services mounted in it) over HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from commands.context import app
from engine.errors import InputError

if TYPE_CHECKING:  # the web stack is imported only when the command runs
    from clinic.db import Database

DB_HELP = ("Database URL: postgresql://user:pass@host/db for a clinic server, or an SQLite file "
           "path. Default: one SQLite file in your data folder.")


def settings_db(db_url: str | None) -> str:
    from clinic.settings import default_db_url, normalise_db_url

    try:
        return normalise_db_url(db_url or default_db_url())
    except ValueError as exc:
        raise InputError(f"--db: {exc}", key="--db",
                         suggestion="use postgresql://USER:PASSWORD@HOST/DB or a file path") from None


def open_database(url: str) -> Database:
    """The migrated database, or one clear error when it cannot be reached."""
    from sqlalchemy.exc import OperationalError

    from clinic.db import Database, migrate

    database = Database(url)
    try:
        migrate(database.engine)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise InputError(f"--db: cannot open the database: {reason}", key="--db",
                         suggestion="check the URL, that the server runs and the password") from None
    return database


@click.command()
@click.option("--db", "db_url", metavar="URL", help=DB_HELP)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but this computer needs a user "
                   "(imbalance users add NAME) and HTTPS in front.")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
@click.pass_context
def serve(ctx: click.Context, db_url: str | None, host: str, port: int) -> None:
    """Start the clinic: patients, visits, consultations and reports in the browser.

    \b
    Examples:
      imbalance serve                                   # http://127.0.0.1:8080, SQLite
      imbalance serve --db postgresql://clinic@db/clinic --host 0.0.0.0
    """
    import uvicorn

    from clinic.app import create_app
    from clinic.auth import user_count
    from clinic.settings import Settings

    url = settings_db(db_url)
    settings = Settings(url, host, port, app(ctx).kb_dirs)
    database = open_database(url)
    if not settings.loopback:
        with database.session() as session:
            if user_count(session) == 0:
                raise InputError(f"refusing to listen on {host}: no user exists, so anyone on the "
                                 "network could read patient records", key="--host",
                                 suggestion="create one first: imbalance users add NAME")
    database.dispose()
    application = create_app(settings)
    click.echo(f"imbalance clinic on http://{host}:{port}/ (database: {safe_url(url)})")
    uvicorn.run(application, host=host, port=port, log_level="warning", proxy_headers=False,
                server_header=False)


def safe_url(url: str) -> str:
    """The database URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
