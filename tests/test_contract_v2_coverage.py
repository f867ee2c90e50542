"""Contract Version 2 vocabulary for issue 15 (shared/contract.md): each id is defined with the
right kind and type, asked with a question, and reachable by a rule."""

from __future__ import annotations

import pytest

from engine.kb.model import KnowledgeBase

SIDED = ("shoulder_pain", "groin_pain", "shoulder_passive_external_rotation_loss", "painful_arc",
         "hip_internal_rotation_loss", "pain_at_ischial_tuberosity")
NUMBERS = ("morning_stiffness_minutes", "back_pain_onset_age")
BOOLEANS = (
    "pulsatile_abdominal_mass", "smoker", "diabetes", "improves_with_exercise",
    "not_improved_by_rest", "wakes_second_half_of_night", "alternating_buttock_pain",
    "good_response_to_nsaids", "family_history_spondyloarthritis", "psoriasis", "uveitis",
    "inflammatory_bowel_disease", "enthesitis", "extension_sport",
    "calf_pain_walking_relieved_by_standing_still", "sudden_onset_during_sprint",
    "posterior_thigh_bruising", "palpable_hamstring_gap", "arthritis_history",
    "leg_pain_walking_relieved_by_sitting", "pain_lying_on_side",
    "pain_on_squatting_or_stairs", "pain_on_lumbar_extension", "absent_foot_pulses",
    "startback_leg_pain", "startback_shoulder_or_neck_pain",
    "startback_walks_short_distances_only", "startback_dresses_slowly",
    "startback_unsafe_to_be_active", "startback_worrying_thoughts", "startback_feels_terrible",
    "startback_not_enjoyed_things", "startback_very_bothersome",
)
RED_FLAGS = {"abdominal_aortic_aneurysm": "emergency", "hamstring_avulsion": "urgent"}
CONDITIONS = (
    "frozen_shoulder", "rotator_cuff_related_shoulder_pain", "hip_osteoarthritis",
    "axial_spondyloarthritis", "spondylolysis", "vascular_claudication",
    "proximal_hamstring_tendinopathy", "hamstring_strain",
)


@pytest.mark.parametrize("fid", (*SIDED, *NUMBERS, *BOOLEANS))
def test_v2_finding_is_defined_with_its_type_and_a_question(kb: KnowledgeBase, fid: str) -> None:
    finding = kb.findings[fid]
    expected = "sided" if fid in SIDED else "number" if fid in NUMBERS else "boolean"
    assert finding.type == expected
    assert finding.label and finding.question.endswith("?")
    assert any(fid in rule.findings_used() for rule in kb.rules), f"no rule reads {fid}"


def test_v2_red_flags_have_their_urgency_and_an_action(kb: KnowledgeBase) -> None:
    for cid, urgency in RED_FLAGS.items():
        flag = kb.conclusions[cid]
        assert flag.kind == "red_flag" and flag.urgency == urgency
        assert flag.action_for(urgency)
        assert any(r.concludes == cid and r.urgency in ("", urgency) for r in kb.rules)


def test_v2_conditions_are_reachable(kb: KnowledgeBase) -> None:
    reachable = {rule.concludes for rule in kb.rules}
    for cid in CONDITIONS:
        assert kb.conclusions[cid].kind == "condition"
        assert cid in reachable
