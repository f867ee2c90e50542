"""How big a rule's condition may be: how many alternatives it expands into, and the caps.

The schema refuses a rule over these limits while loading (experta would crawl on it), and lint
reports the count; it lives with the KB, not with the static analysis in
`engine.authoring.rule_analysis`, because counting needs only the condition's shape.
"""

from __future__ import annotations

from engine.kb import model as m

MAX_ALTERNATIVES = 256  # a rule expanding into more alternatives is refused: experta would crawl
MAX_CLUSTER = 12  # `at_least` over more items explodes into too many combinations
_CAP = 10**9


def alternatives(cond: m.Cond, negate: bool = False) -> int:
    """How many alternatives (DNF conjuncts) the condition expands into; capped, never huge."""
    if isinstance(cond, (m.Test, m.Concluded)):
        return 1
    if isinstance(cond, m.Not):
        return alternatives(cond.item, not negate)
    counts = [alternatives(item, negate) for item in cond.items]
    if isinstance(cond, m.AtLeast):
        need = len(cond.items) - cond.count + 1 if negate else cond.count
        return _elementary(counts, need)
    conjunctive = isinstance(cond, m.All) != negate
    if conjunctive:
        total = 1
        for count in counts:
            total = min(total * count, _CAP)
        return total
    return min(sum(counts), _CAP)


def _elementary(counts: list[int], need: int) -> int:
    """Sum over every choice of `need` items of the product of their counts (a DP, not a loop
    over combinations)."""
    if need <= 0:
        return 1
    table = [1] + [0] * need
    for count in counts:
        for k in range(need, 0, -1):
            table[k] = min(table[k] + table[k - 1] * count, _CAP)
    return table[need]
