"""The vocabulary the public contract says the KB must define (shared/contract.md), by kind."""

from __future__ import annotations

import pytest


def words(text: str) -> list[str]:
    return text.split()


FINDINGS = words("""
low_back_pain neck_pain leg_pain_below_knee bilateral_leg_symptoms saddle_anaesthesia
bladder_dysfunction bowel_dysfunction progressive_neurological_deficit gait_disturbance fever
systemically_unwell urinary_tract_infection unexplained_weight_loss night_pain
constant_progressive_pain chest_pain arm_pain lateral_knee_pain pain_worse_downhill
anterior_knee_pain lateral_hip_pain buttock_pain psis_pain posterior_thigh_pain pain_worse_sitting
pain_duration_weeks history_of_cancer major_trauma minor_trauma osteoporosis long_term_steroid_use
iv_drug_use immunosuppression organ_transplant previous_hamstring_injury previous_injury
previous_surgery scoliosis leg_length_discrepancy postpartum anterior_pelvic_tilt
increased_lumbar_lordosis forward_head_posture rounded_shoulders scapular_winging
pelvic_drop_in_gait positive_thomas_test positive_ober_test positive_noble_test
positive_straight_leg_raise positive_fair_test laslett_positive_count normal_neurological_exam
weak_hip_abductors weak_gluteus_maximus weak_core weak_quadriceps weak_deep_neck_flexors
tight_hip_flexors tight_hamstrings tight_calves runner mileage_increase_pct downhill_running
worn_shoes sitting_hours_per_day sprinting_sport repetitive_motion one_sided_sport low_cadence
poor_running_form skips_warm_up insufficient_recovery muscle_fatigue
""")
NUMBERS = {"pain_duration_weeks", "laslett_positive_count", "mileage_increase_pct",
           "sitting_hours_per_day"}
RED_FLAGS = {"cauda_equina_syndrome": "emergency", "spinal_cord_compression": "emergency",
             "spinal_infection": "emergency", "spinal_fracture": "emergency",
             "spinal_malignancy": "urgent", "cardiac_event": "emergency"}
CONDITIONS = words("""it_band_syndrome si_joint_dysfunction sciatica piriformis_syndrome
lower_crossed_syndrome upper_crossed_syndrome layer_syndrome hamstring_strain_risk
patellofemoral_pain lumbar_spinal_stenosis greater_trochanteric_pain_syndrome
nonspecific_low_back_pain""")
CAUSES = words("""overuse training_load_error poor_form prolonged_sitting repetitive_motion
previous_injury structural_asymmetry worn_footwear muscle_weakness muscle_tightness inadequate_recovery""")
MUSCLES = words("""iliopsoas rectus_femoris lumbar_erector_spinae gluteus_maximus gluteus_medius
deep_abdominals upper_trapezius levator_scapulae pectoralis_major pectoralis_minor
deep_neck_flexors middle_trapezius lower_trapezius serratus_anterior tensor_fasciae_latae
iliotibial_band hamstrings quadriceps calves piriformis""")


@pytest.mark.parametrize("fid", FINDINGS)
def test_contract_finding_is_defined_with_a_question(kb, fid: str) -> None:
    finding = kb.findings[fid]
    assert finding.question.endswith("?")
    assert (finding.type == "number") == (fid in NUMBERS)


def test_laslett_count_ranges_over_five_tests(kb) -> None:
    finding = kb.findings["laslett_positive_count"]
    assert (finding.minimum, finding.maximum) == (0, 5)


def test_contract_conclusions_by_kind(kb) -> None:
    for cid, urgency in RED_FLAGS.items():
        assert kb.conclusions[cid].kind == "red_flag"
        assert kb.conclusions[cid].action_for(urgency)
    assert all(kb.conclusions[c].kind == "condition" for c in CONDITIONS)
    assert all(kb.conclusions[c].kind == "cause" for c in CAUSES)
    assert set(MUSCLES) <= set(kb.muscles)


def test_every_contract_red_flag_and_condition_is_reachable(kb) -> None:
    reachable = {rule.concludes for rule in kb.rules}
    assert set(RED_FLAGS) | set(CONDITIONS) | set(CAUSES) <= reachable
