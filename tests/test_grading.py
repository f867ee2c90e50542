"""Grading (issue 11, item 4): correlated findings count once and unvalidated signs alone never
reach strong support; layer syndrome is not graded as high evidence."""

from __future__ import annotations

from engine.authoring.rule_analysis import ceilings
from engine.kb.model import KnowledgeBase
from engine.wording import certainty_word

# conditions with no validated diagnostic test in the clinical notes: every rule rests on
# symptoms, unvalidated signs, risk factors or postural patterns
UNVALIDATED = ("it_band_syndrome", "piriformis_syndrome", "lower_crossed_syndrome",
               "upper_crossed_syndrome", "layer_syndrome", "greater_trochanteric_pain_syndrome")


def test_unvalidated_signs_alone_never_reach_strong_support(kb: KnowledgeBase) -> None:
    ceiling = ceilings(kb)
    for cid in UNVALIDATED:
        assert 0 < ceiling[cid] < 0.8, (cid, ceiling[cid])
        assert certainty_word(ceiling[cid]) != "strong support"


def test_noble_and_ober_are_one_group(kb: KnowledgeBase) -> None:
    readers = [r for r in kb.rules_concluding("it_band_syndrome")
               if {"positive_noble_test", "positive_ober_test"} & set(r.findings_used())]
    assert [r.id for r in readers] == ["itbs_noble_or_ober"]


def test_layer_syndrome_is_not_graded_high(kb: KnowledgeBase) -> None:
    rules = kb.rules_concluding("layer_syndrome")
    assert rules and all(r.evidence not in ("high", "moderate") for r in rules)
