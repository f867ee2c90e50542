"""The step-by-step consultation in the browser's forms: the interview's planner, red-flag
screen first, one question per page, back and skip, and saving the visit."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clinic.models import Visit
from engine.interview.planner import Planner
from engine.interview.session import Session
from tests.clinic_support import Clinic, consult_steps, fresh_database, make_app, shared_assessor


@pytest.fixture
def clinic(tmp_path: Any) -> Iterator[Clinic]:
    url = next(fresh_database("sqlite", tmp_path))
    with TestClient(make_app(url)) as client:
        yield Clinic(client)


def question_names(page: str) -> list[str]:
    return sorted(set(re.findall(r'name="f\.([a-z0-9_]+)"', page)))


def test_first_page_is_the_red_flag_screen_as_the_terminal_asks_it(clinic: Clinic) -> None:
    pid = clinic.new_patient()
    page = clinic.get(f"/patients/{pid}/consult").text
    # the body chart opens the screen, headed as a site question (engine.wording.SITE_QUESTION)
    assert "· Where it hurts: this decides which questions follow</p>" in page
    assessor = shared_assessor()
    session = Session.start(assessor.kb, assessor.reasoner, Planner(assessor.kb))
    session.patient.update({"sex": "female"})
    question = session.next_question()
    assert question is not None
    assert question_names(page) == sorted(f.id for f in question.findings)


def test_answer_back_skip_and_save(clinic: Clinic) -> None:
    pid = clinic.new_patient()
    page = clinic.get(f"/patients/{pid}/consult").text
    first_names = question_names(page)
    # a checklist: tick the first item; unticked ones become "no"
    answer = {"steps": consult_steps(page), f"f.{first_names[0]}": "yes", "action": "answer"}
    second = clinic.post(f"/patients/{pid}/consult", answer)
    assert second.status_code == 200
    assert question_names(second.text) != first_names
    assert "· Where it hurts: " in second.text  # then the other sites (shoulder, groin)
    back = clinic.post(f"/patients/{pid}/consult", {"steps": consult_steps(second.text), "action": "back"})
    assert question_names(back.text) == first_names and consult_steps(back.text) == "[]"
    skipped = clinic.post(f"/patients/{pid}/consult", {"steps": "[]", "action": "skip"})
    state = consult_steps(skipped.text)
    assert all(name in state for name in first_names)  # recorded as not known
    saved = clinic.post(f"/patients/{pid}/consult", {"steps": consult_steps(second.text), "action": "save"})
    assert saved.status_code == 303
    vid = int(saved.headers["location"].rsplit("/", 1)[1])
    with clinic.client.app.state.db.session() as session:
        visit = session.get(Visit, vid)
        assert visit is not None and visit.method == "consultation"
        findings = dict(visit.findings)
    ticked = next(name for name in first_names)
    assert findings[ticked] in (True, "left", "right", "bilateral")
    assert all(findings[name] is False for name in first_names if name != ticked
               and clinic.client.app.state.assessor.kb.findings[name].type == "boolean")


def test_an_emergency_shows_its_action_at_once(clinic: Clinic) -> None:
    pid = clinic.new_patient()
    page = clinic.get(f"/patients/{pid}/consult").text
    steps = consult_steps(page)
    for _ in range(6):  # walk the screen until the cauda equina items are on the page
        if "f.saddle_anaesthesia" in page:
            break
        page = clinic.post(f"/patients/{pid}/consult", {"steps": steps, "action": "skip"}).text
        steps = consult_steps(page)
    assert "f.saddle_anaesthesia" in page
    raised = clinic.post(f"/patients/{pid}/consult", {"steps": steps, "f.saddle_anaesthesia": "yes",
                                                       "f.bladder_dysfunction": "yes"}).text
    assert raised.index('id="red-flags"') < raised.index("<h1>")
    assert "Do now:" in raised and "(just raised)" in raised


def test_an_unanswered_question_is_asked_again_with_a_message(clinic: Clinic) -> None:
    pid = clinic.new_patient()
    page = clinic.get(f"/patients/{pid}/consult").text
    steps = consult_steps(page)
    while "type=\"radio\"" not in page and "type=\"number\"" not in page:
        page = clinic.post(f"/patients/{pid}/consult", {"steps": steps, "action": "skip"}).text
        steps = consult_steps(page)
    again = clinic.post(f"/patients/{pid}/consult", {"steps": steps, "action": "answer"})
    assert again.status_code == 422 and "choose an answer" in again.text
    assert question_names(again.text) == question_names(page)


@pytest.mark.parametrize("state", ["not json", '{"a": 1}', '[[{"no_such_finding": true}, []]]',
                                   '[[{"low_back_pain": 7}, []]]', '[[{}, ["nope"]]]'])
def test_a_damaged_state_is_refused_cleanly(clinic: Clinic, state: str) -> None:
    pid = clinic.new_patient()
    response = clinic.post(f"/patients/{pid}/consult", {"steps": state, "action": "answer"})
    assert response.status_code == 400 and "start the consultation again" in response.text
