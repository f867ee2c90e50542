"""Leaf predicates: the fast, shared checks mean exactly what `OPERATORS` says."""

from __future__ import annotations

from typing import Any

from hypothesis import given
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
