"""The clinic's database: migrations from empty and from the previous schema, the models in step
with the migrations, and a server killed with SIGKILL while writing leaves a consistent database.

Each test runs on SQLite and, when a server is available, on PostgreSQL (tests/clinic_support).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time

import httpx
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

import clinic.cds_store  # noqa: F401  (registers the CDS Hooks tables on Base)
from clinic.db import Database, current_revision, migrate
from clinic.models import Base
from tests.clinic_support import make_app
from tests.conftest import SCRIPT

HEAD = "0005"


def test_migrations_from_an_empty_database_match_the_models(db_url: str) -> None:
    database = Database(db_url)
    migrate(database.engine)
    assert current_revision(database.engine) == HEAD
    tables = set(inspect(database.engine).get_table_names())
    assert {"users", "settings", "patients", "visits", "assessments", "audit_log"} <= tables
    with database.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    migrate(database.engine)  # running again on start changes nothing
    assert current_revision(database.engine) == HEAD
    database.dispose()


def test_migration_from_the_previous_schema_keeps_and_fills_data(db_url: str) -> None:
    database = Database(db_url)
    migrate(database.engine, "0001")
    now = dt.datetime(2026, 1, 2, 3, 4, 5)
    with database.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO patients (id, ref, name, birth_year, sex, notes, created_at, updated_at) "
            "VALUES (1, 'P-1', 'Old Record', 1970, 'female', '', :t, :t)"), {"t": now})
        for vid, review in ((1, {"after_weeks": 6, "why": "x"}), (2, None)):
            connection.execute(text(
                "INSERT INTO visits (id, patient_id, seen_on, method, age, findings, notes, created_by, "
                "created_at) VALUES (:v, 1, :d, 'form', 55, :f, '', 'dr.old', :t)"),
                {"v": vid, "d": dt.date(2026, 1, 1), "f": json.dumps({"low_back_pain": True}), "t": now})
            result = {"triage": "routine", "red_flags": [], "conditions": [], "causes": [],
                      "recommendations": [], **({"review": review} if review else {})}
            connection.execute(text(
                "INSERT INTO assessments (visit_id, kb_version, triage, result, report_html, created_by, "
                "created_at) VALUES (:v, 'imbalance-kb 2026.1.0', 'routine', :r, '<p>old</p>', 'dr.old', "
                ":t)"),
                {"v": vid, "r": json.dumps(result), "t": now})
    database.dispose()
    with TestClient(make_app(db_url)) as client:  # the app migrates on start
        assert current_revision(client.app.state.db.engine) == HEAD
        with client.app.state.db.engine.connect() as connection:
            due = dict(connection.execute(text("SELECT id, review_due FROM visits")).all())
        as_date = {k: v if isinstance(v, dt.date) else dt.date.fromisoformat(v) for k, v in due.items()}
        assert as_date == {1: dt.date(2026, 2, 12), 2: dt.date(2026, 7, 2)}  # 6 weeks; 26 by default
        page = client.get("/patients/1").text
        assert "Old Record" in page and "2026-01-01" in page
        assert "imbalance-kb 2026.1.0" in client.get("/patients/1/visits/1").text



def test_migration_from_0003_keeps_assessments_and_adds_an_empty_handout(db_url: str) -> None:
    database = Database(db_url)
    migrate(database.engine, "0003")
    now = dt.datetime(2026, 5, 6, 7, 8, 9)
    with database.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO patients (id, ref, name, birth_year, sex, notes, created_at, updated_at) "
            "VALUES (1, 'P-3', 'Before Handouts', 1980, 'male', '', :t, :t)"), {"t": now})
        connection.execute(text(
            "INSERT INTO visits (id, patient_id, seen_on, method, age, findings, notes, created_by, "
            "created_at, review_due) VALUES (1, 1, :d, 'form', 46, :f, '', 'dr.old', :t, :r)"),
            {"d": dt.date(2026, 5, 6), "f": json.dumps({"low_back_pain": True}), "t": now,
             "r": dt.date(2026, 6, 17)})
        connection.execute(text(
            "INSERT INTO assessments (id, visit_id, kb_version, triage, result, report_html, created_by, "
            "created_at) VALUES (1, 1, 'imbalance-kb 2026.5.0', 'routine', :r, '<p>report then</p>', "
            "'dr.old', :t)"), {"r": json.dumps({"triage": "routine", "red_flags": [], "conditions": [],
                                                "causes": [], "recommendations": []}), "t": now})
    database.dispose()
    with TestClient(make_app(db_url)) as client:  # the app migrates on start
        assert current_revision(client.app.state.db.engine) == HEAD
        with client.app.state.db.engine.connect() as connection:
            row = connection.execute(text(
                "SELECT kb_version, report_html, handout_html FROM assessments WHERE id = 1")).one()
        assert tuple(row) == ("imbalance-kb 2026.5.0", "<p>report then</p>", None)
        assert client.get("/patients/1/visits/1/report").text == "<p>report then</p>"
        sheet = client.get("/patients/1/visits/1/handout")  # another KB then: none can be made now
        assert sheet.status_code == 404 and "No handout kept" in sheet.text
        assert "Patient handout" in client.get("/patients/1/visits/1").text


def test_migration_from_0004_adds_an_empty_login_failure_table_and_keeps_the_rest(db_url: str) -> None:
    database = Database(db_url)
    migrate(database.engine, "0004")
    now = dt.datetime(2026, 6, 7, 8, 9, 10)
    with database.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO patients (id, ref, name, birth_year, sex, notes, created_at, updated_at) "
            "VALUES (1, 'P-4', 'Before Workers', 1975, 'female', '', :t, :t)"), {"t": now})
        connection.execute(text("INSERT INTO users (id, name, password_hash, created_at) "
                                "VALUES (1, 'dr.four', 'not-a-hash', :t)"), {"t": now})
    assert "login_failures" not in inspect(database.engine).get_table_names()
    database.dispose()
    with TestClient(make_app(db_url)) as client:  # the app migrates on start
        engine = client.app.state.db.engine
        assert current_revision(engine) == HEAD
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM login_failures")).scalar_one() == 0
            assert connection.execute(text("SELECT name FROM users")).scalars().all() == ["dr.four"]
            assert connection.execute(text("SELECT name FROM patients")).scalars().all() == [
                "Before Workers"]
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert token
        failed = client.post("/login", data={"csrf_token": token.group(1), "name": "dr.four",
                                             "password": "wrong password"})
        assert failed.status_code == 401
        with engine.connect() as connection:  # the limiter writes to the new table
            assert connection.execute(text("SELECT count(*) FROM login_failures")).scalar_one() == 2


# --- kill -9 while writing ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(db_url: str, port: int, workers: int = 1) -> subprocess.Popen[bytes]:
    """`imbalance serve` as a user starts it; its stderr goes to a file (a pipe nobody reads
    could fill up and stall the server), shown if it does not come up."""
    log = tempfile.TemporaryFile()  # noqa: SIM115  (lives as long as the server process)
    process = subprocess.Popen([str(SCRIPT), "serve", "--db", db_url, "--port", str(port),
                                "--workers", str(workers)], stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 180  # loading the KB takes seconds; far longer on a busy machine
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
        if process.poll() is not None:
            break
    process.kill()
    process.wait()
    log.seek(0)
    raise AssertionError(f"the server did not start: {log.read().decode(errors='replace')[-2000:]}")


def csrf_client(base: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base, timeout=30, follow_redirects=False)
    page = client.get("/patients/new").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    return client, token.group(1)


def test_kill_9_during_writes_leaves_the_database_consistent(db_url: str) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(db_url, port)
    acknowledged: list[int] = []
    stop = threading.Event()
    try:
        client, token = csrf_client(base)
        created = client.post("/patients/new", data={"csrf_token": token, "name": "Crash Test"})
        pid = int(created.headers["location"].rsplit("/", 1)[1])

        def writer() -> None:
            try:
                own, own_token = csrf_client(base)
            except httpx.HTTPError:
                return  # under load a writer may start only after the kill
            while not stop.is_set():
                try:
                    response = own.post(f"/patients/{pid}/visits/new", data={
                        "csrf_token": own_token, "f.low_back_pain": "yes", "f.sitting_hours_per_day": "8",
                        "asked.neurological_warning_signs": "yes"})
                except httpx.HTTPError:
                    return  # the server is gone
                if response.status_code == 303:
                    acknowledged.append(int(response.headers["location"].rsplit("/", 1)[1]))

        threads = [threading.Thread(target=writer) for _ in range(4)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(server.pid, signal.SIGKILL)  # mid-write: the writers are still posting
        server.wait(timeout=10)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        stop.set()
        if server.poll() is None:
            server.kill()
            server.wait()
    assert len(acknowledged) >= 5

    server = start_server(db_url, port)  # the restart migrates and opens the same file
    try:
        database = Database(db_url)
        with database.engine.connect() as connection:
            if database.engine.dialect.name == "sqlite":
                assert connection.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
                assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
            visits = {row[0] for row in connection.execute(text("SELECT id FROM visits"))}
            without = connection.execute(text(
                "SELECT v.id FROM visits v LEFT JOIN assessments a ON a.visit_id = v.id "
                "WHERE a.id IS NULL")).all()
            orphans = connection.execute(text(
                "SELECT a.id FROM assessments a LEFT JOIN visits v ON v.id = a.visit_id "
                "WHERE v.id IS NULL")).all()
            logged = {int(m.group(1)) for (detail,) in connection.execute(
                text("SELECT detail FROM audit_log WHERE action = 'write'"))
                if (m := re.match(r"saved visit (\d+)", detail))}
        database.dispose()
        assert set(acknowledged) <= visits  # nothing the server confirmed is lost
        assert without == [] and orphans == []  # no half-written visit
        assert logged == visits  # each visit's audit entry was written with it, never apart
        client, _ = csrf_client(f"http://127.0.0.1:{port}")
        assert client.get(f"/patients/{pid}").status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
