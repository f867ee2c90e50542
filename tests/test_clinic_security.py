"""Security of the clinic server: CSRF, login, session cookies, CSP, escaping, audit, rate limit."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select

from cli import main
from clinic.auth import add_user
from clinic.models import AuditEntry
from tests.clinic_support import Clinic, make_app

NASTY = '<script>alert("x")</script><img src=x onerror=alert(1)>&amp;"\''


@pytest.fixture
def remote(db_url: str) -> Iterator[Clinic]:
    """The app as it runs on a non-loopback host, with one user."""
    app = make_app(db_url, host="0.0.0.0")
    with app.state.db.session() as session:
        add_user(session, "dr.kay", "correct horse battery")
    with TestClient(app, base_url="https://clinic.test") as client:
        yield Clinic(client)


def login(clinic: Clinic, name: str = "dr.kay", password: str = "correct horse battery") -> Any:
    clinic.get("/login")
    return clinic.post("/login", {"name": name, "password": password, "next": "/patients"})


def test_every_form_post_needs_the_csrf_token(local: Clinic) -> None:
    pid = local.new_patient()
    vid = local.new_visit(pid, {"f.low_back_pain": "yes"})
    posts = ["/patients/new", f"/patients/{pid}/visits/new", f"/patients/{pid}/consult",
             f"/patients/{pid}/visits/{vid}/reassess", f"/patients/{pid}/delete", "/login", "/logout"]
    for path in posts:
        missing = local.post(path, {"name": "X", "confirm": "Ann Example"}, csrf=False)
        wrong = local.post(path, {"name": "X", "confirm": "Ann Example", "csrf_token": "forged"}, csrf=False)
        assert missing.status_code == 403, path
        assert wrong.status_code == 403, path
    assert "Ann Example" in local.get(f"/patients/{pid}").text  # the forged delete did nothing


def test_every_form_carries_a_csrf_token(local: Clinic) -> None:
    pid = local.new_patient()
    vid = local.new_visit(pid, {"f.low_back_pain": "yes"})
    for path in ("/patients/new", f"/patients/{pid}/visits/new", f"/patients/{pid}/consult",
                 f"/patients/{pid}/delete", f"/patients/{pid}", f"/patients/{pid}/visits/{vid}"):
        page = local.get(path).text
        for form in re.findall(r"<form[^>]*method=\"post\".*?</form>", page, re.S):
            assert 'name="csrf_token"' in form, path


def test_no_session_means_the_login_page_on_a_network_host(remote: Clinic) -> None:
    for path in ("/", "/patients", "/patients/1", "/due", "/patients/new"):
        response = remote.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login")
    assert remote.get("/healthz").json() == {"status": "ok"}
    assert login(remote, password="wrong password").status_code == 401
    response = login(remote)
    assert response.status_code == 303 and response.headers["location"] == "/patients"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" in cookie
    assert remote.get("/patients").status_code == 200
    remote.post("/logout")
    assert remote.get("/patients", follow_redirects=False).status_code == 303


def test_login_is_rate_limited(remote: Clinic) -> None:
    codes = [login(remote, password=f"guess {n}").status_code for n in range(7)]
    assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]
    assert login(remote).status_code == 429  # even the right password waits out the block


def test_login_does_not_redirect_off_site(remote: Clinic) -> None:
    remote.get("/login")
    response = remote.post("/login", {"name": "dr.kay", "password": "correct horse battery",
                                      "next": "//evil.example/"})
    assert response.headers["location"] == "/"


def test_pages_forbid_scripts(local: Clinic) -> None:
    pid = local.new_patient()
    for path in ("/patients", f"/patients/{pid}", "/login"):
        response = local.get(path)
        csp = response.headers["content-security-policy"]
        assert "script-src 'none'" in csp and "default-src 'none'" in csp
        assert "<script" not in response.text.lower()
        assert response.headers["x-content-type-options"] == "nosniff"


def test_every_patient_field_is_escaped(local: Clinic) -> None:
    pid = local.new_patient(NASTY, ref=NASTY, notes=NASTY)
    vid = local.new_visit(pid, {"f.low_back_pain": "yes"}, notes=NASTY, seen_on="2025-01-01")
    other = local.new_visit(pid, {"f.low_back_pain": "no"}, notes=NASTY, seen_on="2025-02-01")
    pages = ["/patients", f"/patients/{pid}", f"/patients/{pid}/visits/{vid}", f"/patients/{pid}/delete",
             f"/patients/{pid}/compare?a={vid}&b={other}", "/due", f"/patients/{pid}/visits/new",
             f"/patients/{pid}/consult", f"/patients/{pid}/visits/{vid}/report"]
    for path in pages:
        page = local.get(path).text
        assert "<script>" not in page and "<img src=x" not in page, path
        assert "&lt;script&gt;" in page, path


def test_the_audit_log_records_each_access(local: Clinic) -> None:
    pid = local.new_patient()
    vid = local.new_visit(pid, {"f.low_back_pain": "yes"})
    local.get(f"/patients/{pid}")
    local.get(f"/patients/{pid}/visits/{vid}")
    local.get(f"/patients/{pid}/visits/{vid}/report")
    local.get(f"/patients/{pid}/export")
    local.get(f"/patients/{pid}/delete")
    local.post(f"/patients/{pid}/delete", {"confirm": "Ann Example"})
    app = local.client.app
    with app.state.db.session() as session:
        log = [(e.action, e.patient_id, e.detail, e.user) for e in
               session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    actions = [(action, detail.split(" (")[0]) for action, patient, detail, _ in log if patient == pid]
    assert actions == [
        ("write", "created patient"), ("write", f"saved visit {vid}"),
        ("read", "patient timeline"), ("read", f"visit {vid} results"), ("read", f"visit {vid} report"),
        ("export", "exported all data as JSON"), ("read", "delete confirmation page"),
        ("delete", "deleted patient and 1 visit(s)")]
    assert all(user.startswith("local:") for *_, user in log)


def test_serve_refuses_a_network_host_without_users(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    result = CliRunner().invoke(main, ["serve", "--db", url, "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "refusing to listen on 0.0.0.0" in result.output and "imbalance users add" in result.output
    assert "Traceback" not in result.output


def test_users_add_hashes_with_argon2(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    runner = CliRunner()
    added = runner.invoke(main, ["users", "add", "dr.kay", "--db", url, "--password-stdin"],
                          input="a long passphrase\n")
    assert added.exit_code == 0, added.output
    again = runner.invoke(main, ["users", "add", "dr.kay", "--db", url], input="a long passphrase\n")
    assert again.exit_code == 2 and "already exists" in again.output
    short = runner.invoke(main, ["users", "add", "nurse", "--db", url], input="short\n")
    assert short.exit_code == 2 and "at least 8" in short.output
    from sqlalchemy import create_engine, text

    stored = create_engine(url).connect().execute(text("SELECT password_hash FROM users")).scalar_one()
    assert stored.startswith("$argon2id$") and "a long passphrase" not in stored
    listed = runner.invoke(main, ["users", "list", "--db", url])
    assert "dr.kay" in listed.output


def test_bad_database_url_is_one_clear_line(tmp_path: Any) -> None:
    result = CliRunner().invoke(main, ["serve", "--db", "mysql://x@y/z"])
    assert result.exit_code == 2 and "unsupported database URL scheme 'mysql'" in result.output
    result = CliRunner().invoke(main, ["serve", "--db", "postgresql://nobody@127.0.0.1:1/none"])
    assert result.exit_code == 2 and "cannot open the database" in result.output
    assert len(result.output.strip().splitlines()) == 1
