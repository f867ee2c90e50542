"""The answers WHAT IF imagines for an unasked finding: only values that would satisfy some
premise of a rule that has not fired, and only values the finding accepts.

Kept apart from the explainer because it is a question about the rule language (which value
makes this premise true, read under any `not:`), not about one case's reasoning.
"""

from __future__ import annotations

from typing import Any

from engine.inference.premises import predicate
from engine.kb import model as m
from engine.kb.values import check_value
from engine.wording import imagined_answer


def answers_to_imagine(kb: m.KnowledgeBase, finding: m.Finding,
                       rule_ids: tuple[str, ...]) -> list[tuple[Any, str]]:
    """The answers to `finding` that would satisfy some premise of the given rules."""
    out: dict[str, tuple[Any, str]] = {}
    for rid in rule_ids:
        rule = kb.rule(rid)
        if rule is None:
            continue
        for test, negated in tests_with_polarity(rule.when):
            if test.finding != finding.id:
                continue
            value = satisfying_value(test, finding, negated)
            if value is not None:
                text = imagined_answer(test, finding, value, negated)
                out.setdefault(repr(value), (value, text))
    return list(out.values())


def tests_with_polarity(cond: m.Cond, negated: bool = False) -> list[tuple[m.Test, bool]]:
    if isinstance(cond, m.Test):
        return [(cond, negated)]
    if isinstance(cond, m.Concluded):
        return []
    if isinstance(cond, m.Not):
        return tests_with_polarity(cond.item, not negated)
    out: list[tuple[m.Test, bool]] = []
    for item in cond.items:
        out.extend(tests_with_polarity(item, negated))
    return out


def satisfying_value(test: m.Test, finding: m.Finding, negated: bool) -> Any:
    """A valid answer that makes the test true (false when read under `not`), or None."""
    value = test.value
    if finding.type == "boolean":
        candidates: list[Any] = [True, False]
    elif finding.type == "sided":
        candidates = [*(v for v in (value if isinstance(value, (list, tuple)) else [value])
                        if isinstance(v, str)), True, False]
    elif finding.type == "enum":
        candidates = list(finding.values)
    else:
        numbers = [v for v in (value if isinstance(value, (list, tuple)) else [value])
                   if isinstance(v, (int, float)) and not isinstance(v, bool)]
        candidates = [c for v in numbers for c in (v, v + 1, v - 1)]
    check = predicate(test, finding.type)
    for candidate in candidates:
        if check(candidate) != negated and not check_value(finding, candidate):
            return candidate
    return None
