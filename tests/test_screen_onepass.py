"""The screen's compiled conditions (`engine.inference.screen._live`) agree with the definition.

The definition: a condition's unanswered findings are those under its undecided parts, found by
evaluating every node with `Evaluator.evaluate` and descending only into undecided ones. That
costs a subtree's evaluation once per level and walks the model on every call; the shipped
screen compiles each red-flag rule once per KB and decides each node once. Hypothesis draws
answers to the findings of every red-flag rule of the shipped KB (and of random conditions) and
compares the two, truth and findings in order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from engine.inference.premises import Evaluator
from engine.inference.screen import _live
from engine.kb import model as m
from engine.kb.loader import load_kb
from tests.test_screen import _values

KB = load_kb(())
EVALUATOR = Evaluator(KB)
RED_FLAG_RULES = [rule for rule in KB.rules if rule.kind == "red_flag"]


def by_definition(cond: m.Cond, facts: Mapping[str, Any], concluded: Mapping[str, float]) -> Iterator[str]:
    if EVALUATOR.evaluate(cond, facts, concluded)[0] is not None:
        return
    if isinstance(cond, m.Test):
        yield cond.finding
    elif isinstance(cond, m.Not):
        yield from by_definition(cond.item, facts, concluded)
    elif isinstance(cond, (m.All, m.AnyOf, m.AtLeast)):
        for item in cond.items:
            yield from by_definition(item, facts, concluded)


@given(data=st.data())
def test_the_one_pass_walk_matches_the_definition(data: st.DataObject) -> None:
    rule = data.draw(st.sampled_from(RED_FLAG_RULES))
    read = list(dict.fromkeys(rule.findings_used()))
    facts = {fid: data.draw(_values(KB, fid)) for fid in data.draw(st.lists(
        st.sampled_from(read), unique=True, max_size=len(read)))} if read else {}
    concluded = {cid: data.draw(st.sampled_from([0.2, 0.5, 0.9]))
                 for cid in data.draw(st.lists(st.sampled_from(rule.conclusions_used()), unique=True))
                 } if rule.conclusions_used() else {}
    truth, live = _live(EVALUATOR, rule.when)(facts, concluded)
    assert truth is EVALUATOR.evaluate(rule.when, facts, concluded)[0]
    assert list(live) == list(by_definition(rule.when, facts, concluded))


BOOLEANS = [fid for fid, f in KB.findings.items() if f.type == "boolean"][:6]


def conditions() -> st.SearchStrategy[m.Cond]:
    """Random condition trees over six boolean findings, any shape the schema allows."""
    from engine.errors import Location

    here = Location("x.yaml", 1)
    leaves = st.builds(lambda fid, value: m.Test(fid, "eq", value, here),
                       st.sampled_from(BOOLEANS), st.booleans())

    def grow(children: st.SearchStrategy[m.Cond]) -> st.SearchStrategy[m.Cond]:
        groups = st.lists(children, min_size=1, max_size=4).map(tuple)
        return st.one_of(
            groups.map(lambda items: m.All(items, here)),
            groups.map(lambda items: m.AnyOf(items, here)),
            children.map(lambda item: m.Not(item, here)),
            groups.flatmap(lambda items: st.integers(1, len(items)).map(
                lambda count: m.AtLeast(count, items, here))))
    return st.recursive(leaves, grow, max_leaves=10)


@given(conditions(), st.dictionaries(st.sampled_from(BOOLEANS), st.booleans()))
def test_random_conditions_match_the_definition(cond: m.Cond, facts: dict[str, bool]) -> None:
    truth, live = _live(EVALUATOR, cond)(facts, {})
    assert truth is EVALUATOR.evaluate(cond, facts, {})[0]
    assert list(live) == list(by_definition(cond, facts, {}))
