"""What every page handler shares: the template environment, who is asking, and CSRF checks.

Templates are Jinja2 with autoescape and StrictUndefined, as for the reports: patient free text
is always shown as text, and a typo in a template fails a test instead of dropping a line.
Login is required whenever the server listens beyond this machine or any user exists; a
single clinician on their own computer with no users set up is the local user.
"""

from __future__ import annotations

import getpass
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from clinic.auth import user_count
from clinic.compare import with_defaults
from clinic.db import Database
from clinic.security import CSRF_FIELD, csrf_token, csrf_valid
from engine.wording import DISCLAIMER, TRIAGE_TEXT

TEMPLATES = Path(__file__).resolve().parent / "templates"


class LoginRequired(Exception):
    """Raised by `current_user` when nobody is logged in; the app answers with the login page."""


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, auto_reload=False,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(DISCLAIMER=DISCLAIMER, TRIAGE_TEXT=TRIAGE_TEXT, CSRF_FIELD=CSRF_FIELD)
    env.filters["num"] = lambda value, digits=2: f"{value:.{digits}f}"
    env.filters["tuple_pair"] = lambda value: (value, value)
    env.filters["with_defaults"] = with_defaults
    return env


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("title", "")
    html = environment().get_template(template).render(
        request=request, csrf=csrf_token(request), user=request.session.get("user", ""),
        **context)
    return HTMLResponse(html, status_code=status)


def db(request: Request) -> Database:
    database: Database = request.app.state.db
    return database


USERS_RECHECK_SECONDS = 2.0


async def login_needed(request: Request) -> bool:
    """True on a network host, or once any user exists. Users are only ever added (from the
    CLI, possibly while the server runs), so a yes is kept and a no is looked up again at most
    every USERS_RECHECK_SECONDS, instead of one query per page (in a worker thread: the query
    must not hold up the event loop)."""
    state = request.app.state
    if not state.settings.loopback or getattr(state, "users_exist", False):
        return True
    now = time.monotonic()
    if now - getattr(state, "users_checked", -USERS_RECHECK_SECONDS) >= USERS_RECHECK_SECONDS:
        state.users_exist = await anyio.to_thread.run_sync(_any_user, db(request))
        state.users_checked = now
    return bool(state.users_exist)


def _any_user(database: Database) -> bool:
    with database.session() as session:
        return user_count(session) > 0


@lru_cache(maxsize=1)
def local_user() -> str:
    """Who runs the server (asked once: getpass looks through the environment and passwd)."""
    return f"local:{getpass.getuser()}"


async def current_user(request: Request) -> str:
    """The logged-in user's name; the local user when no login is needed; else LoginRequired.
    A coroutine, so FastAPI runs it on the event loop: as a plain function it would cost every
    page a hop to a worker thread and back, for a dictionary look-up."""
    user = request.session.get("user")
    if not await login_needed(request):
        return local_user()
    if not isinstance(user, str) or not user:
        raise LoginRequired()
    return user


async def form_with_csrf(request: Request) -> dict[str, Any]:
    """The posted form as a dict of lists, after checking its CSRF token (403 if wrong)."""
    form = await request.form()
    if not csrf_valid(request, form.get(CSRF_FIELD)):
        raise HTTPException(403, "The form has expired or did not come from this site: "
                                 "go back, reload the page and try again.")
    data: dict[str, Any] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            data.setdefault(key, []).append(value)
    return data


def first(data: dict[str, Any], key: str, default: str = "") -> str:
    values = data.get(key) or [default]
    return str(values[0]).strip()
