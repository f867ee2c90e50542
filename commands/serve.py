"""`imbalance serve`: the clinic web application (and the services mounted in it) over HTTP."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

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
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Server processes (uvicorn workers), each with its own copy of the knowledge "
                   "base. More than one lets a busy clinic use more cores; see docs/clinic.md.")
@click.pass_context
def serve(ctx: click.Context, db_url: str | None, host: str, port: int, workers: int) -> None:
    """Start the clinic: patients, visits, consultations and reports in the browser.

    \b
    Examples:
      imbalance serve                                   # http://127.0.0.1:8080, SQLite
      imbalance serve --db postgresql://clinic@db/clinic --host 0.0.0.0 --workers 2
    """
    import uvicorn

    from clinic.app import SETTINGS_ENV, create_app, session_secret
    from clinic.auth import user_count
    from clinic.settings import Settings

    url = settings_db(db_url)
    settings = Settings(url, host, port, app(ctx).kb_dirs)
    database = open_database(url)  # migrated here, once, before any worker starts
    if not settings.loopback:
        with database.session() as session:
            if user_count(session) == 0:
                raise InputError(f"refusing to listen on {host}: no user exists, so anyone on the "
                                 "network could read patient records", key="--host",
                                 suggestion="create one first: imbalance users add NAME")
    session_secret(database)  # made once here, so workers starting together never race to make it
    database.dispose()
    options: dict[str, Any] = {"host": host, "port": port, "log_level": "warning",
                               "proxy_headers": False, "server_header": False}
    where = f"imbalance clinic on http://{host}:{port}/ (database: {safe_url(url)}"
    if workers == 1:
        application = create_app(settings)
        click.echo(where + ")")
        uvicorn.run(application, **options)
        return
    from clinic.cds_hooks import trusted_clients
    from engine.kb.loader import load_kb

    # Bad input (an unreadable trusted-clients file, a broken --kb folder) is one clear error
    # here, not N workers failing to start and being restarted by uvicorn over and over.
    trusted_clients()
    load_kb(settings.kb_dirs)
    # Worker processes build their own app from an import string; they read the settings from
    # the environment they inherit (the URL is no more exposed there than on this command line).
    os.environ[SETTINGS_ENV] = settings.to_json()
    click.echo(where + f", {workers} worker processes)")
    uvicorn.run("clinic.app:app_from_environment", factory=True, workers=workers, **options)


def safe_url(url: str) -> str:
    """The database URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
