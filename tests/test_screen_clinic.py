"""The clinic's result page shows an incomplete red-flag screen under the triage line, with the
questions and a way back to answer them; a screened visit shows nothing. In-process (TestClient,
both database backends) and once in Debian's Chromium against `imbalance serve`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.inference.screen import Screen
from tests.browser_support import VIEWPORT
from tests.clinic_support import Clinic, fresh_database, make_app
from tests.test_clinic_storage import csrf_client, free_port, start_server

# the intake form's checklists, each marked asked with nothing ticked: every member is "no"
SCREEN_GROUPS = ("neurological_warning_signs", "infection_screen", "cancer_screen", "fracture_screen")
SCREENED_VISIT = {
    "f.low_back_pain": "yes", "f.pain_duration_weeks": "3", "age": "45",
    **{f"asked.{group}": "yes" for group in SCREEN_GROUPS},
    "f.multilevel_neurological_deficit": "no", "f.pulsatile_abdominal_mass": "no",
}


@pytest.fixture
def clinic(db_url: str) -> Iterator[Clinic]:
    with TestClient(make_app(db_url)) as client:
        yield Clinic(client)


def test_result_page_says_the_screen_is_incomplete_under_the_triage(clinic: Clinic) -> None:
    pid = clinic.new_patient()
    vid = clinic.new_visit(pid, {"f.low_back_pain": "yes"})
    page = clinic.get(f"/patients/{pid}/visits/{vid}").text
    assert page.index('id="triage"') < page.index('id="red-flag-screen"') < page.index('id="plan-title"')
    notice = page[page.index('id="red-flag-screen"'):page.index('id="plan-title"')]
    assert "Red-flag screen incomplete" in notice and "Saddle anaesthesia".lower() in notice
    assert "Suspected cauda equina syndrome" in notice and "Unknown is not &#39;no&#39;." in notice
    assert "before relying on ROUTINE" in notice
    assert f'href="/patients/{pid}/visits/new"' in notice and f'href="/patients/{pid}/consult"' in notice


def test_a_screened_visit_has_no_notice_and_a_flagged_one_lists_the_rest(clinic: Clinic) -> None:
    pid = clinic.new_patient(sex="male")
    vid = clinic.new_visit(pid, SCREENED_VISIT)
    page = clinic.get(f"/patients/{pid}/visits/{vid}").text
    assert "routine" in page.lower() and 'id="red-flag-screen"' not in page
    flagged = clinic.new_visit(pid, {"f.low_back_pain": "yes", "f.saddle_anaesthesia": "yes"})
    page = clinic.get(f"/patients/{pid}/visits/{flagged}").text
    notice = page[page.index('id="red-flag-screen"'):]
    assert page.index('id="red-flags"') < page.index('id="red-flag-screen"')
    assert "besides the red flags above" in notice and "ask these too" in notice
    assert "Suspected cauda equina syndrome:" not in notice[:notice.index("</ul>")]  # found, not unscreened


def test_a_result_stored_before_the_screen_existed_still_shows() -> None:
    assert Screen.from_dict(None) is None
    assert Screen.from_dict({"complete": True}) is None
    stored = {"complete": False, "unanswered": [{"red_flag": "x", "urgency": "urgent", "findings": ["a"]}]}
    screen = Screen.from_dict(stored)  # stored before `raised_at` existed: read as not found
    assert screen is not None
    assert screen.to_dict() == {"complete": False, "unanswered": [
        {"red_flag": "x", "urgency": "urgent", "findings": ["a"], "raised_at": None}]}
    found = {"complete": False, "unanswered": [
        {"red_flag": "x", "urgency": "emergency", "findings": ["a"], "raised_at": "soon"}]}
    again = Screen.from_dict(found)
    assert again is not None and again.to_dict() == found


def test_in_a_real_browser_the_notice_is_seen_and_leads_back_to_the_form(
        browser: Any, tmp_path: Path) -> None:
    url = next(fresh_database("sqlite", tmp_path))
    port = free_port()
    process = start_server(url, port)
    base = f"http://127.0.0.1:{port}"
    try:
        client, token = csrf_client(base)
        created = client.post("/patients/new", data={"csrf_token": token, "name": "Screen Test"})
        pid = int(created.headers["location"].rsplit("/", 1)[1])
        saved = client.post(f"/patients/{pid}/visits/new",
                            data={"csrf_token": token, "f.low_back_pain": "yes"})
        assert saved.status_code == 303, saved.text
        context = browser.new_context(viewport=VIEWPORT, java_script_enabled=False)
        page = context.new_page()
        page.goto(base + saved.headers["location"])
        notice = page.locator("#red-flag-screen")
        assert notice.is_visible()
        triage, box = page.locator("#triage").bounding_box(), notice.bounding_box()
        assert triage is not None and box is not None
        assert triage["y"] < box["y"] < VIEWPORT["height"], (triage, box)  # first screen
        assert re.search(r"saddle anaesthesia", notice.inner_text())
        shots = Path(os.environ.get("IMBALANCE_SHOTS") or tmp_path)  # for a person to look at
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / "clinic_visit_screen_incomplete.png"))
        page.locator("#red-flag-screen a", has_text="new visit").click()
        assert page.url.endswith(f"/patients/{pid}/visits/new")
        assert page.locator("#field-f-saddle_anaesthesia, [name='f.saddle_anaesthesia']").count()
        context.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
