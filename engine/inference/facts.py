"""Working memory: the kinds of experta fact our engines hold, and a lean fact list.

The case's known findings enter as ONE `CaseFact(id="case", findings={...})` (unknown findings
are simply absent from it): findings never change while the rules run, and declaring a fact per
finding cost as much as evaluating every premise they reach (about a third of a case). A
conclusion reached so far is a `ConclusionFact(id, cf)`, replaced (retract, declare) each time
its certainty changes. `FindingFact(id, value)` is a single finding as a fact, for callers that
add one finding to a running engine. All are experta facts in experta's `FactList`; what is
ours is only what experta does on every declare that facts of plain values do not need.
"""

from __future__ import annotations

from typing import Any

from experta import Fact
from experta.fact import InitialFact
from experta.factlist import FactList


class _PlainFact(Fact):
    """A fact of named scalar fields. experta's `Fact.__init__` freezes every value through a
    generic dispatch; ours are ids, numbers, booleans and short strings, already immutable, so
    the fields are stored as a dict stores them (dict's own initialiser, no Python frame: a
    conclusion fact is made on every firing that changes a certainty)."""

    __init__ = dict.__init__


class CaseFact(_PlainFact):
    """The case's known findings: `id` "case" and `findings`, a dict from finding id to value
    (the engine's own copy, never changed while it runs)."""


class FindingFact(_PlainFact):
    """One known finding: `id` and its `value`."""


class ConclusionFact(_PlainFact):
    """A conclusion reached so far, with its combined certainty `cf`."""


_INITIAL = (InitialFact,)


class LeanFactList(FactList):
    """experta's fact list without its per-declare work our facts do not need: no schema
    validation (our facts declare no fields), no logging, and duplicates counted by class and id
    rather than a frozenset of every field built on every declare and retract.
    Duplicates are still refused, as experta does without `duplication`."""

    last_index: int

    @staticmethod
    def _get_fact_id(fact: Any) -> Any:
        # Working memory holds one fact per finding and per conclusion (a conclusion's old fact
        # is retracted before its new certainty is declared), so class and id identify one.
        # The initial fact has no fields: its class identifies it, as in experta.
        if isinstance(fact, _PlainFact):
            return (fact.__class__, dict.__getitem__(fact, "id"))
        if fact.__class__ is InitialFact:
            return _INITIAL
        return FactList._get_fact_id(fact)

    def declare(self, fact: Any) -> Any:
        fact_id = ((fact.__class__, dict.__getitem__(fact, "id")) if isinstance(fact, _PlainFact)
                   else self._get_fact_id(fact))
        if fact_id in self.reference_counter:
            return None
        idx = self.last_index
        dict.__setitem__(fact, "__factid__", idx)
        self[idx] = fact
        self.last_index = idx + 1
        self.added.append(fact)
        self.reference_counter[fact_id] = 1
        return fact

    def clear_for_reuse(self) -> None:
        """Empty, as a new fact list is: one list reused across cases (experta's reset makes a
        new one, whose `Counter` alone costs more than clearing)."""
        self.clear()
        self.reference_counter.clear()
        self.last_index = 0
        self.added: list[Any] = []
        self.removed: list[Any] = []

    def replace(self, old: Any, new: Any) -> Any:
        """experta's `modify` for our facts: retract `old`, declare `new` (both are news to the
        matcher at the next agenda update), in one call."""
        del self[dict.__getitem__(old, "__factid__")]
        counter = self.reference_counter
        del counter[(old.__class__, dict.__getitem__(old, "id"))]
        self.removed.append(old)
        fact_id = (new.__class__, dict.__getitem__(new, "id"))
        if fact_id in counter:
            return None
        idx = self.last_index
        dict.__setitem__(new, "__factid__", idx)
        self[idx] = new
        self.last_index = idx + 1
        self.added.append(new)
        counter[fact_id] = 1
        return new

    def retract(self, idx_or_fact: Any) -> int:
        idx = idx_or_fact if isinstance(idx_or_fact, int) else idx_or_fact["__factid__"]
        fact = self.pop(idx)  # KeyError, as experta's IndexError, for a fact not in the list
        del self.reference_counter[self._get_fact_id(fact)]
        self.removed.append(fact)
        return idx


__all__ = ["CaseFact", "ConclusionFact", "FindingFact", "LeanFactList"]
