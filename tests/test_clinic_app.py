"""The clinic server in-process: health, patients, the intake form, results, compare, due list.

Each test runs on SQLite and, when a server is available, on PostgreSQL (tests/clinic_support).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clinic.models import Visit
from tests.clinic_support import Clinic, fresh_database, make_app


@pytest.fixture
def clinic(db_url: str) -> Iterator[Clinic]:
    with TestClient(make_app(db_url)) as client:
        yield Clinic(client)


def test_healthz_answers_ok(clinic: Clinic) -> None:
    response = clinic.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_the_app_serves_the_cds_hooks_service(clinic: Clinic) -> None:
    services = clinic.get("/cds-services").json()["services"]
    assert [(s["id"], s["hook"]) for s in services] == [("imbalance-msk", "patient-view")]


def test_patient_list_search_and_timeline(clinic: Clinic) -> None:
    ann = clinic.new_patient("Ann Example", ref="P-17")
    clinic.new_patient("Bob Other", ref="P-18")
    listing = clinic.get("/patients?q=ann").text
    assert "Ann Example" in listing and "Bob Other" not in listing
    assert "Bob Other" in clinic.get("/patients?q=p-18").text
    assert "No patient matches" in clinic.get("/patients?q=zzz").text
    clinic.new_visit(ann, {"f.low_back_pain": "yes"}, seen_on="2026-01-10")
    clinic.new_visit(ann, {"f.low_back_pain": "no"}, seen_on="2026-03-10")
    page = clinic.get(f"/patients/{ann}").text
    assert page.index("2026-03-10") < page.index("2026-01-10")  # newest first
    assert "Compare the last two visits" in page


def test_intake_not_asked_is_left_out_and_asked_groups_say_no(clinic: Clinic, db_url: str) -> None:
    pid = clinic.new_patient()
    form = clinic.get(f"/patients/{pid}/visits/new").text
    # every loose question defaults to "not asked"
    assert re.search(r'name="f\.night_pain" value="" checked', form) or "f.night_pain" in form
    assert 'value="" checked' in form
    vid = clinic.new_visit(pid, {"f.low_back_pain": "yes", "asked.neurological_warning_signs": "yes",
                                 "f.leg_pain_below_knee": "left", "f.sitting_hours_per_day": "9",
                                 "f.pain_duration_weeks": "6"})
    app = clinic.client.app
    with app.state.db.session() as session:
        visit = session.get(Visit, vid)
        assert visit is not None
        findings = visit.findings
    assert findings["low_back_pain"] is True
    assert findings["leg_pain_below_knee"] == "left"
    assert findings["sitting_hours_per_day"] == 9
    # the asked group's unticked items are "no"; a group not marked asked stays unknown
    assert findings["saddle_anaesthesia"] is False and findings["bladder_dysfunction"] is False
    assert "fever" not in findings and "night_pain" not in findings


def test_bad_input_comes_back_marked_never_500(clinic: Clinic) -> None:
    pid = clinic.new_patient()
    response = clinic.post(f"/patients/{pid}/visits/new", {
        "age": "460", "f.sitting_hours_per_day": "99", "f.low_back_pain": "perhaps",
        "f.leg_pain_below_knee": "middle", "seen_on": "yesterday", "f.low_back_pain_extra": "x"})
    assert response.status_code == 422
    page = response.text
    for name in ("age", "f-sitting_hours_per_day", "f-low_back_pain", "f-leg_pain_below_knee", "seen_on"):
        assert f'id="err-{name}"' in page
    assert page.count('aria-invalid="true"') >= 5
    assert 'value="99"' in page  # what was typed is shown again
    bad_patient = clinic.post("/patients/new", {"name": "", "birth_year": "17", "sex": "dragon"})
    assert bad_patient.status_code == 422
    assert 'id="err-name"' in bad_patient.text and 'id="err-birth_year"' in bad_patient.text


def test_visit_page_keeps_result_kb_version_and_author(clinic: Clinic) -> None:
    pid = clinic.new_patient()
    vid = clinic.new_visit(pid, {"f.saddle_anaesthesia": "yes", "f.low_back_pain": "yes"})
    page = clinic.get(f"/patients/{pid}/visits/{vid}").text
    kb_version = clinic.client.app.state.assessor.version
    assert page.index('id="red-flags"') < page.index("<h1>")  # red flags first
    assert "Do now:" in page and "EMERGENCY" in page.upper()
    assert kb_version in page and "local:" in page
    report = clinic.get(f"/patients/{pid}/visits/{vid}/report")
    assert report.status_code == 200
    assert "script-src 'none'" in report.headers["content-security-policy"]
    assert 'id="red-flags"' in report.text and kb_version in report.text


def test_compare_two_visits_highlights_changes(clinic: Clinic) -> None:
    pid = clinic.new_patient()
    first = clinic.new_visit(pid, {"f.low_back_pain": "yes", "f.sitting_hours_per_day": "9"},
                             seen_on="2026-01-05")
    second = clinic.new_visit(pid, {"f.low_back_pain": "yes", "f.sitting_hours_per_day": "3",
                                    "f.saddle_anaesthesia": "yes"}, seen_on="2026-02-05")
    page = clinic.get(f"/patients/{pid}/compare?a={first}&b={second}").text
    row = r'<tr( class="changed")?><th scope="row">([^<]+)</th><td>([^<]*)</td><td>([^<]*)</td>'
    rows = re.findall(row, page)
    by_label = {label: (bool(changed), a, b) for changed, label, a, b in rows}
    assert by_label["Sitting time"] == (True, "9 hours per day", "3 hours per day")
    assert by_label["Low back pain"] == (False, "yes", "yes")
    assert by_label["Triage"][0] and by_label["Triage"][2] == "emergency"
    assert "changed" in page and page.count('class="changed"') == sum(c for c, _, _ in by_label.values())


def test_due_for_review_lists_patients_past_their_review_date(clinic: Clinic) -> None:
    old = clinic.new_patient("Old Visit")
    recent = clinic.new_patient("Recent Visit")
    long_ago = (dt.date.today() - dt.timedelta(weeks=60)).isoformat()
    clinic.new_visit(old, {"f.low_back_pain": "yes"}, seen_on=long_ago)
    clinic.new_visit(recent, {"f.low_back_pain": "yes"})
    page = clinic.get("/due").text
    assert "Old Visit" in page and "Recent Visit" not in page and "overdue" in page
    assert "1 patient is due for review" in clinic.get("/patients").text
    clinic.new_visit(old, {"f.low_back_pain": "no"})  # seen again: no longer due
    assert "Old Visit" not in clinic.get("/due").text


def test_export_and_delete_one_patients_data(clinic: Clinic) -> None:
    keep = clinic.new_patient("Keep Me")
    gone = clinic.new_patient("Delete Me")
    clinic.new_visit(gone, {"f.low_back_pain": "yes"})
    clinic.new_visit(keep, {"f.low_back_pain": "yes"})
    export = clinic.get(f"/patients/{gone}/export")
    assert export.headers["content-disposition"].startswith("attachment")
    data = json.loads(export.text)
    assert data["patient"]["name"] == "Delete Me" and len(data["visits"]) == 1
    triage = data["visits"][0]["assessments"][0]["result"]["triage"]
    assert triage in ("routine", "soon", "urgent", "emergency")
    refused = clinic.post(f"/patients/{gone}/delete", {"confirm": "wrong name"})
    assert refused.status_code == 422
    assert clinic.post(f"/patients/{gone}/delete", {"confirm": "Delete Me"}).status_code == 303
    assert clinic.get(f"/patients/{gone}").status_code == 404
    assert "Keep Me" in clinic.get(f"/patients/{keep}").text
    assert "Keep Me" in clinic.get("/patients").text


def test_reassess_with_a_newer_kb_adds_an_assessment_and_shows_what_changed(
        db_url: str, write_files: Any) -> None:
    from clinic.assessing import Assessor

    with TestClient(make_app(db_url)) as client:  # the visit is assessed with the shipped KB
        old = Clinic(client)
        pid = old.new_patient()
        vid = old.new_visit(pid, {"f.low_back_pain": "yes", "f.sitting_hours_per_day": "9"})
        before = old.get(f"/patients/{pid}/visits/{vid}").text
        assert "Prolonged sitting" in before and "Re-assess" not in before
    layer = write_files({"knowledge_base.yaml": """
        knowledge_base: {name: test-clinic, version: "2027.1"}
        disable:
          - {rule: cause_sitting_six_hours, reason: this clinic judges sitting on its own pathway}
          - {rule: cause_sitting_eight_hours, reason: this clinic judges sitting on its own pathway}
        """})
    newer = Assessor((str(layer),))
    with TestClient(make_app(db_url, assessor=newer)) as client:  # the server now runs a newer KB
        clinic = Clinic(client)
        page = clinic.get(f"/patients/{pid}/visits/{vid}").text
        assert f"Re-assess with {newer.version}" in page
        assert clinic.post(f"/patients/{pid}/visits/{vid}/reassess").status_code == 303
        page = clinic.get(f"/patients/{pid}/visits/{vid}").text
        assert "What changed since the assessment with imbalance-kb" in page
        changes = page[page.index('id="changes"'):page.index('id="plan-title"')]
        assert "Prolonged sitting" in changes and "not reached" in changes
        assert "Re-assess" not in page  # now up to date
        with client.app.state.db.session() as session:
            visit = session.get(Visit, vid)
            assert visit is not None
            versions = [a.kb_version for a in visit.assessments]
        assert len(versions) == 2 and versions[1] == newer.version and versions[0] != newer.version
        first_report = clinic.get(f"/patients/{pid}/visits/{vid}/report?assessment=0").text
        assert newer.version in first_report  # the newest by default; the older stays reachable


FIELD_NAMES = ["age", "seen_on", "notes", "f.low_back_pain", "f.leg_pain_below_knee",
               "f.sitting_hours_per_day", "f.saddle_anaesthesia", "asked.neurological_warning_signs",
               "f.no_such_finding", "asked.nope"]


def test_no_form_input_gives_a_server_error(tmp_path: Any) -> None:
    """Whatever a browser (or anyone) posts to the forms, the answer is a page, never a 500."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    url = next(fresh_database("sqlite", tmp_path))
    with TestClient(make_app(url), raise_server_exceptions=False) as client:
        clinic = Clinic(client)
        pid = clinic.new_patient()
        values = st.one_of(st.text(max_size=30), st.sampled_from(["yes", "no", "left", "both", "1e309", "-1",
                                                                  "nan", "2026-02-30", "9" * 40]))
        forms = st.dictionaries(st.sampled_from(FIELD_NAMES), values, max_size=8)
        targets = st.sampled_from([f"/patients/{pid}/visits/new", "/patients/new", f"/patients/{pid}/consult",
                                   f"/patients/{pid}/delete"])

        @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(target=targets, form=forms, steps=st.one_of(st.just(""), st.text(max_size=40)))
        def post(target: str, form: dict[str, str], steps: str) -> None:
            response = clinic.post(target, {**form, "steps": steps, "name": form.get("notes", "x")})
            assert response.status_code < 500, (target, form, response.text[:300])

        post()
