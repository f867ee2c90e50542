"""The condition algebra behind lint: size, satisfiability, implication, reachable certainty."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.authoring.rule_analysis import Space, as_literal, can_hold, ceilings, conjuncts
from engine.errors import Location
from engine.kb import model as m
from engine.kb.limits import MAX_ALTERNATIVES, alternatives
from engine.kb.loader import load_layers
from engine.kb.schema import Reader, read_condition
from engine.kb.yamlsource import parse_text

MINI = Path(__file__).parent / "fixtures" / "mini_kb"
KB = load_layers((MINI,)).kb
HERE = Location("t.yaml", 1)


def cond(text: str) -> m.Cond:
    problems: list = []
    parsed = read_condition(Reader("t.yaml", problems), parse_text(text), HERE)
    assert not problems and parsed is not None, problems
    return parsed


@pytest.mark.parametrize(("text", "count"), [
    ("[{fever: true}, {back_pain: true}]", 1),
    ("{any: [{fever: true}, {back_pain: true}, {weeks: {gt: 3}}]}", 3),
    ("[{any: [{fever: true}, {back_pain: true}]}, {any: [{leg_pain: left}, {weeks: {gt: 3}}]}]", 4),
    ("{not: {all: [{fever: true}, {back_pain: true}]}}", 2),
    ("{at_least: 2, of: [{fever: true}, {back_pain: true}, {leg_pain: true}]}", 3),
    ("{not: {at_least: 2, of: [{fever: true}, {back_pain: true}, {leg_pain: true}]}}", 3),
])
def test_alternatives_match_the_normal_form(text: str, count: int) -> None:
    parsed = cond(text)
    assert alternatives(parsed) == count == len(conjuncts(parsed))


def test_alternatives_are_capped_not_computed_in_full() -> None:
    groups = ", ".join("{any: [{fever: true}, {back_pain: true}, {leg_pain: true}]}" for _ in range(40))
    assert alternatives(cond(f"[{groups}]")) >= 10**9


def test_too_complex_rule_is_refused_while_loading(tmp_path: Path) -> None:
    groups = "\n".join("      - any: [{fever: true}, {back_pain: true}, {leg_pain: true}]"
                       for _ in range(6))  # 3**6 = 729 alternatives
    (tmp_path / "r.yaml").write_text(f"""rules:
  - id: huge
    title: Too many alternatives
    band: condition
    when:
{groups}
    then: {{condition: sciatica, certainty: 0.5, because: x}}
""")
    problems = [p for p in load_layers((MINI, tmp_path)).problems if p.code == "too_complex"]
    assert [p.message for p in problems] == [
        f"the condition of rule 'huge' is too complex: it expands into 729 alternatives "
        f"(at most {MAX_ALTERNATIVES})"]
    assert problems[0].location.line == 5


@pytest.mark.parametrize(("text", "possible"), [
    ("[{fever: true}, {fever: false}]", False),
    ("[{fever: true}, {not: {fever: false}}]", True),
    ("[{fever: true}, {not: {fever: true}}]", False),
    ("{weeks: {gt: 10, lt: 11}}", True),
    ("{weeks: {gt: 10, lt: 10}}", False),
    ("{weeks: {ge: 10, le: 10}}", True),
    ("{weeks: {ne: 0, lt: 0.5}}", True),
    ("{weeks: {lt: 0}}", False),
    ("[{leg_pain: left}, {leg_pain: right}]", True),  # bilateral
    ("[{leg_pain: left}, {leg_pain: false}]", False),
    ("{sport: {in: [running, cycling], ne: running}}", True),
    ("{any: [{fever: true}, {fever: false}]}", True),
    ("{not: {any: [{fever: true}, {fever: false}]}}", False),
    ("{at_least: 2, of: [{fever: true}, {fever: false}]}", False),
    ("[{concluded: sciatica}, {not: {concluded: sciatica}}]", False),
    ("[{concluded: sciatica}, {not: {concluded: sciatica, min_certainty: 0.4}}]", True),
])
def test_can_hold(text: str, possible: bool) -> None:
    assert can_hold(cond(text), Space(KB, ceilings(KB)))[0] is possible


def test_implication_between_leaves() -> None:
    space = Space(KB)

    def lit(text: str):  # type: ignore[no-untyped-def]
        literal = as_literal(cond(text))
        assert literal is not None
        return literal

    assert space.implies(lit("{weeks: {gt: 20}}"), lit("{weeks: {ge: 12}}"))
    assert not space.implies(lit("{weeks: {ge: 12}}"), lit("{weeks: {gt: 20}}"))
    assert space.implies(lit("{leg_pain: left}"), lit("{leg_pain: true}"))
    assert not space.implies(lit("{leg_pain: true}"), lit("{leg_pain: left}"))
    assert space.implies(lit("{fever: false}"), lit("{not: {fever: true}}"))
    assert space.implies(lit("{concluded: sciatica, min_certainty: 0.5}"), lit("{concluded: sciatica}"))
    assert not space.implies(lit("{fever: true}"), lit("{back_pain: true}"))


def test_ceilings_follow_chains_and_combine() -> None:
    top = ceilings(KB)
    assert top["infection"] == pytest.approx(0.6)
    assert top["chronic_pain"] == pytest.approx(0.6)
    assert top["weakness"] == pytest.approx(0.4 * 0.6)  # premise certainty is chronic_pain's
