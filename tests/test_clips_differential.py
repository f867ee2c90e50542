"""experta and the CLIPS translation of the same KB must reach the same results on every case.

The full check (10,000 random cases) runs in bench/run.py; here a smaller sample keeps the suite
fast. Certainties must agree to 1e-9 (`CF_TOLERANCE`): both sides round by one rule, and a tie
rounded the other way (1e-6) is caught, as `test_a_different_tie_rounding_is_caught` shows.
Two KBs: the shipped one, and a clinical-shaped synthetic one that exercises every form of
the rule language (any, not, at_least, concluded with thresholds) at a realistic size.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("clips")

from bench.clips_kb import CF_TOLERANCE, PRELUDE, ClipsReasoner, leaf_expr
from bench.clips_kb import disagreement as compare
from bench.pyfix import Fixpoint
from bench.synth import clinical_kb, random_facts
from engine import record
from engine.cases.case import Case, load_case
from engine.errors import Location
from engine.inference.reasoner import Reasoner
from engine.kb import model as m
from engine.testing.casetests import case_of
from tests.conftest import ROOT


def disagreement(reasoner: Reasoner, clips: ClipsReasoner, facts: dict[str, Any]) -> str:
    result = reasoner.assess(Case("differential", {}, dict(facts)))
    engine = reasoner.run(facts)
    return compare(engine.certainty, engine.urgency, result.triage, tuple(engine.fired),
                   clips.run(facts))


def fixed_cases(kb: m.KnowledgeBase) -> list[dict[str, Any]]:
    cases = [case_of(test).facts for test in kb.tests]
    cases += [load_case(str(p), kb).facts for p in sorted((ROOT / "examples" / "cases").glob("*.yaml"))]
    return cases


@pytest.fixture(scope="module")
def synthetic() -> m.KnowledgeBase:
    from engine.kb.loader import load_kb

    return clinical_kb(load_kb(), 80, seed=11)


def test_shipped_kb_case_tests_examples_and_random_cases_agree(kb: m.KnowledgeBase,
                                                                reasoner: Reasoner) -> None:
    clips = ClipsReasoner(kb)
    rng = random.Random(2024)
    cases = fixed_cases(kb) + [random_facts(kb, rng, rng.randint(0, 30)) for _ in range(300)]
    problems = [(facts, p) for facts in cases if (p := disagreement(reasoner, clips, facts))]
    assert not problems, problems[:3]
    fixpoint = Fixpoint(kb)  # the plain-Python reference the benchmark times reaches the same
    for facts in cases:
        mine, ref = reasoner.run(facts), fixpoint.run(facts)
        assert (tuple(mine.fired), mine.certainty, mine.urgency) == \
            (ref.fired, ref.certainty, ref.urgency), facts


def test_a_different_tie_rounding_is_caught(kb: m.KnowledgeBase, reasoner: Reasoner,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """CLIPS's own `round` (ties away from zero on the scaled double, as the engine does not
    round through Python's `round(x, 6)`) differs from the shared rule only on ties; random
    cases hit some, and the tolerance must flag them."""
    import bench.clips_kb as clips_kb

    rounding = PRELUDE[PRELUDE.index("(deffunction round6"):PRELUDE.index("(deffunction fval")]
    monkeypatch.setattr(clips_kb, "PRELUDE", PRELUDE.replace(
        rounding, "(deffunction round6 (?x) (/ (round (* ?x 1000000.0)) 1000000.0))\n\n"))
    python_round = ClipsReasoner(kb)
    monkeypatch.setattr("engine.inference.compiler.round_cf", lambda x: round(x, 6))
    ours = Reasoner(kb)
    rng = random.Random(2026)
    for _ in range(3000):
        facts = random_facts(kb, rng, rng.randint(3, 30))
        found = disagreement(ours, python_round, facts)
        if found:
            assert "certainty of" in found
            theirs = python_round.run(facts).certainty
            mine = ours.run(facts).certainty
            assert max(abs(mine[c] - theirs[c]) for c in mine) > CF_TOLERANCE
            assert max(abs(mine[c] - theirs[c]) for c in mine) < 2e-6
            return
    pytest.fail("no tie in 3,000 random cases: the check could not show it catches one")


def test_clinical_shaped_kb_agrees_on_random_cases(synthetic: m.KnowledgeBase) -> None:
    kinds = {type(node).__name__ for rule in synthetic.rules for node in _nodes(rule.when)}
    assert {"AnyOf", "Not", "AtLeast", "Concluded"} <= kinds  # the sample covers the language
    reasoner, clips = Reasoner(synthetic), ClipsReasoner(synthetic)
    rng = random.Random(5)
    cases = [random_facts(synthetic, rng, rng.randint(3, 40)) for _ in range(300)]
    problems = [(facts, p) for facts in cases if (p := disagreement(reasoner, clips, facts))]
    assert not problems, problems[:3]
    fired = sum(len(reasoner.run(facts).events) for facts in cases[:100])
    assert fired > 100  # the sample is not a run of empty results


def _nodes(cond: m.Cond) -> list[m.Cond]:
    if isinstance(cond, (m.Test, m.Concluded)):
        return [cond]
    if isinstance(cond, m.Not):
        return [cond, *_nodes(cond.item)]
    return [cond, *(n for item in cond.items for n in _nodes(item))]


def test_a_broken_translation_is_caught(kb: m.KnowledgeBase, reasoner: Reasoner) -> None:
    """The check can fail: CLIPS with one certainty changed disagrees on the case that uses it."""

    rng = random.Random(3)
    samples = [*fixed_cases(kb), *(random_facts(kb, rng, 30) for _ in range(200))]
    facts, rule = next((f, e.rule) for f in samples for e in reasoner.run(f).events if e.concluded)
    changed = record.replace(kb, rules=tuple(
        record.replace(r, certainty=r.certainty / 2) if r.id == rule.id else r for r in kb.rules))
    assert disagreement(reasoner, ClipsReasoner(changed), facts)


@pytest.mark.parametrize(("op", "value", "ftype", "actual", "expected"), [
    ("eq", True, "sided", "left", True),
    ("eq", "left", "sided", "bilateral", True),
    ("eq", "left", "sided", "right", False),
    ("eq", True, "boolean", 1, False),
    ("ne", False, "boolean", True, True),
    ("ge", 6, "number", 6.0, True),
    ("lt", 6, "number", 7, False),
    ("in", ("male", "other"), "enum", "other", True),
])
def test_leaf_tests_mean_what_the_rule_language_says(op: str, value: Any, ftype: str, actual: Any,
                                                     expected: bool) -> None:
    import clips

    env = clips.Environment()
    expr = leaf_expr(m.Test("x", op, value, Location(str(Path("t")))), ftype, "?v")
    env.build(f"(deffunction probe (?v) {expr})")
    assert (env.find_function("probe")(actual) in (True, "TRUE")) == expected
