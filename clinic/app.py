"""The application factory: one function builds the whole clinic app for a `Settings`.

It migrates the database before answering anything, loads the knowledge base once, and puts
the middleware in the order that matters: security headers outermost (so every answer, errors
included, carries the CSP), then the signed session cookie. Routers are plain modules under
`clinic/routes/`. The CDS Hooks service is added through its own `mount`, the one way in, since
mounting also loads the trusted clients named by IMBALANCE_CDS_CLIENTS: a server started without
that step would answer only as if it listened on this machine.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import IntegrityError
from starlette.middleware.sessions import SessionMiddleware

from clinic.assessing import Assessor
from clinic.auth import LoginLimiter
from clinic.db import Database, migrate
from clinic.models import Setting
from clinic.pages import LoginRequired, render
from clinic.result_page import PartsCache
from clinic.security import SecurityHeaders
from clinic.settings import Settings

STATIC = Path(__file__).resolve().parent / "static"
SESSION_COOKIE = "imbalance_session"
SESSION_HOURS = 10  # one clinic day; then log in again
# Page handlers run in worker threads. Their work is Python under one GIL plus quick database
# calls, so 8 threads keep the cores busy; anyio's default of 40 let 20 busy requests take turns
# at the GIL in no order, which stretched the slowest ones (bench/RESULTS.md, clinic section).
# The CDS Hooks service, which may wait on a remote FHIR server, has threads of its own.
PAGE_THREADS = 8


SETTINGS_ENV = "IMBALANCE_SERVE_SETTINGS"  # set by `serve --workers N` for its worker processes


def session_secret(db: Database) -> str:
    """The key that signs session cookies, made once and kept in the database, so sessions
    survive a restart and every worker process shares it (a cookie signed by one worker is read
    by another; the CSRF token lives in that cookie, so it is shared the same way). Two
    processes making it at the same moment: the second one's insert fails and it reads the first's."""
    try:
        with db.session() as session:
            row = session.get(Setting, "session_secret")
            if row is None:
                row = Setting(key="session_secret", value=secrets.token_urlsafe(48))
                session.add(row)
            return row.value
    except IntegrityError:
        with db.session() as session:
            return session.get_one(Setting, "session_secret").value


def app_from_environment() -> FastAPI:
    """The app of one worker process of `serve --workers N` (uvicorn calls it in each worker;
    the settings come from the environment the command set). The command has migrated the
    database and made the session secret before starting the workers."""
    return create_app(Settings.from_json(os.environ[SETTINGS_ENV]))


def create_app(settings: Settings, assessor: Assessor | None = None,
               env: Mapping[str, str] | None = None) -> FastAPI:
    """The clinic for `settings`; `env` stands for the process environment (tests pass their own),
    read for IMBALANCE_CDS_CLIENTS. Raises InputError when that file cannot be read."""
    db = Database(settings.db_url)
    migrate(db.engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = PAGE_THREADS
        yield
        db.dispose()

    app = FastAPI(title="imbalance clinic", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.state.settings = settings
    app.state.db = db
    app.state.assessor = assessor or Assessor(settings.kb_dirs)
    app.state.limiter = LoginLimiter(db)
    app.state.result_parts = PartsCache()

    app.add_middleware(SessionMiddleware, secret_key=session_secret(db), session_cookie=SESSION_COOKIE,
                       max_age=SESSION_HOURS * 3600, same_site="strict",
                       https_only=not settings.loopback)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={target}" if target != "/" else "/login", 303)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, _exc: Exception) -> Response:
        return render(request, "message.html.j2", status=404, title="Not found",
                      message="That address does not name a page here.")

    @app.exception_handler(404)
    async def not_found(request: Request, _exc: Exception) -> Response:
        return render(request, "message.html.j2", status=404, title="Not found",
                      message="There is no such page, or the record was deleted.")

    from clinic import cds_hooks
    from clinic.routes import handout, login, patients, results, visits

    for module in (login, patients, visits, results, handout):
        app.include_router(module.router)
    cds_hooks.mount(app, env)
    return app
