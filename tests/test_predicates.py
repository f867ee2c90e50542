"""Leaf predicates: the fast, shared checks mean exactly what `OPERATORS` says."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import Location
from engine.inference.premises import OPERATORS, predicate
from engine.kb import model as m

HERE = Location("<test>")
values = st.one_of(st.booleans(), st.integers(-5, 120), st.floats(-5, 120, allow_nan=False),
                   st.sampled_from(["left", "right", "bilateral", "mild", "severe"]))
expected_values = st.one_of(values, st.tuples(values, values))


def reference(op: str, actual: Any, expected: Any, sided: bool) -> bool:
    try:
        return bool(OPERATORS[op](actual, expected, sided))
    except TypeError:
        return False


@given(op=st.sampled_from(m.OPERATORS), actual=values, expected=expected_values,
       kind=st.sampled_from(["boolean", "sided", "number", "enum"]))
def test_a_check_means_what_the_operator_table_says(op: str, actual: Any, expected: Any,
                                                    kind: str) -> None:
    check = predicate(m.Test("f", op, expected, HERE), kind)
    assert check(actual) == reference(op, actual, expected, kind == "sided")


def test_equal_tests_share_one_check_and_different_ones_do_not() -> None:
    def check(finding: str, op: str, value: Any, kind: str = "boolean") -> Any:
        return predicate(m.Test(finding, op, value, HERE), kind)

    assert check("a", "eq", True) is check("b", "eq", True)
    assert check("a", "gt", 30, "number") is check("b", "gt", 30, "number")
    assert check("a", "eq", True) is not check("a", "eq", 1, "number")
    assert check("a", "eq", True, "sided") is not check("a", "eq", True)
    assert check("a", "gt", 30, "number") is not check("a", "gt", 30.5, "number")
    assert check("a", "eq", 1, "number")(True) is False  # a boolean is not the number 1


_KBS: dict[str, m.KnowledgeBase] = {}


def _kbs(kb: m.KnowledgeBase) -> list[m.KnowledgeBase]:
    if not _KBS:
        from bench.synth import clinical_kb

        _KBS["shipped"], _KBS["clinical"] = kb, clinical_kb(kb, 120, seed=5)
    return list(_KBS.values())


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 100_000), count=st.integers(0, 60))
def test_every_compiled_premise_means_what_the_evaluator_says(kb: m.KnowledgeBase, seed: int,
                                                               count: int) -> None:
    """The closures (one flat closure for most `all`s) against the tree-walking Evaluator, on
    every rule of the shipped KB and a clinical-shaped one, with random findings and random
    certainties for the conclusions (some below a rule's minimum, some negative)."""
    import random

    from bench.synth import random_facts
    from engine.inference.closures import FALSE, UNKNOWN, compile_premise
    from engine.inference.premises import Evaluator

    rng = random.Random(seed)
    for base in _kbs(kb):
        findings = random_facts(base, rng, count)
        certainty = {cid: rng.choice([-0.4, 0.0, 0.1, 0.35, 0.5, 0.8, 1.0])
                     for cid in base.conclusions if rng.random() < 0.5}
        evaluator = Evaluator(base)
        for rule in base.rules:
            truth, cf = evaluator.evaluate(rule.when, findings, certainty)
            got = compile_premise(rule.when, base)(findings, certainty)
            expected = UNKNOWN if truth is None else (cf if truth else FALSE)
            assert got == expected, (rule.id, findings, certainty)
