"""A rule's `when:` as data: a tree of finding tests and references to earlier conclusions,
joined by all / any / not / at_least, that inference evaluates with three values (true, false,
unknown).

Its own module because it is its own concept: the compiler (engine.inference.premises), WHY NOT
(engine.explain), lint and the wording all walk this tree without needing the rest of the model.
`engine.kb.model` re-exports every name, so `m.Test` reads as before.
"""

from __future__ import annotations

from typing import Any

from engine.errors import Location
from engine.record import Record


class Test(Record):
    """`finding op value`, e.g. `age gt 50`; sided findings treat `true` as any side."""

    finding: str
    op: str
    value: Any
    location: Location


class Concluded(Record):
    """Holds when an earlier rule concluded `conclusion` with at least `min_certainty`."""

    conclusion: str
    location: Location
    min_certainty: float = 0.0


class All(Record):
    """Holds when every item holds (`all:` in a rule file)."""

    items: tuple[Cond, ...]
    location: Location


class AnyOf(Record):
    """Holds when at least one item holds (`any:`)."""

    items: tuple[Cond, ...]
    location: Location


class Not(Record):
    """The negation of its item (`not:`)."""

    item: Cond
    location: Location


class AtLeast(Record):
    """Holds when at least `count` of its items hold (`at_least:`, e.g. a cluster of tests)."""

    count: int
    items: tuple[Cond, ...]
    location: Location


Cond = Test | Concluded | All | AnyOf | Not | AtLeast


def leaves(cond: Cond) -> list[Test | Concluded]:
    """Every finding test and conclusion reference in a condition, in reading order."""
    if isinstance(cond, (Test, Concluded)):
        return [cond]
    if isinstance(cond, Not):
        return leaves(cond.item)
    out: list[Test | Concluded] = []
    for item in cond.items:
        out.extend(leaves(item))
    return out
