"""The patient handout from the visit page: linked, stored per assessment, audited, and with a
red flag nothing but the referral and the safety-net.

Each test runs on SQLite and, when a server is available, on PostgreSQL (tests/clinic_support).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from clinic import audit
from clinic.models import Assessment, Visit
from tests.clinic_support import Clinic, make_app

ROUTINE = {"f.low_back_pain": "yes", "f.sitting_hours_per_day": "9",
           "asked.neurological_warning_signs": "yes", "f.weak_core": "yes"}
EMERGENCY = {"f.low_back_pain": "yes", "f.saddle_anaesthesia": "yes", "f.bladder_dysfunction": "yes",
             "f.weak_core": "yes", "f.sitting_hours_per_day": "9"}


@pytest.fixture
def clinic(db_url: str) -> Iterator[Clinic]:
    with TestClient(make_app(db_url)) as client:
        yield Clinic(client)


def assessments_of(clinic: Clinic, vid: int) -> list[tuple[int, str, str | None]]:
    with clinic.client.app.state.db.session() as session:
        visit = session.get(Visit, vid)
        assert visit is not None
        return [(a.id, a.kb_version, a.handout_html) for a in visit.assessments]


def steps_of(html: str) -> list[str]:
    plan = re.search(r'<ol class="steps">(.*?)</ol>', html, re.S)
    return re.findall(r"<li>", plan.group(1)) if plan else []


def test_the_visit_page_links_the_stored_handout_and_the_read_is_audited(clinic: Clinic) -> None:
    pid = clinic.new_patient("Hannah Out", ref="P-77")
    vid = clinic.new_visit(pid, ROUTINE)
    page = clinic.get(f"/patients/{pid}/visits/{vid}").text
    assert f'href="/patients/{pid}/visits/{vid}/handout"' in page and "Patient handout" in page
    answer = clinic.get(f"/patients/{pid}/visits/{vid}/handout")
    assert answer.status_code == 200
    assert "script-src 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["cache-control"] == "no-store"
    [(aid, _, stored)] = assessments_of(clinic, vid)
    assert stored is not None and answer.text == stored  # shown from the database, not re-made
    assert "Your advice sheet" in stored and "For P-77" in stored
    assert len(steps_of(stored)) >= 1 and 'id="referral"' not in stored
    assert "rule" not in stored.lower() and "certainty" not in stored.lower()
    with clinic.client.app.state.db.session() as session:
        details = [(e.action, e.detail) for e in audit.entries(session, pid)]
    assert ("read", f"visit {vid} handout (assessment {aid})") in details


def test_a_red_flag_visits_handout_has_the_referral_and_no_exercise(clinic: Clinic) -> None:
    pid = clinic.new_patient()
    vid = clinic.new_visit(pid, EMERGENCY)
    sheet = clinic.get(f"/patients/{pid}/visits/{vid}/handout").text
    assert 'id="referral"' in sheet and "Go to the nearest emergency department now" in sheet
    assert 'id="plan"' not in sheet and steps_of(sheet) == []
    assert "exercise" not in sheet.lower().replace("do not start any new exercise", "")
    routine = clinic.get(f"/patients/{pid}/visits/{clinic.new_visit(pid, ROUTINE)}/handout").text
    assert steps_of(routine)  # the same weak core without a red flag does get exercises


def test_an_old_assessments_handout_stays_what_it_was_after_reassessment(
        db_url: str, write_files: Any) -> None:
    from clinic.assessing import Assessor

    with TestClient(make_app(db_url)) as client:
        old = Clinic(client)
        pid = old.new_patient()
        vid = old.new_visit(pid, ROUTINE)
        given = old.get(f"/patients/{pid}/visits/{vid}/handout").text
    layer = write_files({"knowledge_base.yaml": """
        knowledge_base: {name: test-clinic, version: "2027.1"}
        disable:
          - {rule: cause_sitting_six_hours, reason: this clinic judges sitting on its own pathway}
          - {rule: cause_sitting_eight_hours, reason: this clinic judges sitting on its own pathway}
        """})
    with TestClient(make_app(db_url, assessor=Assessor((str(layer),)))) as client:
        clinic = Clinic(client)
        assert clinic.post(f"/patients/{pid}/visits/{vid}/reassess").status_code == 303
        (first, _, first_html), (second, version, second_html) = assessments_of(clinic, vid)
        assert version == client.app.state.assessor.version and first_html == given
        assert clinic.get(f"/patients/{pid}/visits/{vid}/handout?assessment={first}").text == given
        newest = clinic.get(f"/patients/{pid}/visits/{vid}/handout").text
        assert newest == second_html and newest != given
        page = clinic.get(f"/patients/{pid}/visits/{vid}").text
        assert f"/handout?assessment={first}" in page and f"/handout?assessment={second}" in page


def test_a_handout_from_before_migration_0004_is_made_once_with_the_same_kb_only(clinic: Clinic) -> None:
    pid = clinic.new_patient()
    vid = clinic.new_visit(pid, ROUTINE)
    [(aid, version, made_then)] = assessments_of(clinic, vid)
    engine = clinic.client.app.state.db.engine
    with engine.begin() as connection:  # as an assessment stored under revision 0003 looks
        connection.execute(text("UPDATE assessments SET handout_html = NULL WHERE id = :a"), {"a": aid})
    remade = clinic.get(f"/patients/{pid}/visits/{vid}/handout")
    assert remade.status_code == 200
    [(_, _, stored)] = assessments_of(clinic, vid)
    assert stored == remade.text and made_then is not None
    assert steps_of(stored) == steps_of(made_then)  # same KB, same findings: the same sheet
    without_time = re.compile(r'<p class="for">.*?</p>')
    assert without_time.sub("", stored) == without_time.sub("", made_then)
    with clinic.client.app.state.db.session() as session:
        assert ("write", f"stored the handout of assessment {aid} ({version})") in [
            (e.action, e.detail) for e in audit.entries(session, pid)]
    with engine.begin() as connection:  # made with another KB: no honest sheet can be made now
        connection.execute(text("UPDATE assessments SET handout_html = NULL, kb_version = 'imbalance-kb "
                                "1999.1.0' WHERE id = :a"), {"a": aid})
    refused = clinic.get(f"/patients/{pid}/visits/{vid}/handout")
    assert refused.status_code == 404
    assert "No handout kept" in refused.text and "imbalance-kb 1999.1.0" in refused.text
    with clinic.client.app.state.db.session() as session:
        assessment = session.get(Assessment, aid)
        assert assessment is not None and assessment.handout_html is None


def test_no_handout_for_a_visit_of_another_patient(clinic: Clinic) -> None:
    ann, bob = clinic.new_patient("Ann"), clinic.new_patient("Bob")
    vid = clinic.new_visit(ann, ROUTINE)
    assert clinic.get(f"/patients/{bob}/visits/{vid}/handout").status_code == 404
    assert clinic.get(f"/patients/{ann}/visits/{vid + 99}/handout").status_code == 404
