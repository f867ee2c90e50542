"""The result page keeps the rendering of what never changes (clinic/result_page.py), and still
checks the login, finds the record in the database and writes an audit row on every request."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup
from sqlalchemy import select

from clinic.auth import add_user
from clinic.models import AuditEntry
from clinic.result_page import PartsCache, ResultParts
from tests.clinic_support import Clinic, make_app

RED_FLAG = {"f.low_back_pain": "yes", "f.saddle_anaesthesia": "yes", "f.bladder_dysfunction": "yes"}
ROUTINE = {"f.anterior_knee_pain": "bilateral", "f.pain_on_squatting_or_stairs": "yes"}
# a red flag's action on the page (the red-flag screen notice also says "Do now", in plain text)
FLAG_ACTION = "<strong>Do now:</strong>"


def reads_of(clinic: Clinic, pid: int) -> list[str]:
    with clinic.client.app.state.db.session() as session:
        return [e.detail for e in session.scalars(
            select(AuditEntry).where(AuditEntry.patient_id == pid, AuditEntry.action == "read")
            .order_by(AuditEntry.id))]


def main_part(html: str) -> str:
    """The page without the session's CSRF token (the one part that may differ per request)."""
    return re.sub(r'name="csrf_token" value="[^"]+"', "", html)


def test_every_read_of_a_cached_page_is_audited(local: Clinic) -> None:
    pid = local.new_patient()
    vid = local.new_visit(pid, RED_FLAG)
    cache: PartsCache = local.client.app.state.result_parts
    pages = [local.get(f"/patients/{pid}/visits/{vid}") for _ in range(3)]
    assert [p.status_code for p in pages] == [200] * 3
    assert cache.misses == 1 and cache.hits == 2  # rendered once, then served from the cache
    assert main_part(pages[0].text) == main_part(pages[2].text)
    assert pages[2].text.index('id="red-flags"') < pages[2].text.index("<h1>")  # still first
    assert "Do now:" in pages[2].text
    assert reads_of(local, pid) == [f"visit {vid} results"] * 3


def test_a_visit_is_found_only_under_its_own_patient(local: Clinic) -> None:
    first, second = local.new_patient("Ann Example"), local.new_patient("Bob Other")
    vid = local.new_visit(first, RED_FLAG)
    assert local.get(f"/patients/{first}/visits/{vid}").status_code == 200  # now cached
    wrong = local.get(f"/patients/{second}/visits/{vid}")
    assert wrong.status_code == 404 and FLAG_ACTION not in wrong.text
    assert reads_of(local, second) == []


def test_a_deleted_patient_is_gone_and_a_reused_id_shows_the_new_visit(local: Clinic, db_url: str) -> None:
    pid = local.new_patient("Ann Example")
    vid = local.new_visit(pid, RED_FLAG)
    assert FLAG_ACTION in local.get(f"/patients/{pid}/visits/{vid}").text  # cached
    assert local.post(f"/patients/{pid}/delete", {"confirm": "Ann Example"}).status_code == 303
    assert local.get(f"/patients/{pid}/visits/{vid}").status_code == 404
    new_pid = local.new_patient("Cat Later")
    new_vid = local.new_visit(new_pid, ROUTINE)
    if db_url.startswith("sqlite"):  # SQLite hands out the deleted rows' ids again: the real risk
        assert (new_pid, new_vid) == (pid, vid)
    page = local.get(f"/patients/{new_pid}/visits/{new_vid}").text
    assert "Cat Later" in page and FLAG_ACTION not in page and 'id="red-flags"' not in page
    assert "Patellofemoral" in page or "patellofemoral" in page


@pytest.fixture
def remote(db_url: str) -> Iterator[tuple[Any, str]]:
    app = make_app(db_url, host="0.0.0.0")
    with app.state.db.session() as session:
        add_user(session, "dr.kay", "correct horse battery")
        add_user(session, "dr.lee", "another good password")
    yield app, "https://clinic.test"


def logged_in(app: Any, base: str, name: str, password: str) -> Clinic:
    clinic = Clinic(TestClient(app, base_url=base))
    clinic.get("/login")
    assert clinic.post("/login", {"name": name, "password": password, "next": "/"}).status_code == 303
    clinic.get("/patients/new")  # a fresh session after login: take its CSRF token
    return clinic


def test_a_cached_page_still_needs_a_session_on_a_network_host(remote: tuple[Any, str]) -> None:
    app, base = remote
    with TestClient(app, base_url=base):  # runs the app's start-up once for the clients below
        kay = logged_in(app, base, "dr.kay", "correct horse battery")
        pid = kay.new_patient()
        vid = kay.new_visit(pid, RED_FLAG)
        path = f"/patients/{pid}/visits/{vid}"
        assert "Do now:" in kay.get(path).text
        stranger = TestClient(app, base_url=base)
        refused = stranger.get(path, follow_redirects=False)
        assert refused.status_code == 303 and refused.headers["location"].startswith("/login")
        assert "Do now:" not in refused.text
        kay.post("/logout")
        assert kay.get(path, follow_redirects=False).status_code == 303
        lee = logged_in(app, base, "dr.lee", "another good password")
        page = lee.get(path).text
        assert app.state.result_parts.hits >= 1
        assert '<span class="who">dr.lee</span>' in page and '<span class="who">dr.kay</span>' not in page
        assert lee.token and lee.token in page  # the form carries this session's own token
        with app.state.db.session() as session:
            readers = [e.user for e in session.scalars(select(AuditEntry).where(
                AuditEntry.detail == f"visit {vid} results").order_by(AuditEntry.id))]
        assert readers == ["dr.kay", "dr.lee"]  # the refused requests read nothing


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 20), max_size=200), st.integers(1, 8))
def test_the_parts_cache_never_holds_more_than_its_size(keys: list[int], size: int) -> None:
    cache = PartsCache(size)
    for key in keys:
        if cache.get((key,)) is None:
            cache.put((key,), ResultParts(Markup(str(key)), Markup("")))
        assert len(cache._items) <= size
    assert cache.hits + cache.misses == len(keys)
    if keys:  # the newest is always kept, and holds what was put under its key
        assert cache.get((keys[-1],)) == ResultParts(Markup(str(keys[-1])), Markup(""))
