"""The session: typed answers, back, red flags as they are raised, and the saved case file."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cases.case import parse_case
from engine.inference.reasoner import Reasoner
from engine.interview.planner import Planner
from engine.interview.session import Session, interpret, parse_resumable
from engine.kb.model import KnowledgeBase
from tests.interview_support import CLINIC, rules_kb


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return rules_kb(tmp_path_factory.mktemp("clinic") / "layer", CLINIC)


@pytest.fixture(scope="module")
def clinic_reasoner(clinic: KnowledgeBase) -> Reasoner:
    return Reasoner(clinic)


@pytest.mark.parametrize(("fid", "text", "kind", "value"), [
    ("fever", "yes", "answer", True),
    ("fever", " Y ", "answer", True),
    ("fever", "no", "answer", False),
    ("fever", "?", "why", None),
    ("fever", "why", "why", None),
    ("fever", "skip", "skip", None),
    ("fever", "back", "back", None),
    ("fever", "QUIT", "quit", None),
    ("fever", "help", "help", None),
    ("leg_pain_below_knee", "left", "answer", "left"),
    ("leg_pain_below_knee", "b", "answer", "bilateral"),  # 'b' is an answer, not back
    ("leg_pain_below_knee", "both", "answer", "bilateral"),
    ("leg_pain_below_knee", "yes", "answer", True),
    ("sex", "unknown", "answer", "unknown"),  # an enum value, not skip
    ("sex", "female", "answer", "female"),
    ("age", "45", "answer", 45),
    ("age", "45 years", "answer", 45),
    ("age", "45y", "answer", 45),
    ("sitting_hours_per_day", "7,5", "answer", 7.5),
    ("sitting_hours_per_day", "9 hours", "answer", 9),
    ("mileage_increase_pct", "30%", "answer", 30),
    ("mileage_increase_pct", "30 percent", "answer", 30),
])
def test_interpret_accepts_what_the_finding_wants(kb, fid, text, kind, value) -> None:
    reply = interpret(kb.findings[fid], text)
    assert (reply.kind, reply.value) == (kind, value)


@pytest.mark.parametrize(("fid", "text", "hint"), [
    ("fever", "maybe", "answer yes or no (or skip)"),
    ("fever", "", "type an answer (yes or no), or skip"),
    ("leg_pain_below_knee", "up", "answer yes, no, left, right or bilateral (or skip)"),
    ("sex", "f", "answer one of: female, male, other, unknown (or skip)"),
    ("age", "200", "200 is out of range; answer a number from 0 to 120 years (or skip)"),
    ("age", "-1", "-1 is out of range"),
    ("age", "45 kg", "give the number in years"),
    ("age", "forty", "answer a number from 0 to 120 years"),
    ("age", "nan", "out of range"),
    ("laslett_positive_count", "2.5.1", "answer a whole number from 0 to 5 tests"),
])
def test_interpret_never_raises_and_hints(kb, fid, text, hint) -> None:
    reply = interpret(kb.findings[fid], text)
    assert reply.kind == "invalid"
    assert hint in reply.hint


def test_back_undoes_the_last_answer_and_asks_it_again(clinic, clinic_reasoner) -> None:
    session = Session.start(clinic, clinic_reasoner, Planner(clinic, checklists=False))
    assert session.back() == ()
    first = session.next_question().finding.id
    session.answer(first, True)
    assert session.assessment().triage == "emergency"
    second = session.next_question().finding.id
    session.skip(second)
    assert session.number == 3
    (step,) = session.back()
    assert step.finding == second and step.skipped
    assert session.next_question().finding.id == second
    (step,) = session.back()
    assert (step.finding, step.value) == (first, True)
    assert session.number == 1 and session.facts == {}
    assert session.assessment().triage == "routine"
    assert session.next_question().finding.id == first
    session.answer(first, False)
    # the revised answer changes what follows: cauda equina is still being screened for
    assert (first, second) == ("saddle_anaesthesia", "history_of_cancer")
    assert session.next_question().finding.id == "low_back_pain"


def test_answer_reports_new_and_escalated_red_flags(clinic, clinic_reasoner) -> None:
    session = Session.start(clinic, clinic_reasoner)
    assert session.answer("low_back_pain", True) == []
    raised = session.answer("history_of_cancer", True)
    assert [(r.flag.id, r.flag.urgency, r.escalated) for r in raised] == [
        ("spinal_malignancy", "urgent", False)]
    assert "2 weeks" in raised[0].flag.action
    raised = session.answer("progressive_neurological_deficit", True)
    assert [(r.flag.id, r.flag.urgency, r.escalated) for r in raised] == [
        ("spinal_malignancy", "emergency", True)]
    assert session.answer("night_pain", True) == []  # nothing new


def test_age_and_sex_are_asked_as_findings_and_saved_in_the_patient_block(clinic,
                                                                         clinic_reasoner) -> None:
    session = Session.start(clinic, clinic_reasoner)
    session.answer("age", 61)
    session.answer("sex", "female")
    session.answer("lateral_hip_pain", True)
    session.skip("runner")
    assert session.findings == {"lateral_hip_pain": True}
    assert session.patient == {"age": 61, "sex": "female"}
    assert session.assessment().reached("greater_trochanteric_pain_syndrome") is not None
    text = session.case_text()
    assert "patient:\n  age: 61\n  sex: \"female\"\n" in text
    assert "  runner: null\n" in text
    case = parse_case(text, "saved.yaml", clinic)
    assert case.facts == {"lateral_hip_pain": True, "age": 61, "sex": "female"}


def test_resume_keeps_what_is_known_and_never_asks_it(clinic, clinic_reasoner) -> None:
    text = ("# an old comment\ndescription: Runner, lateral knee pain — right\n"
            "patient: {id: P-7, age: 34}\nfindings:\n  saddle_anaesthesia: false\n"
            "  low_back_pain: false\n  runner: null\n  history_of_cancer: false\n"
            "expect: {triage: routine}\n")
    case, nulls = parse_resumable(text, "old.yaml", clinic)
    assert nulls == {"runner"}
    session = Session.start(clinic, clinic_reasoner, case=case, noted_unknown=nulls)
    asked = []
    while (question := session.next_question()) is not None:
        asked.append(question.finding.id)
        if question.finding.type in ("boolean", "sided"):
            session.answer(question.finding.id, question.finding.id == "lateral_knee_pain")
        else:
            session.skip(question.finding.id)
    assert not {"saddle_anaesthesia", "low_back_pain", "history_of_cancer", "age"} & set(asked)
    assert "runner" in asked  # null means asked and not known then: asked again
    saved = session.case_text()
    again = parse_case(saved, "old.yaml", clinic)
    assert again.description == "Runner, lateral knee pain — right"
    assert again.expect == {"triage": "routine"}
    assert again.patient == {"id": "P-7", "age": 34}
    assert again.facts == {**case.facts, **session.facts}


def test_unknowns_noted_in_a_resumed_file_stay_null_until_answered(clinic, clinic_reasoner) -> None:
    case, nulls = parse_resumable("findings:\n  tight_calves: null\n  runner: null\n", "c.yaml", clinic)
    session = Session.start(clinic, clinic_reasoner, case=case, noted_unknown=nulls)
    session.answer("runner", True)
    text = session.case_text()
    assert "  tight_calves: null\n" in text and "  runner: true\n" in text


def test_saved_text_of_an_empty_session_is_a_valid_case(clinic, clinic_reasoner, tmp_path: Path) -> None:
    text = Session.start(clinic, clinic_reasoner).case_text()
    assert parse_case(text, "empty.yaml", clinic).facts == {}
