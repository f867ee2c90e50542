"""The red-flag screen does not depend on where the pain was charted.

Property tests over the shipped KB: every sufficient pattern of every red flag (the contract's
flags and each flag seed 002 lists) raises its flag at least at its urgency whatever the pain
site (back, neck, thoracic, buttock, leg, or none recorded) and whatever benign findings come
with it; and taking the pain site away never lowers the triage. The one documented exception is
new bladder dysfunction, whose grading the GIRFT pathway ties to back or leg symptoms
(kb/rules/red_flags/cauda_equina.yaml): without them it stays raised, at `urgent`.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.cases.case import Case
from engine.inference.reasoner import Reasoner
from engine.kb.model import KnowledgeBase, urgency_rank

# (flag, name, patient, findings, minimum urgency): each is enough on its own.
PATTERNS: list[tuple[str, str, dict[str, Any], dict[str, Any], str]] = [
    ("cauda_equina_syndrome", "saddle anaesthesia", {}, {"saddle_anaesthesia": True}, "emergency"),
    ("cauda_equina_syndrome", "bowel dysfunction", {}, {"bowel_dysfunction": True}, "emergency"),
    ("cauda_equina_syndrome", "bladder dysfunction", {}, {"bladder_dysfunction": True}, "urgent"),
    ("cauda_equina_syndrome", "bladder and sexual dysfunction", {},
     {"bladder_dysfunction": True, "sexual_dysfunction": True}, "emergency"),
    ("cauda_equina_syndrome", "new symptoms in both legs", {},
     {"bilateral_leg_symptoms": True, "pain_duration_weeks": 1}, "emergency"),
    ("cauda_equina_syndrome", "worsening symptoms in both legs", {},
     {"bilateral_leg_symptoms": True, "progressive_neurological_deficit": True}, "emergency"),
    ("cauda_equina_syndrome", "symptoms in both legs", {}, {"bilateral_leg_symptoms": True}, "soon"),
    ("cauda_equina_syndrome", "sexual dysfunction", {}, {"sexual_dysfunction": True}, "urgent"),
    ("spinal_cord_compression", "multilevel deficit", {},
     {"multilevel_neurological_deficit": True}, "emergency"),
    ("spinal_cord_compression", "new gait disturbance", {}, {"gait_disturbance": True}, "emergency"),
    ("spinal_cord_compression", "progressive deficit (seed 002)", {},
     {"progressive_neurological_deficit": True}, "emergency"),
    ("spinal_cord_compression", "cancer with bladder dysfunction", {},
     {"history_of_cancer": True, "bladder_dysfunction": True}, "emergency"),
    ("spinal_infection", "fever (seed 002)", {}, {"fever": True}, "emergency"),
    ("spinal_infection", "very unwell (seed 002)", {}, {"systemically_unwell": True}, "emergency"),
    ("spinal_infection", "injecting drug use", {}, {"iv_drug_use": True}, "urgent"),
    ("spinal_infection", "transplant (seed 002)", {}, {"organ_transplant": True}, "urgent"),
    ("spinal_infection", "urinary infection (seed 002)", {}, {"urinary_tract_infection": True},
     "urgent"),
    ("spinal_infection", "immunosuppression", {}, {"immunosuppression": True}, "urgent"),
    ("spinal_infection", "recent infection", {}, {"recent_infection": True}, "urgent"),
    ("spinal_infection", "steroids with fever", {},
     {"long_term_steroid_use": True, "fever": True}, "emergency"),
    ("spinal_infection", "injecting drug use with fever", {},
     {"iv_drug_use": True, "fever": True}, "emergency"),
    ("spinal_fracture", "major trauma (seed 002)", {}, {"major_trauma": True}, "emergency"),
    ("spinal_fracture", "long-term steroids", {}, {"long_term_steroid_use": True}, "urgent"),
    ("spinal_fracture", "bruise over the spine", {}, {"back_contusion_or_abrasion": True}, "urgent"),
    ("spinal_fracture", "minor trauma in osteoporosis", {},
     {"minor_trauma": True, "osteoporosis": True}, "urgent"),
    ("spinal_fracture", "minor trauma at 75", {"age": 75}, {"minor_trauma": True}, "urgent"),
    ("spinal_fracture", "osteoporosis at 75", {"age": 75}, {"osteoporosis": True}, "urgent"),
    ("spinal_fracture", "74-year-old woman on steroids", {"age": 74, "sex": "female"},
     {"long_term_steroid_use": True, "osteoporosis": True}, "urgent"),
    ("spinal_malignancy", "past cancer (seed 002)", {}, {"history_of_cancer": True}, "urgent"),
    ("spinal_malignancy", "past cancer with a progressive deficit", {},
     {"history_of_cancer": True, "progressive_neurological_deficit": True}, "emergency"),
    ("spinal_malignancy", "weight loss (seed 002)", {}, {"unexplained_weight_loss": True}, "soon"),
    ("spinal_malignancy", "constant progressive pain (seed 002)", {},
     {"constant_progressive_pain": True}, "soon"),
    ("spinal_malignancy", "night pain over 50", {"age": 60}, {"night_pain": True}, "soon"),
    ("spinal_malignancy", "three weak flags", {"age": 62},
     {"night_pain": True, "constant_progressive_pain": True}, "urgent"),
    ("spinal_malignancy", "weight loss with night pain", {},
     {"unexplained_weight_loss": True, "night_pain": True}, "urgent"),
    ("cardiac_event", "chest and arm pain (seed 002)", {}, {"chest_pain": True, "arm_pain": True},
     "emergency"),
    ("cardiac_event", "chest pain", {}, {"chest_pain": True}, "urgent"),
]

SITES: dict[str, dict[str, Any]] = {
    "back": {"low_back_pain": True},
    "neck": {"neck_pain": True},
    "thoracic": {"thoracic_pain": True},
    "buttock": {"buttock_pain": "left"},
    "leg": {"leg_pain_below_knee": "right"},
    "none": {},
}

# Findings that describe a muscle-imbalance presentation and are no red flag.
BENIGN: dict[str, Any] = {
    "runner": True, "tight_hamstrings": True, "anterior_pelvic_tilt": True,
    "weak_hip_abductors": True, "sitting_hours_per_day": 9, "positive_ober_test": True,
    "pain_worse_downhill": True, "worn_shoes": True, "mileage_increase_pct": 30,
    "positive_thomas_test": True, "weak_core": True, "forward_head_posture": True,
    "rounded_shoulders": True, "previous_injury": True, "laslett_positive_count": 1,
    "positive_straight_leg_raise": False, "normal_neurological_exam": True,
    "lateral_knee_pain": "left", "pain_worse_sitting": True, "postpartum": False,
    "pain_duration_weeks": 8,
}

# Red-flag findings a clinician may have asked and found absent.
SCREENED: tuple[str, ...] = (
    "saddle_anaesthesia", "bladder_dysfunction", "bowel_dysfunction", "sexual_dysfunction",
    "bilateral_leg_symptoms", "progressive_neurological_deficit", "gait_disturbance", "fever",
    "systemically_unwell", "iv_drug_use", "immunosuppression", "organ_transplant",
    "recent_infection", "urinary_tract_infection", "history_of_cancer", "unexplained_weight_loss",
    "night_pain", "constant_progressive_pain", "major_trauma", "minor_trauma", "osteoporosis",
    "long_term_steroid_use", "back_contusion_or_abrasion", "chest_pain",
    "multilevel_neurological_deficit",
)

# Rules whose grading GIRFT ties to the presentation: new bladder dysfunction is an emergency
# with back or leg symptoms (or, as cord compression, with neck or thoracic pain), urgent alone.
SITE_GRADED = frozenset({"ces_bladder_with_back_or_leg_symptoms",
                         "cord_bladder_with_neck_or_thoracic_pain"})

PATTERN_IDS = [f"{flag}: {name}" for flag, name, *_ in PATTERNS]


def assess(reasoner: Reasoner, patient: dict[str, Any], findings: dict[str, Any]) -> Any:
    return reasoner.assess(Case("property", dict(patient), dict(findings)))


def urgency_of(result: Any, flag: str) -> str | None:
    found = result.reached(flag)
    return found.urgency if found is not None else None


def test_patterns_cover_every_red_flag_of_the_contract(kb: KnowledgeBase) -> None:
    contract = {"cauda_equina_syndrome", "spinal_cord_compression", "spinal_infection",
                "spinal_fracture", "spinal_malignancy", "cardiac_event"}
    assert contract <= {flag for flag, *_ in PATTERNS}
    for _flag, _name, _patient, findings, _level in PATTERNS:
        assert set(findings) <= set(kb.findings)


@pytest.mark.parametrize(("flag", "name", "patient", "findings", "level"), PATTERNS, ids=PATTERN_IDS)
@pytest.mark.parametrize("site", list(SITES))
def test_each_pattern_raises_its_flag_at_any_site(reasoner: Reasoner, flag: str, name: str,
                                                  patient: dict[str, Any], findings: dict[str, Any],
                                                  level: str, site: str) -> None:
    result = assess(reasoner, patient, {**SITES[site], **findings})
    got = urgency_of(result, flag)
    assert got is not None, f"{name} with {site} pain raises no {flag}"
    assert urgency_rank(got) <= urgency_rank(level), f"{name} ({site}): {got}, expected {level}"
    assert urgency_rank(result.triage) <= urgency_rank(level)
    assert result.reached(flag).action, f"{flag} at {got} says nothing to do"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pattern=st.sampled_from(PATTERNS), site=st.sampled_from(list(SITES)),
       benign=st.dictionaries(st.sampled_from(sorted(BENIGN)), st.none(), max_size=8),
       negatives=st.sets(st.sampled_from(SCREENED), max_size=8))
def test_pattern_with_benign_findings_still_raises(reasoner: Reasoner, pattern: tuple[Any, ...],
                                                   site: str, benign: dict[str, None],
                                                   negatives: set[str]) -> None:
    """Extra benign findings, and other red flags asked and found absent, never lower a flag."""
    flag, name, patient, findings, level = pattern
    extras = {fid: BENIGN[fid] for fid in benign}
    absent = {fid: False for fid in negatives if fid not in findings}
    case = {**extras, **absent, **SITES[site], **findings}
    if "pain_duration_weeks" in findings:
        case["pain_duration_weeks"] = findings["pain_duration_weeks"]
    result = assess(reasoner, patient, case)
    got = urgency_of(result, flag)
    assert got is not None and urgency_rank(got) <= urgency_rank(level), (name, site, case)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flags=st.dictionaries(st.sampled_from(SCREENED), st.booleans(), min_size=1, max_size=5),
       site=st.sampled_from([s for s in SITES if s != "none"]),
       age=st.one_of(st.none(), st.integers(18, 95)),
       sex=st.sampled_from([None, "female", "male"]))
def test_removing_the_pain_site_never_lowers_triage(reasoner: Reasoner, flags: dict[str, bool],
                                                    site: str, age: int | None,
                                                    sex: str | None) -> None:
    patient = {k: v for k, v in (("age", age), ("sex", sex)) if v is not None}
    with_site = assess(reasoner, patient, {**flags, **SITES[site]})
    without = assess(reasoner, patient, flags)
    assert bool(with_site.red_flags) <= bool(without.red_flags)
    if urgency_rank(without.triage) > urgency_rank(with_site.triage):
        lost = set(with_site.fired_rules) - set(without.fired_rules)
        assert lost & SITE_GRADED and flags.get("bladder_dysfunction") is True, (site, flags)
        assert without.triage == "urgent"
