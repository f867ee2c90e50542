"""Compiling the KB into experta and forward chaining: order, trace, certainty, reuse."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.inference.compiler import compile_kb, firing_order
from engine.inference.premises import Evaluator
from engine.inference.reasoner import Reasoner
from engine.kb.loader import load_kb

LAYER = """
conditions:
  - id: t_radicular
    label: A test-only condition, so shipped clinical rules do not change these figures
rules:
  - id: t_advice_first_in_file
    title: Advice that reads a condition
    band: advice
    when: [{concluded: t_radicular, min_certainty: 0.5}]
    then: {recommend: [], strengthen: [deep_abdominals]}
    sources: [seed_000]
    evidence: low
  - id: t_sciatica_a
    title: Leg pain below knee
    band: condition
    when: [{leg_pain_below_knee: true}]
    then: {condition: t_radicular, certainty: 0.4, because: test}
    sources: [seed_000]
    evidence: low
  - id: t_sciatica_b
    title: SLR positive with leg pain
    band: condition
    when:
      - leg_pain_below_knee: true
      - positive_straight_leg_raise: true
    then: {condition: t_radicular, certainty: 0.5, because: test}
    sources: [seed_000]
    evidence: low
  - id: t_not_fever
    title: Known absence of fever
    band: cause
    when:
      - runner: true
      - not: {fever: true}
    then: {cause: overuse, certainty: 0.2, because: test}
    sources: [seed_000]
    evidence: low
  - id: t_cluster
    title: Three of five
    band: condition
    when:
      - at_least: 3
        of:
          - fever: true
          - runner: true
          - night_pain: true
          - worn_shoes: true
          - chest_pain: true
    then: {condition: si_joint_dysfunction, certainty: 0.7, because: test}
    sources: [seed_000]
    evidence: low
  - id: t_either
    title: Either sign
    band: cause
    when:
      - any:
          - worn_shoes: true
          - downhill_running: true
    then: {cause: worn_footwear, certainty: 0.3, because: test}
    sources: [seed_000]
    evidence: low
"""


@pytest.fixture(scope="module")
def test_reasoner(tmp_path_factory: pytest.TempPathFactory) -> Reasoner:
    folder: Path = tmp_path_factory.mktemp("layer")
    (folder / "rules.yaml").write_text(LAYER.replace("recommend: [], ", ""), encoding="utf-8")
    return Reasoner(load_kb((folder,)))


def fired(reasoner: Reasoner, facts: dict) -> list[str]:
    return [e.rule.id for e in reasoner.run(facts).events]


def test_compile_is_pure_and_reusable(kb) -> None:
    first, second = compile_kb(kb), compile_kb(kb)
    assert first is not second
    assert first.kb is kb


def test_red_flags_fire_before_conditions_and_readers_after_writers(test_reasoner: Reasoner) -> None:
    order = [r.id for r in firing_order(test_reasoner.kb)]
    assert order.index("ces_saddle_anaesthesia") < order.index("t_sciatica_a")
    assert order.index("t_sciatica_b") < order.index("t_advice_first_in_file")
    events = fired(test_reasoner, {"saddle_anaesthesia": True, "leg_pain_below_knee": "left",
                                   "positive_straight_leg_raise": True})
    assert events[0] == "ces_saddle_anaesthesia"
    assert events.index("t_sciatica_b") < events.index("t_advice_first_in_file")


def test_certainty_combines_and_chains(test_reasoner: Reasoner) -> None:
    engine = test_reasoner.run({"leg_pain_below_knee": "right", "positive_straight_leg_raise": True})
    assert engine.certainty["t_radicular"] == pytest.approx(0.5 + 0.4 * 0.5)
    last = engine.events[-1]
    assert last.rule.id == "t_advice_first_in_file"
    assert last.used == (("t_radicular", pytest.approx(0.7)),)


def test_threshold_on_conclusion_blocks_weak_chain(test_reasoner: Reasoner) -> None:
    assert "t_advice_first_in_file" not in fired(test_reasoner, {"leg_pain_below_knee": True})


def test_trace_records_matched_facts_and_contribution(test_reasoner: Reasoner) -> None:
    engine = test_reasoner.run({"leg_pain_below_knee": "left", "positive_straight_leg_raise": True})
    event = next(e for e in engine.events if e.rule.id == "t_sciatica_b")
    assert event.matched == (("leg_pain_below_knee", "left"), ("positive_straight_leg_raise", True))
    assert event.contribution == pytest.approx(0.5)


def test_not_requires_known_absence(test_reasoner: Reasoner) -> None:
    assert "t_not_fever" not in fired(test_reasoner, {"runner": True})
    assert "t_not_fever" in fired(test_reasoner, {"runner": True, "fever": False})
    assert "t_not_fever" not in fired(test_reasoner, {"runner": True, "fever": True})


def test_at_least_cluster(test_reasoner: Reasoner) -> None:
    assert "t_cluster" not in fired(test_reasoner, {"fever": True, "runner": True})
    assert "t_cluster" in fired(test_reasoner, {"fever": True, "runner": True, "chest_pain": True})


def test_any_fires_once(test_reasoner: Reasoner) -> None:
    events = fired(test_reasoner, {"worn_shoes": True, "downhill_running": True})
    assert events.count("t_either") == 1


def test_engine_reuse_does_not_leak_between_cases(test_reasoner: Reasoner) -> None:
    fired(test_reasoner, {"saddle_anaesthesia": True, "fever": True, "low_back_pain": True})
    engine = test_reasoner.run({"runner": True})
    assert engine.certainty == {}
    assert [e.rule.id for e in engine.events] == []


def test_experta_agrees_with_evaluator_on_random_cases(test_reasoner: Reasoner) -> None:
    """Every rule fires exactly when its condition evaluates true on the final state."""
    kb = test_reasoner.kb
    evaluator = Evaluator(kb)
    rng = random.Random(7)
    pools: dict[str, Callable[[], object]] = {}
    for finding in kb.findings.values():
        if finding.type == "boolean":
            pools[finding.id] = lambda: rng.choice([True, False])
        elif finding.type == "sided":
            pools[finding.id] = lambda: rng.choice([True, False, "left", "right", "bilateral"])
        elif finding.type == "enum":
            pools[finding.id] = lambda f=finding: rng.choice(f.values)
        else:
            pools[finding.id] = lambda f=finding: rng.randint(int(f.minimum), int(f.maximum))
    ids = sorted(pools)
    for _ in range(300):
        facts = {fid: pools[fid]() for fid in rng.sample(ids, rng.randint(0, 25))}
        engine = test_reasoner.run(facts)
        did_fire = {e.rule.id for e in engine.events}
        for rule in kb.rules:
            truth, _ = evaluator.evaluate(rule.when, facts, engine.certainty)
            assert (truth is True) == (rule.id in did_fire), (rule.id, facts)


def test_dependency_on_an_earlier_band_keeps_file_order(tmp_path: Path) -> None:
    """A condition read through a chain (stratum 1 in its band) must not push the advice that
    reads it behind advice written later in the file: advice is listed in firing order."""
    (tmp_path / "rules.yaml").write_text("""
rules:
  - id: t_base
    title: Base condition
    band: condition
    when: [{runner: true}]
    then: {condition: it_band_syndrome, certainty: 0.5, because: test}
    sources: [seed_000]
    evidence: low
  - id: t_chained
    title: Condition read through another condition
    band: condition
    when: [{concluded: it_band_syndrome}]
    then: {condition: patellofemoral_pain, certainty: 0.5, because: test}
    sources: [seed_000]
    evidence: low
  - id: t_advice_on_chained
    title: First in file, reads the chained condition
    band: advice
    when: [{concluded: patellofemoral_pain}]
    then: {strengthen: [quadriceps]}
    sources: [seed_000]
    evidence: low
  - id: t_advice_on_finding
    title: Second in file, reads a finding
    band: advice
    when: [{runner: true}]
    then: {strengthen: [calves]}
    sources: [seed_000]
    evidence: low
""", encoding="utf-8")
    order = [r.id for r in firing_order(load_kb((tmp_path,)))]
    assert order.index("t_base") < order.index("t_chained")
    assert order.index("t_advice_on_chained") < order.index("t_advice_on_finding")


def test_trace_names_every_satisfied_branch_of_any(test_reasoner: Reasoner) -> None:
    engine = test_reasoner.run({"worn_shoes": True, "downhill_running": True})
    event = next(e for e in engine.events if e.rule.id == "t_either")
    assert event.matched == (("downhill_running", True), ("worn_shoes", True))


def test_trace_names_the_known_absence_under_not(test_reasoner: Reasoner) -> None:
    engine = test_reasoner.run({"runner": True, "fever": False})
    event = next(e for e in engine.events if e.rule.id == "t_not_fever")
    assert event.matched == (("fever", False), ("runner", True))


def _trace(engine: object) -> list[tuple]:
    return [(e.rule.id, e.matched, e.used, e.premise_cf, e.contribution, e.certainty_after, e.urgency)
            for e in engine.events]  # type: ignore[attr-defined]


def test_reused_engine_traces_like_a_fresh_one(test_reasoner: Reasoner) -> None:
    """The engine keeps premise verdicts between cases; a warm engine must trace every case as a
    fresh engine does, including findings whose values compare equal across types (1 == True:
    `worn_shoes: 1` is not `true`, so only downhill running supports `t_either` the second time)."""
    rng = random.Random(11)
    ids = sorted(test_reasoner.kb.findings)
    cases = [{"worn_shoes": True, "downhill_running": True}, {"worn_shoes": 1, "downhill_running": True}]
    cases += [{fid: rng.choice([True, False, 1, 0, "left", 3]) for fid in rng.sample(ids, rng.randint(3, 30))}
              for _ in range(60)]
    warm = test_reasoner.run({})
    for facts in cases + cases:
        warm.begin(facts)
        warm.run()
        fresh = type(warm)()
        fresh.begin(facts)
        fresh.run()
        assert _trace(warm) == _trace(fresh), facts
        assert warm.certainty == fresh.certainty and warm.urgency == fresh.urgency
