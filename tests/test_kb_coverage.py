"""The shipped knowledge base is complete and consistent, not just loadable.

Fails when a finding is used by no rule; when a red flag, condition, cause, muscle or
recommendation can be reached by no rule (statically) or by no case test (actually);
when a rule lacks a firing case or a near miss; when a red flag has no action for an urgency
its rules give; and when the red-flag certainty convention that the advice rules rely on
(urgent or emergency <=> certainty >= 0.5) is broken for any combination of answers.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from engine.inference.assessment import Assessment
from engine.inference.premises import Evaluator, combine
from engine.inference.reasoner import Reasoner
from engine.kb import model as m
from engine.kb.model import KnowledgeBase
from engine.testing.casetests import case_of

REFERRAL_THRESHOLD = 0.5  # see kb/conclusions/red_flags.yaml and kb/rules/advice/1_red_flags.yaml
EVIDENCE_RANK = {"expert_opinion": 0, "low": 1, "moderate": 2, "high": 3}


@pytest.fixture(scope="module")
def case_results(kb: KnowledgeBase, reasoner: Reasoner) -> list[Assessment]:
    return [reasoner.assess(case_of(test)) for test in kb.tests]


def test_every_finding_is_used_by_a_rule(kb: KnowledgeBase) -> None:
    used = {fid for rule in kb.rules for fid in rule.findings_used()}
    assert sorted(set(kb.findings) - used) == []


def test_every_conclusion_is_concluded_by_a_rule(kb: KnowledgeBase) -> None:
    assert sorted(c for c in kb.conclusions if not kb.rules_concluding(c)) == []


def test_every_muscle_and_recommendation_is_given_by_a_rule(kb: KnowledgeBase) -> None:
    muscles = {mid for rule in kb.rules for mid in (*rule.stretch, *rule.strengthen)}
    advice = {rid for rule in kb.rules for rid in rule.recommend}
    assert sorted(set(kb.muscles) - muscles) == []
    assert sorted(set(kb.recommendations) - advice) == []


def test_every_conclusion_muscle_and_recommendation_is_reached_by_a_case(
        kb: KnowledgeBase, case_results: list[Assessment]) -> None:
    reached = {r.id for a in case_results for r in (*a.red_flags, *a.conditions, *a.causes)}
    muscles = {mid for a in case_results for mid in (*a.stretch, *a.strengthen)}
    advice = {adv.id for a in case_results for adv in a.recommendations}
    assert sorted(set(kb.conclusions) - reached) == []
    assert sorted(set(kb.muscles) - muscles) == []
    assert sorted(set(kb.recommendations) - advice) == []


def test_every_rule_has_a_firing_case_and_a_near_miss(kb: KnowledgeBase) -> None:
    fires = {rid for t in kb.tests for rid in t.expect.fires}
    misses = {rid for t in kb.tests for rid in t.expect.not_fires}
    rules = [r.id for r in kb.rules]
    assert [r for r in rules if r not in fires] == []
    assert [r for r in rules if r not in misses] == []


def test_every_urgency_a_rule_gives_has_its_own_action(kb: KnowledgeBase) -> None:
    for rule in kb.rules:
        if rule.kind != "red_flag":
            continue
        flag = kb.conclusions[rule.concludes]
        urgency = rule.urgency or flag.urgency
        assert urgency in dict(flag.actions), f"{rule.id}: no '{urgency}' action for {flag.id}"


def test_every_rule_is_cited_and_justified(kb: KnowledgeBase) -> None:
    from engine.kb.references import resolve_source

    for rule in kb.rules:
        assert rule.sources and rule.evidence and rule.because, rule.id
        levels = [resolve_source(kb, ref).level for ref in rule.sources]  # type: ignore[union-attr]
        best = max(EVIDENCE_RANK[level] for level in levels)
        assert EVIDENCE_RANK[rule.evidence] <= best, f"{rule.id} claims more than its sources"
    for rec in kb.recommendations.values():
        assert rec.sources and rec.evidence, rec.id


def test_seed_documents_are_expert_opinion(kb: KnowledgeBase) -> None:
    seeds = [s for s in kb.sources.values() if s.file]
    assert len(seeds) == 5
    assert {s.level for s in seeds} == {"expert_opinion"}


# --- the red-flag certainty convention, over every combination of answers ------------------------

def _candidates(kb: KnowledgeBase, fid: str, rules: list[m.Rule]) -> list[Any]:
    finding = kb.findings[fid]
    if finding.type == "boolean":
        return [True, False]
    if finding.type == "sided":
        return ["right", "bilateral", False]
    if finding.type == "enum":
        return list(finding.values)
    constants = {leaf.value for r in rules for leaf in m.leaves(r.when)
                 if isinstance(leaf, m.Test) and leaf.finding == fid}
    return sorted({v + d for v in constants for d in (-1, 0, 1)})


def _answers(kb: KnowledgeBase, rules: list[m.Rule]) -> Iterator[dict[str, Any]]:
    fids = sorted({fid for r in rules for fid in r.findings_used()})
    for values in itertools.product(*(_candidates(kb, f, rules) for f in fids)):
        yield dict(zip(fids, values, strict=True))


@pytest.mark.parametrize("flag", ["cauda_equina_syndrome", "spinal_cord_compression", "spinal_infection",
                                  "spinal_fracture", "spinal_malignancy", "cardiac_event"])
def test_red_flag_certainty_matches_urgency(kb: KnowledgeBase, flag: str) -> None:
    """Advice is gated on certainty >= 0.5; that must mean exactly 'urgent or emergency'."""
    rules = kb.rules_concluding(flag)
    assert all(not r.conclusions_used() for r in rules), "red-flag rules read findings only"
    evaluator = Evaluator(kb)
    checked = 0
    for facts in _answers(kb, rules):
        cf, urgency = 0.0, ""
        for rule in rules:
            truth, premise = evaluator.evaluate(rule.when, facts, {})
            if truth is True:
                cf = combine(cf, rule.certainty * premise)
                level = rule.urgency or kb.conclusions[flag].urgency
                if not urgency or m.urgency_rank(level) < m.urgency_rank(urgency):
                    urgency = level
        if urgency:
            checked += 1
            serious = urgency in ("emergency", "urgent")
            assert serious == (cf >= REFERRAL_THRESHOLD), (flag, urgency, round(cf, 3), facts)
    assert checked > 0
