"""More than one server process: the login limiter counts in the database (every worker sees the
same failures), the session secret is shared, and `serve --workers 2` really starts two worker
processes and serves from them (SQLite always, PostgreSQL when a server is available)."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select

from clinic.app import session_secret
from clinic.auth import KEY_CHARS, LoginLimiter, add_user
from clinic.db import Database, migrate
from clinic.models import AuditEntry, LoginFailure
from tests.clinic_support import Clinic, make_app
from tests.conftest import SCRIPT
from tests.test_clinic_storage import free_port, start_server

PASSWORD = "correct horse battery"


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 4, 5, 6, 7)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = Database(db_url)
    migrate(db.engine)
    yield db
    db.dispose()


def test_the_limiter_blocks_after_five_failures_until_the_window_has_passed(database: Database) -> None:
    clock = Clock()
    limiter = LoginLimiter(database, attempts=5, window=300, clock=clock)
    for _ in range(4):
        limiter.failed("name:ann", "addr:10.0.0.1")
        assert limiter.blocked("name:ann", "addr:10.0.0.1") == 0
    limiter.failed("name:ann", "addr:10.0.0.1")
    assert limiter.blocked("name:ann") == 300
    assert limiter.blocked("addr:10.0.0.1", "name:bob") == 300  # any blocked key blocks
    assert limiter.blocked("name:bob", "addr:10.0.0.2") == 0
    clock.now += dt.timedelta(seconds=120)
    assert limiter.blocked("name:ann") == 180
    clock.now += dt.timedelta(seconds=181)
    assert limiter.blocked("name:ann") == 0
    limiter.failed("name:other")  # a new failure forgets those older than the window
    with database.session() as session:
        assert session.scalars(select(LoginFailure.key)).all() == ["name:other"]


def test_a_success_clears_the_keys_and_a_long_name_is_stored_hashed(database: Database) -> None:
    limiter = LoginLimiter(database, attempts=2, window=300, clock=Clock())
    essay = "name:" + "x" * 5000  # would not fit the column: kept as its hash
    limiter.failed(essay, "addr:10.0.0.1")
    limiter.failed(essay, "addr:10.0.0.1")
    assert limiter.blocked(essay) == 300
    with database.session() as session:
        assert max(map(len, session.scalars(select(LoginFailure.key)))) <= KEY_CHARS
    limiter.succeeded(essay, "addr:10.0.0.1")
    assert limiter.blocked(essay, "addr:10.0.0.1") == 0


def login(clinic: Clinic, password: str) -> int:
    clinic.get("/login")
    response = clinic.post("/login", {"name": "dr.kay", "password": password, "next": "/"})
    return int(response.status_code)


def test_two_app_instances_on_one_database_share_the_limit_and_the_session_secret(db_url: str) -> None:
    one, two = make_app(db_url, host="0.0.0.0"), make_app(db_url, host="0.0.0.0")
    with one.state.db.session() as session:
        add_user(session, "dr.kay", PASSWORD)
    assert session_secret(one.state.db) == session_secret(two.state.db)
    with TestClient(one, base_url="https://clinic.test") as a, \
            TestClient(two, base_url="https://clinic.test") as b:
        first, second = Clinic(a), Clinic(b)
        assert login(first, PASSWORD) == 303
        assert b.get("/patients", follow_redirects=False).status_code == 303  # b has no session yet
        for name, value in a.cookies.items():  # the cookie one instance signed ...
            b.cookies.set(name, value)
        assert b.get("/patients", follow_redirects=False).status_code == 200  # ... the other reads
        a.cookies.clear()
        b.cookies.clear()
        codes = [login(first if n % 2 else second, f"guess {n}") for n in range(5)]
        assert codes == [401] * 5  # five failures, spread over the two instances
        assert login(first, "guess 5") == 429 and login(second, "guess 6") == 429
        assert login(second, PASSWORD) == 429  # even the right password waits out the block


def worker_pids(server: subprocess.Popen[bytes]) -> list[int]:
    from bench.clinic_bench import descendants

    return [pid for pid in descendants(server.pid)
            if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")]


def test_serve_with_two_workers_starts_them_and_shares_limit_and_audit(db_url: str) -> None:
    added = subprocess.run([str(SCRIPT), "users", "add", "dr.kay", "--db", db_url, "--password-stdin"],
                           input=PASSWORD + "\n", capture_output=True, text=True, timeout=120)
    assert added.returncode == 0, added.stderr
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(db_url, port, workers=2)
    try:
        assert len(worker_pids(server)) == 2

        def attempt(password: str) -> httpx.Response:
            with httpx.Client(base_url=base, timeout=30) as fresh:  # a new connection each time
                page = fresh.get("/login").text
                token = re.search(r'name="csrf_token" value="([^"]+)"', page)
                assert token
                return fresh.post("/login", data={"csrf_token": token.group(1), "name": "dr.kay",
                                                  "password": password, "next": "/"})

        assert [attempt(f"guess {n}").status_code for n in range(7)] == [401] * 5 + [429] * 2
        # A logged-in session works on whichever worker takes the next connection.
        database = Database(db_url)
        with database.session() as session:
            session.execute(delete(LoginFailure))  # the block lifted
        ok = attempt(PASSWORD)
        assert ok.status_code == 303
        cookies = dict(ok.cookies)
        with httpx.Client(base_url=base, timeout=30, cookies=cookies) as clinician:
            page = clinician.get("/patients/new").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page)
            assert token
            made = clinician.post("/patients/new", data={"csrf_token": token.group(1), "name": "Two Workers"})
            pid = int(made.headers["location"].rsplit("/", 1)[1])
            saved = clinician.post(f"/patients/{pid}/visits/new", data={
                "csrf_token": token.group(1), "f.low_back_pain": "yes"})
            vid = int(saved.headers["location"].rsplit("/", 1)[1])
        for _ in range(10):
            with httpx.Client(base_url=base, timeout=30, cookies=cookies) as reader:
                assert reader.get(f"/patients/{pid}/visits/{vid}").status_code == 200
        with database.session() as session:
            reads = session.scalar(select(func.count()).select_from(AuditEntry).where(
                AuditEntry.detail == f"visit {vid} results"))
        assert reads == 10
        database.dispose()
    finally:
        server.terminate()
        server.wait(timeout=60)


def test_serve_with_workers_reports_a_broken_kb_folder_before_starting_them(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli import main

    broken = tmp_path / "kb"
    broken.mkdir()
    (broken / "bad.yaml").write_text("rules:\n  - id: [oops\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--kb", str(broken), "serve", "--db", str(tmp_path / "db.sqlite3"),
                                       "--port", str(free_port()), "--workers", "2"])
    assert result.exit_code == 2
    assert "bad.yaml:2" in result.output and "Traceback" not in result.output
