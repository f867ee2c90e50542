"""Shared helpers for the clinic server's tests: databases (SQLite always, PostgreSQL when
IMBALANCE_TEST_PG_URL names a server), an app with one shared KB, and a form-posting client.

Under CI=true a missing PostgreSQL fails the PostgreSQL tests instead of skipping them: CI
starts a server (.ci/run), so its absence there is a broken set-up, not an optional extra.
"""

from __future__ import annotations

import html
import os
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from clinic.assessing import Assessor
from clinic.settings import Settings, normalise_db_url

PG_ENV = "IMBALANCE_TEST_PG_URL"


def pg_admin_url() -> str | None:
    url = os.environ.get(PG_ENV, "").strip()
    if url:
        return normalise_db_url(url)
    if os.environ.get("CI") == "true":
        pytest.fail(f"{PG_ENV} is not set under CI: .ci/run must start PostgreSQL for the storage tests")
    return None


def fresh_database(backend: str, tmp_path: Any) -> Iterator[str]:
    """A URL of an empty database of this backend, dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
        return
    admin = pg_admin_url()
    if admin is None:
        pytest.skip(f"no PostgreSQL server: set {PG_ENV} (CI sets it)")
    name = f"imbalance_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


_ASSESSOR: Assessor | None = None


def shared_assessor() -> Assessor:
    """One loaded KB for every app in the test run (loading and compiling it is the slow part)."""
    global _ASSESSOR
    if _ASSESSOR is None:
        _ASSESSOR = Assessor()
    return _ASSESSOR


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


STEPS = re.compile(r'name="steps" value="([^"]*)"')


def consult_steps(page: str) -> str:
    """The consultation's state carried in its page (the hidden `steps` field), unescaped."""
    found = STEPS.search(page)
    assert found, "no consultation state on the page"
    return html.unescape(found.group(1))


class Clinic:
    """A TestClient that knows the CSRF token of its session and posts forms with it."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.token = ""

    def get(self, path: str, **kwargs: Any) -> Any:
        response = self.client.get(path, **kwargs)
        found = CSRF.search(response.text)
        if found:
            self.token = found.group(1)
        return response

    def post(self, path: str, data: dict[str, Any] | None = None, csrf: bool = True, **kwargs: Any) -> Any:
        if csrf and not self.token:
            self.get("/patients/new")
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.token)
        kwargs.setdefault("follow_redirects", False)
        response = self.client.post(path, data=form, **kwargs)
        found = CSRF.search(response.text)
        if found:
            self.token = found.group(1)
        return response

    def new_patient(self, name: str = "Ann Example", **fields: str) -> int:
        response = self.post("/patients/new", {"name": name, "sex": "female", **fields})
        assert response.status_code == 303, response.text
        return int(response.headers["location"].rsplit("/", 1)[1])

    def new_visit(self, pid: int, findings: dict[str, str], **fields: str) -> int:
        response = self.post(f"/patients/{pid}/visits/new", {**findings, **fields})
        assert response.status_code == 303, response.text
        return int(response.headers["location"].rsplit("/", 1)[1])


def make_app(url: str, host: str = "127.0.0.1", assessor: Assessor | None = None) -> Any:
    from clinic.app import create_app

    return create_app(Settings(url, host=host), assessor or shared_assessor())
