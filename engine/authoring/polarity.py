"""Does an id *trigger* a rule, or only *gate* it?

A rule can read a finding or a conclusion in two ways. Most premises are triggers: the finding
being present (or a number being high) is what makes the rule fire. Some are gates: the rule
fires only while the thing is absent, as in `not: {concluded: cauda_equina_syndrome}` or
`fever: false`. Saying that saddle anaesthesia "leads to" the IT band advice because that
advice is switched off by a red flag is wrong twice over; `kb show` and the KB map therefore
follow only triggers, and list gates separately.

An occurrence is a gate when it sits under an odd number of `not:`, or tests for absence
(`eq false`, `ne`, `false` for a sided finding). A rule is triggered by an id when any
occurrence is a trigger, and only gated when every occurrence is a gate.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.kb import model as m

TRIGGER, GATE = "trigger", "gate"


def occurrences(cond: m.Cond, negated: bool = False) -> Iterator[tuple[m.Test | m.Concluded, bool]]:
    """Every leaf with whether it counts *against* the rule firing (a gate)."""
    if isinstance(cond, m.Test):
        absent = (cond.op == "eq" and cond.value is False) or cond.op == "ne"
        yield cond, negated != absent
    elif isinstance(cond, m.Concluded):
        yield cond, negated
    elif isinstance(cond, m.Not):
        yield from occurrences(cond.item, not negated)
    else:
        for item in cond.items:
            yield from occurrences(item, negated)


def role(rule: m.Rule, ident: str) -> str:
    """TRIGGER, GATE, or '' when the rule does not read `ident` at all."""
    found = ""
    for leaf, gate in occurrences(rule.when):
        name = leaf.finding if isinstance(leaf, m.Test) else leaf.conclusion
        if name != ident:
            continue
        if not gate:
            return TRIGGER
        found = GATE
    return found


def triggered_by(kb: m.KnowledgeBase, ident: str) -> list[m.Rule]:
    return [rule for rule in kb.rules if role(rule, ident) == TRIGGER]


def gated_by(kb: m.KnowledgeBase, ident: str) -> list[m.Rule]:
    return [rule for rule in kb.rules if role(rule, ident) == GATE]
