"""Three-valued evaluation and MYCIN certainty combination."""

from __future__ import annotations

import pytest

from engine.errors import Location
from engine.inference.premises import Evaluator, combine
from engine.kb import model as m

HERE = Location("t", 1)


def t(finding: str, value: object, op: str = "eq") -> m.Test:
    return m.Test(finding, op, value, HERE)


@pytest.fixture
def ev(kb) -> Evaluator:
    return Evaluator(kb)


def test_unknown_is_not_false(ev) -> None:
    assert ev.evaluate(t("fever", True), {}, {})[0] is None
    assert ev.evaluate(m.Not(t("fever", True), HERE), {}, {})[0] is None
    assert ev.evaluate(m.Not(t("fever", True), HERE), {"fever": False}, {})[0] is True


def test_all_any_kleene(ev) -> None:
    both = m.All((t("fever", True), t("runner", True)), HERE)
    assert ev.evaluate(both, {"fever": False}, {})[0] is False
    assert ev.evaluate(both, {"fever": True}, {})[0] is None
    either = m.AnyOf((t("fever", True), t("runner", True)), HERE)
    assert ev.evaluate(either, {"runner": True}, {})[0] is True
    assert ev.evaluate(either, {"runner": False}, {})[0] is None
    assert ev.evaluate(either, {"runner": False, "fever": False}, {})[0] is False


def test_at_least_counts_unknowns(ev) -> None:
    cluster = m.AtLeast(2, (t("fever", True), t("runner", True), t("night_pain", True)), HERE)
    assert ev.evaluate(cluster, {"fever": True, "runner": True}, {})[0] is True
    assert ev.evaluate(cluster, {"fever": True}, {})[0] is None
    assert ev.evaluate(cluster, {"fever": True, "runner": False, "night_pain": False}, {})[0] is False


def test_sided_true_means_any_side(ev) -> None:
    assert ev.evaluate(t("leg_pain_below_knee", True), {"leg_pain_below_knee": "left"}, {})[0] is True
    assert ev.evaluate(t("leg_pain_below_knee", "left"), {"leg_pain_below_knee": "bilateral"}, {})[0]
    assert ev.evaluate(t("leg_pain_below_knee", "left"), {"leg_pain_below_knee": "right"}, {})[0] is False
    assert ev.evaluate(t("leg_pain_below_knee", True), {"leg_pain_below_knee": False}, {})[0] is False


def test_numeric_comparisons(ev) -> None:
    assert ev.evaluate(t("age", 50, "gt"), {"age": 51}, {})[0] is True
    assert ev.evaluate(t("age", 50, "gt"), {"age": 50}, {})[0] is False
    assert ev.evaluate(t("age", 50, "ge"), {"age": 50}, {})[0] is True
    assert ev.evaluate(t("sex", ("female", "other"), "in"), {"sex": "male"}, {})[0] is False


def test_concluded_carries_certainty(ev) -> None:
    cond = m.All((m.Concluded("sciatica", HERE), t("fever", True)), HERE)
    assert ev.evaluate(cond, {"fever": True}, {"sciatica": 0.4}) == (True, 0.4)
    strict = m.Concluded("sciatica", HERE, 0.5)
    assert ev.evaluate(strict, {}, {"sciatica": 0.4})[0] is False


def test_combine_is_mycin() -> None:
    assert combine(0.0, 0.5) == 0.5
    assert combine(0.5, 0.5) == pytest.approx(0.75)
    assert combine(0.6, 0.3) == pytest.approx(0.72)
    assert combine(0.3, 0.6) == pytest.approx(combine(0.6, 0.3))
