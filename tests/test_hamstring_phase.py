"""Hamstring advice by phase (issue 11 item 6), as properties over random extra findings.

An acute posterior thigh injury is assessed and loaded gradually first: whatever else is true
(tight muscles, a previous strain, a crossed posture, running), day-2 advice never contains
Nordic curls, leg curls, stretching or foam rolling, and no muscle is listed to stretch. Sciatica
felt at the back of the thigh gets no hamstring loading or stretching at all.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.cases.case import case_from_data
from engine.inference.reasoner import Reasoner
from engine.kb.model import KnowledgeBase

LATE_PHASE = {"nordic_hamstring", "leg_curls", "stretching", "foam_rolling"}
HAMSTRING_LOADING = {"nordic_hamstring", "leg_curls"}
EXTRAS = ("tight_hamstrings", "tight_calves", "tight_hip_flexors", "positive_thomas_test",
          "positive_ober_test", "previous_hamstring_injury", "muscle_fatigue", "anterior_pelvic_tilt",
          "increased_lumbar_lordosis", "weak_gluteus_maximus", "weak_core", "runner",
          "skips_warm_up", "insufficient_recovery", "poor_running_form", "sprinting_sport",
          "forward_head_posture", "rounded_shoulders", "lateral_knee_pain", "weak_hip_abductors")


def _assess(kb: KnowledgeBase, reasoner: Reasoner, findings: dict[str, object]):
    data = {"patient": {"age": 23}, "findings": findings}
    return reasoner.assess(case_from_data(data, "hamstring", kb))


@settings(max_examples=80, deadline=None)
@given(extras=st.sets(st.sampled_from(EXTRAS)),
       context=st.sampled_from(("posterior_thigh_pain", "sprinting_sport", "buttock_pain")))
def test_acute_injury_gets_assessment_and_graded_loading_never_late_phase_work(
        kb: KnowledgeBase, reasoner: Reasoner, extras: set[str], context: str) -> None:
    findings = {"sudden_onset_during_sprint": True, context: True, **dict.fromkeys(extras, True)}
    result = _assess(kb, reasoner, findings)
    ids = {r.id for r in result.recommendations}
    assert "hamstring_acute_assessment" in ids
    assert "hamstring_early_graded_loading" in ids
    assert not ids & LATE_PHASE, ids & LATE_PHASE
    assert result.stretch == ()
    assert "hamstrings" not in result.strengthen


@settings(max_examples=60, deadline=None)
@given(extras=st.sets(st.sampled_from(EXTRAS)),
       root_sign=st.sampled_from(({"leg_pain_below_knee": "right"},
                                  {"positive_straight_leg_raise": True},
                                  {"leg_pain_below_knee": "left", "normal_neurological_exam": False})))
def test_sciatica_felt_in_the_thigh_gets_no_hamstring_loading(
        kb: KnowledgeBase, reasoner: Reasoner, extras: set[str], root_sign: dict[str, object]) -> None:
    findings = {"posterior_thigh_pain": True, **root_sign, **dict.fromkeys(extras, True)}
    result = _assess(kb, reasoner, findings)
    ids = {r.id for r in result.recommendations}
    assert "posterior_thigh_pain_from_the_back" in ids
    assert not ids & HAMSTRING_LOADING
    assert "hamstrings" not in result.strengthen and "hamstrings" not in result.stretch


def test_the_pain_free_athlete_still_gets_prevention(kb: KnowledgeBase, reasoner: Reasoner) -> None:
    result = _assess(kb, reasoner, {"sprinting_sport": True, "previous_hamstring_injury": True})
    assert "nordic_hamstring" in {r.id for r in result.recommendations}
