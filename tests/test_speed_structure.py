"""Structural guards for speed, without timing: work per case must not grow with the KB."""

from __future__ import annotations

import random
import re

from bench.synth import clinical_kb, grow_kb, random_facts
from engine.inference.reasoner import Reasoner
from engine.kb import model as m
from tests.conftest import ROOT


def touched_per_case(reasoner: Reasoner, cases: list[dict]) -> list[int]:
    """How many RETE memories each case touched (what `reset` clears and agenda updates ask)."""
    out = []
    for facts in cases:
        engine = reasoner.run(facts)
        out.append(len(engine.matcher._touched))
    return out


def test_a_ten_times_bigger_kb_touches_the_same_nodes_per_case(kb: m.KnowledgeBase) -> None:
    base = clinical_kb(kb, 60, seed=3)
    rng = random.Random(1)
    cases = [random_facts(base, rng, rng.randint(3, 30)) for _ in range(40)]
    small, big = Reasoner(base), Reasoner(grow_kb(base, 10))
    assert len(big.kb.rules) == 10 * len(base.rules)
    assert touched_per_case(big, cases) == touched_per_case(small, cases)
    assert sum(touched_per_case(small, cases)) > 0
    for facts in cases[:10]:
        assert [e.rule.id for e in big.run(facts).events] == \
            [e.rule.id for e in small.run(facts).events]


def test_equal_tests_share_one_alpha_branch(kb: m.KnowledgeBase) -> None:
    synthetic = clinical_kb(kb, 120, seed=2)
    leaves = [leaf for rule in synthetic.rules for leaf in m.leaves(rule.when)
              if isinstance(leaf, m.Test)]
    distinct = {(leaf.finding, leaf.op, repr(leaf.value)) for leaf in leaves}
    assert len(distinct) < len(leaves)  # the sample repeats tests across rules
    routes = Reasoner(synthetic).run({}).matcher.root_node.routes
    branches = sum(len(b) for (kind, _), b in routes.items() if kind.__name__ == "FindingFact")
    assert branches <= 2 * len(distinct)  # at most one per test and per negated test
    assert branches < len(leaves)


def test_only_the_compiler_modules_import_experta() -> None:
    pattern = re.compile(r"^\s*(from|import)\s+experta\b", re.MULTILINE)
    allowed = {"engine/inference/compiler.py", "engine/inference/network.py"}
    offenders = []
    for folder in ("engine", "commands", "reports"):
        for path in (ROOT / folder).rglob("*.py"):
            name = path.relative_to(ROOT).as_posix()
            if pattern.search(path.read_text(encoding="utf-8")) and name not in allowed:
                offenders.append(name)
    if pattern.search((ROOT / "cli.py").read_text(encoding="utf-8")):
        offenders.append("cli.py")
    assert offenders == []
