"""Structural guards for speed, without timing: work per case must not grow with the KB, and a
case's work is the rules its facts reach."""

from __future__ import annotations

import random
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bench.synth import (
    clinical_kb,
    copy_suffix,
    grow_kb,
    move_into_copy,
    random_facts,
    spread_over_copies,
)
from engine.inference.reasoner import Reasoner
from engine.kb import model as m
from tests.conftest import ROOT


def evaluations_per_case(reasoner: Reasoner, cases: list[dict]) -> list[int]:
    """How many premises the matcher evaluated for each case (the work it did)."""
    return [reasoner.run(facts).matcher.evaluations for facts in cases]


def test_a_ten_times_bigger_kb_evaluates_the_same_premises_per_case(kb: m.KnowledgeBase) -> None:
    base = clinical_kb(kb, 60, seed=3)
    rng = random.Random(1)
    cases = [random_facts(base, rng, rng.randint(3, 30)) for _ in range(40)]
    small, big = Reasoner(base), Reasoner(grow_kb(base, 10))
    assert len(big.kb.rules) == 10 * len(base.rules)
    assert evaluations_per_case(big, cases) == evaluations_per_case(small, cases)
    assert sum(evaluations_per_case(small, cases)) > 0
    for facts in cases[:10]:
        assert big.run(facts).fired == small.run(facts).fired


def test_a_case_evaluates_only_the_rules_its_findings_and_conclusions_reach(
        kb: m.KnowledgeBase) -> None:
    """The index at work: a finding evaluates the rules that read it, each conclusion change the
    rules that read that conclusion, and the few rules that hold with nothing known; never the
    rest of the KB."""
    synthetic = grow_kb(clinical_kb(kb, 120, seed=2), 5)
    reasoner = Reasoner(synthetic)
    index = reasoner.run({}).rule_index
    assert reasoner.run({}).matcher.evaluations == len(index.initially) < len(synthetic.rules) // 10
    rng = random.Random(4)
    for facts in [random_facts(synthetic, rng, rng.randint(1, 6)) for _ in range(60)]:
        engine = reasoner.run(facts)
        first = set(index.initially).union(*(index.finding_readers.get(f, ()) for f in facts))
        bound = len(first) + sum(len(index.conclusion_readers.get(e.concluded, ()))
                                 for e in engine.events if e.concluded)
        assert len(first) - len(engine.events) <= engine.matcher.evaluations <= bound
        assert bound < len(synthetic.rules) // 4


def test_only_the_compiler_modules_import_experta() -> None:
    pattern = re.compile(r"^\s*(from|import)\s+experta\b", re.MULTILINE)
    allowed = {"engine/inference/compiler.py", "engine/inference/matcher.py",
               "engine/inference/facts.py"}
    offenders = []
    for folder in ("engine", "commands", "reports"):
        for path in (ROOT / folder).rglob("*.py"):
            name = path.relative_to(ROOT).as_posix()
            if pattern.search(path.read_text(encoding="utf-8")) and name not in allowed:
                offenders.append(name)
    if pattern.search((ROOT / "cli.py").read_text(encoding="utf-8")):
        offenders.append("cli.py")
    assert offenders == []


_GROWN: dict[int, tuple[Reasoner, Reasoner]] = {}


def _small_and_grown(kb: m.KnowledgeBase) -> tuple[Reasoner, Reasoner]:
    if not _GROWN:
        _GROWN[0] = (Reasoner(kb), Reasoner(grow_kb(kb, 10)))
    return _GROWN[0]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), copy=st.integers(0, 9))
def test_a_case_moved_into_a_copy_does_the_same_work_there(kb: m.KnowledgeBase, seed: int,
                                                           copy: int) -> None:
    """The growth benchmark's target design (bench/fair.py SAME_WORK) rests on this: a case
    renamed into copy k of a 10x KB fires the renamed rules of the original, in the same order,
    with the same certainties, after evaluating as many premises."""
    small, big = _small_and_grown(kb)
    rng = random.Random(seed)
    facts = random_facts(kb, rng, rng.randint(3, 30))
    suffix = copy_suffix(copy)
    original = small.run(facts)
    fired, certainty, evaluations = (list(original.fired), dict(original.certainty),
                                     original.matcher.evaluations)
    moved = big.run(move_into_copy(facts, copy))
    assert moved.fired == [rule + suffix for rule in fired]
    assert moved.certainty == {cid + suffix: cf for cid, cf in certainty.items()}
    assert moved.matcher.evaluations == evaluations


def test_cases_spread_over_copies_reach_the_added_rules(kb: m.KnowledgeBase) -> None:
    rng = random.Random(5)
    cases = [random_facts(kb, rng, rng.randint(3, 30)) for _ in range(200)]
    spread = spread_over_copies(cases, 10, random.Random(7))
    copies = [next((c for c in range(1, 10) if all(f.endswith(copy_suffix(c)) for f in facts)), 0)
              for facts in spread]
    assert 0.8 < sum(1 for c in copies if c) / len(copies) < 0.97
    assert [len(f) for f in spread] == [len(f) for f in cases]


def test_growth_timing_runs_each_engine_alone_on_its_block_once_per_case() -> None:
    """bench/fair.py `blocks`, which the growth target reads: in every round each engine and KB
    size runs its block of cases alone (no other engine in between), every case reaches every
    engine of its size exactly once (cold) as a fresh copy decoded from JSON, and the order of
    the units rotates from round to round."""
    from bench.fair import blocks, interleaved, ratio_interval

    calls: list[tuple[tuple[int, str], dict]] = []

    def runner(unit: tuple[int, str]):
        return lambda facts: calls.append((unit, facts))

    units = [(f, name) for f in (1, 10) for name in ("experta", "fixpoint", "CLIPS")]
    cases = {f: [{f"finding_{f}_{i}": i % 3 == 0} for i in range(25)] for f in (1, 10)}
    timed = blocks({u: runner(u) for u in units}, cases, block=10)
    assert [len(timed[u]) for u in units] == [3] * len(units)  # rounds of 10, 10 and 5 cases
    assert all([len(r) for r in timed[u]] == [10, 10, 5] for u in units)
    runs = [unit for n, (unit, _facts) in enumerate(calls) if n == 0 or calls[n - 1][0] != unit]
    assert runs[:6] == units and runs[6:12] == units[1:] + units[:1]  # alone, rotating
    assert len(runs) == 3 * len(units)
    for unit in units:
        seen = [facts for u, facts in calls if u == unit]
        assert seen == cases[unit[0]]  # every case once, in order
        assert all(a is not b for a, b in zip(seen, cases[unit[0]], strict=True))
    calls.clear()
    interleaved({u: runner(u) for u in units}, cases, block=10)
    assert [u for u, _f in calls[:3]] == units[:3]  # the earlier design: case by case
    assert sorted(u for u, _f in calls) == sorted(units * 25)
    same = [[1.0, 2.0, 3.0]] * 8
    assert ratio_interval(same, same) == (1.0, 1.0, 1.0)
    double = [[2.0, 4.0, 6.0]] * 8
    assert ratio_interval(double, same) == (2.0, 2.0, 2.0)
