"""The incomplete red-flag screen in the outputs beyond the report: the patient handout never
reassures, the CDS Hooks card never reads as an all-clear, the FHIR RiskAssessment says it, and
`explain` says it whatever is explained.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from clinic.cds_fetch import PREFETCH_KEY
from engine.cases.case import Case
from engine.fhir.writer import response_from_case
from engine.inference.reasoner import Reasoner
from engine.kb.model import KnowledgeBase
from reports.cds_cards import cards_for
from reports.handout import build_handout, render_handout
from tests.cds_support import cds_app, hook_request
from tests.conftest import run_script
from tests.test_screen import ADULT, SCREENED_BACK

# low back pain with the two NICE non-specific rules met, but most of the screen never asked
PARTLY_SCREENED = {"low_back_pain": True, "leg_pain_below_knee": False,
                   "normal_neurological_exam": True, "saddle_anaesthesia": False,
                   "bladder_dysfunction": False, "fever": False, "history_of_cancer": False,
                   "major_trauma": False}


def _assess(reasoner: Reasoner, findings: dict[str, Any], patient: dict[str, Any] | None = None) -> Any:
    return reasoner.assess(Case("test", dict(patient or {}), dict(findings)))


def test_the_handout_never_reassures_while_the_screen_is_incomplete(reasoner: Reasoner) -> None:
    partly = _assess(reasoner, PARTLY_SCREENED)
    assert partly.conditions[0].id == "nonspecific_low_back_pain" and not partly.screen.complete
    sheet = build_handout(partly)
    assert sheet.screen and not sheet.about
    page = render_handout(partly, "today")
    assert "serious" not in page.split('id="screen"')[0]  # nothing above the notice
    assert "without signs of anything serious" not in page and "were not asked yet" in page
    whole = _assess(reasoner, {**SCREENED_BACK, "leg_pain_below_knee": False,
                               "normal_neurological_exam": True}, ADULT)
    assert whole.screen.complete
    done = build_handout(whole)
    assert not done.screen and done.about  # a screened case gets what we think is going on


def test_the_cds_card_of_an_unscreened_routine_case_is_not_an_all_clear(
        reasoner: Reasoner, kb: KnowledgeBase, tmp_path: Path) -> None:
    card = cards_for(_assess(reasoner, {"low_back_pain": True}), "https://x/report")[-1].card
    assert card["indicator"] == "info" and len(card["summary"]) <= 140
    assert card["summary"].startswith("ROUTINE, red-flag screen incomplete")
    assert "no red flag" not in card["summary"].lower()
    assert "**Red-flag screen incomplete: not asked about**" in card["detail"]
    assert card["detail"].index("Red-flag screen") < card["detail"].index("_Decision support")
    screened = cards_for(_assess(reasoner, SCREENED_BACK, ADULT), "https://x/report")[-1].card
    assert "incomplete" not in screened["summary"] and "Red-flag screen" not in screened["detail"]
    # through the service, from a QuestionnaireResponse that holds only the back pain
    response = json.loads(response_from_case(Case("t", {}, {"low_back_pain": True}), kb)
                          .model_dump_json(exclude_none=True))
    response["subject"] = {"reference": "Patient/1288992"}
    client = TestClient(cds_app(tmp_path / "clinic.sqlite3"))
    answer = client.post("/cds-services/imbalance-msk", json=hook_request({PREFETCH_KEY: response}))
    assert answer.status_code == 200, answer.text
    last = answer.json()["cards"][-1]
    assert last["indicator"] == "info" and "red-flag screen incomplete" in last["summary"]


def test_fhir_and_explain_say_it(tmp_path: Path) -> None:
    case = tmp_path / "back.json"
    case.write_text(json.dumps({"findings": {"low_back_pain": True}}), encoding="utf-8")
    bundle = json.loads(run_script("assess", str(case), "--format", "fhir").stdout)
    risk = next(e["resource"] for e in bundle["entry"]
                if e["resource"]["resourceType"] == "RiskAssessment")
    notes = [n["text"] for n in risk["note"]]
    assert notes[0].startswith("Triage: ROUTINE") and notes[1].startswith("Red-flag screen incomplete")
    text = run_script("explain", str(case), "cauda_equina_syndrome").stdout
    assert "Red-flag screen incomplete: not asked about saddle anaesthesia" in " ".join(text.split())
    data = json.loads(run_script("explain", str(case), "cauda_equina_syndrome", "--format",
                                 "json").stdout)
    assert data["screen"]["complete"] is False


def test_age_and_sex_are_asked_as_patient_details(reasoner: Reasoner) -> None:
    """A case without a patient block: the fracture screen needs age and sex, and the notice
    asks for them as the patient's details, not as bare 'age' and 'sex' among the symptoms."""
    from engine.wording import screen_notice

    result = _assess(reasoner, {"low_back_pain": True})
    notice = screen_notice(result.kb, result.screen, result.triage)
    assert "the patient's age" in notice and "the patient's sex" in notice
    assert ", age," not in notice and ", sex," not in notice
    with_patient = _assess(reasoner, {"low_back_pain": True}, ADULT)
    assert "the patient's age" not in screen_notice(with_patient.kb, with_patient.screen,
                                                    with_patient.triage)


def test_the_report_counts_found_flags_that_could_be_more_urgent_apart(tmp_path: Path) -> None:
    """Under the HTML report's summary the pointer line does not count a red flag already found
    (cauda equina syndrome at SOON) among the flags 'not screened'."""
    case = tmp_path / "case.json"
    case.write_text(json.dumps({"patient": {"age": 40, "sex": "male"}, "findings": {
        "low_back_pain": True, "bilateral_leg_symptoms": True}}), encoding="utf-8")
    out = tmp_path / "report.html"
    proc = run_script("report", str(case), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    html = out.read_text(encoding="utf-8")
    pointer = html[html.index('id="red-flag-screen-pointer"'):]
    pointer = pointer[:pointer.index("</p>")]
    assert "1 found could be more urgent" in pointer
    assert "found at SOON; could be EMERGENCY" in html
