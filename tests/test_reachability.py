"""One answer to "can this conclusion still be reached?": WHY NOT and the interview agree.

A `concluded:` premise with `min_certainty` is unknown only while the rules that could still
fire can take the conclusion that high; otherwise it is false. Before, WHY NOT called it
unknown whenever any rule for the conclusion was open, however weak, while the interview
compared the ceiling with `min_certainty`.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.cases.case import Case
from engine.explain.explainer import CONTRADICTED, Explainer
from engine.inference.premises import ceiling, concluded_truth
from engine.inference.reasoner import Reasoner
from engine.interview.planner import Planner
from engine.kb import model as m
from tests.interview_support import rules_kb

CHAIN = """
rules:
  - {id: t_weak_itbs, title: Lateral knee pain alone, band: condition,
     when: [{lateral_knee_pain: true}],
     then: {condition: it_band_syndrome, certainty: 0.3, because: b}, sources: [bmj_bp_itbs],
     evidence: low}
  - {id: t_needs_strong_itbs, title: A strong IT band picture with weak abductors, band: cause,
     when: [{concluded: it_band_syndrome, min_certainty: 0.6}, {weak_hip_abductors: true}],
     then: {cause: overuse, certainty: 0.5, because: b}, sources: [bmj_bp_itbs], evidence: low}
"""


@pytest.fixture(scope="module")
def chain_kb(tmp_path_factory: pytest.TempPathFactory) -> m.KnowledgeBase:
    return rules_kb(tmp_path_factory.mktemp("chain"), CHAIN)


def test_a_weak_open_rule_cannot_lift_a_conclusion_past_its_floor(chain_kb: m.KnowledgeBase) -> None:
    reasoner = Reasoner(chain_kb)
    result = reasoner.assess(Case("t", {}, {"weak_hip_abductors": True}))  # knee pain not asked
    misses = {n.rule.id: n for n in Explainer(result, reasoner).why_not("overuse").near_misses}
    floor = next(p for p in misses["t_needs_strong_itbs"].premises if "suggested" in p.text)
    # the only open rule gives 0.3 at most: the 0.6 floor cannot be met, whatever is asked
    assert floor.status == CONTRADICTED
    survey = Planner(chain_kb).survey({"weak_hip_abductors": True}, (), {}, {})
    assert survey.view(chain_kb.rule("t_needs_strong_itbs")).truth is False


def test_still_unknown_when_the_open_rules_could_reach_the_floor(chain_kb: m.KnowledgeBase) -> None:
    leaf = m.Concluded("it_band_syndrome", m.Location("t", 1), 0.25)
    assert concluded_truth(leaf, 0.0, ceiling(0.0, chain_kb.rules_concluding("it_band_syndrome"))) is None
    reasoner = Reasoner(chain_kb)
    result = reasoner.assess(Case("t", {}, {"weak_hip_abductors": True}))
    assert Explainer(result, reasoner)._reachable(leaf) is None


@settings(max_examples=200, deadline=None)
@given(current=st.floats(0, 1), floor=st.floats(0, 1),
       rules=st.lists(st.floats(0.05, 1), max_size=4))
def test_the_rule(current: float, floor: float, rules: list[float]) -> None:
    """True once reached that strongly; unknown only if the open rules could get there."""
    location = m.Location("t", 1)
    leaf = m.Concluded("x", location, floor)
    open_rules = [m.Rule(f"r{i}", "t", "condition", m.All((), location), location, i, "x", certainty=cf)
                  for i, cf in enumerate(rules)]
    reach = ceiling(current, open_rules)
    truth = concluded_truth(leaf, current, reach)
    assert reach >= current
    if current > 0 and current >= floor:
        assert truth is True
    elif reach > 0 and reach >= floor:
        assert truth is None
    else:
        assert truth is False
