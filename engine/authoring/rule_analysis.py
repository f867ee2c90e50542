"""Reasoning about conditions without a patient: can a condition ever hold, does one premise
imply another, and what a condition's alternatives are (how many: `engine.kb.limits`).

Lint ("can never fire", "subsumed by") and `kb show` share these.
Leaves are judged with the engine's own predicates (`engine.inference.premises.predicate`), so "can never
fire" means exactly what inference would do. Under three-valued logic a leaf is true only when its
finding is known, so a condition holds for some patient iff one alternative of its disjunctive
normal form (negation pushed down to the leaves, as the compiler does) has, for every finding it
mentions, one value satisfying all of that finding's leaves. Numeric findings are sampled at the
constants the leaves compare with, the range ends and the midpoints between them, which visits
every region a comparison can tell apart.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.inference.premises import combine, predicate
from engine.kb import model as m
from engine.kb.limits import MAX_ALTERNATIVES, alternatives
from engine.wording import author_concluded, author_test

Var = tuple[str, str]  # ("finding", id) or ("concluded", id)


@dataclass(frozen=True)
class Literal:
    """A leaf with its polarity after negation has been pushed down: `not fever: true` is
    `Literal(fever = true, positive=False)`, true only when fever is known and not true."""

    leaf: m.Test | m.Concluded
    positive: bool

    @property
    def var(self) -> Var:
        if isinstance(self.leaf, m.Test):
            return ("finding", self.leaf.finding)
        return ("concluded", self.leaf.conclusion)

    @property
    def location(self) -> m.Location:
        return self.leaf.location

    def describe(self) -> str:
        """How an author wrote it, in short: `fever = true`, `age > 60`, `not concluded: x`."""
        leaf = self.leaf
        text = author_test(leaf) if isinstance(leaf, m.Test) else author_concluded(leaf)
        return text if self.positive else f"not {text}"


# --- normal form -----------------------------------------------------------------


def conjuncts(cond: m.Cond, negate: bool = False) -> list[tuple[Literal, ...]]:
    """The condition in disjunctive normal form; call only when `alternatives` is small."""
    if isinstance(cond, (m.Test, m.Concluded)):
        return [(Literal(cond, not negate),)]
    if isinstance(cond, m.Not):
        return conjuncts(cond.item, not negate)
    parts = [conjuncts(item, negate) for item in cond.items]
    if isinstance(cond, m.AtLeast):
        need = len(cond.items) - cond.count + 1 if negate else cond.count
        out: list[tuple[Literal, ...]] = []
        for chosen in itertools.combinations(parts, need):
            out.extend(_product(chosen))
        return out
    conjunctive = isinstance(cond, m.All) != negate
    if conjunctive:
        return _product(parts)
    return [conj for part in parts for conj in part]


def _product(parts: Iterable[list[tuple[Literal, ...]]]) -> list[tuple[Literal, ...]]:
    out: list[tuple[Literal, ...]] = [()]
    for part in parts:
        out = [left + right for left in out for right in part]
    return out


def shape(cond: m.Cond) -> Any:
    """A hashable form of a condition that ignores where it was written."""
    if isinstance(cond, m.Test):
        return ("test", cond.finding, cond.op, cond.value)
    if isinstance(cond, m.Concluded):
        return ("concluded", cond.conclusion, cond.min_certainty)
    if isinstance(cond, m.Not):
        return ("not", shape(cond.item))
    items = frozenset(shape(item) for item in cond.items)
    if isinstance(cond, m.AtLeast):
        return ("at_least", cond.count, items)
    return ("all" if isinstance(cond, m.All) else "any", items)


def premises(cond: m.Cond) -> list[m.Cond]:
    """The parts that must all hold: the items of the top-level `all` (flattened)."""
    if isinstance(cond, m.All):
        out: list[m.Cond] = []
        for item in cond.items:
            out.extend(premises(item))
        return out
    return [cond]


def as_literal(cond: m.Cond) -> Literal | None:
    """A premise that is one leaf or the negation of one leaf, as a literal."""
    positive = True
    while isinstance(cond, m.Not):
        positive = not positive
        cond = cond.item
    if isinstance(cond, (m.Test, m.Concluded)):
        return Literal(cond, positive)
    return None


# --- values a finding or conclusion can take --------------------------------------------------


class Space:
    """The values each finding (from the vocabulary) and each conclusion's certainty (0 = not
    concluded, up to its `ceiling`) can take, and judgements over them."""

    def __init__(self, kb: m.KnowledgeBase, ceiling: Mapping[str, float] | None = None) -> None:
        self.kb = kb
        self.ceiling = ceiling

    def candidates(self, var: Var, literals: Iterable[Literal]) -> list[Any]:
        kind, name = var
        if kind == "concluded":
            top = 1.0 if self.ceiling is None else self.ceiling.get(name, 0.0)
            marks = {0.0, top}
            if top > 0:
                marks.add(min(top, 1e-9))
            for lit in literals:
                low = lit.leaf.min_certainty  # type: ignore[union-attr]
                if 0.0 <= low <= top:
                    marks.add(low)
            return _with_midpoints(marks)
        finding = self.kb.findings.get(name)
        if finding is None:
            return []
        if finding.type == "boolean":
            return [True, False]
        if finding.type == "sided":
            return [True, False, *m.SIDES]
        if finding.type == "enum":
            return list(finding.values)
        low = finding.minimum if finding.minimum is not None else -1e9
        high = finding.maximum if finding.maximum is not None else 1e9
        marks = {low, high}
        for lit in literals:
            value = lit.leaf.value  # type: ignore[union-attr]
            for constant in value if isinstance(value, tuple) else (value,):
                if isinstance(constant, (int, float)) and not isinstance(constant, bool) \
                        and low <= constant <= high:
                    marks.add(float(constant))
        return _with_midpoints(marks)

    def holds(self, lit: Literal, value: Any) -> bool:
        leaf = lit.leaf
        if isinstance(leaf, m.Concluded):
            truth = value > 0 and value >= leaf.min_certainty
        else:
            finding = self.kb.findings.get(leaf.finding)
            truth = predicate(leaf, finding.type if finding else "boolean")(value)
        return truth == lit.positive

    def satisfiable(self, literals: list[Literal]) -> bool:
        """Literals on one variable: is there one value that makes them all true?"""
        if not literals:
            return True
        return any(all(self.holds(lit, value) for lit in literals)
                   for value in self.candidates(literals[0].var, literals))

    def conflict(self, conjunct: tuple[Literal, ...]) -> tuple[Literal, ...]:
        """The smallest set of literals that cannot hold together, or () when consistent."""
        by_var: dict[Var, list[Literal]] = {}
        for lit in conjunct:
            by_var.setdefault(lit.var, []).append(lit)
        for literals in by_var.values():
            if self.satisfiable(literals):
                continue
            for lit in literals:
                if not self.satisfiable([lit]):
                    return (lit,)
            for pair in itertools.combinations(literals, 2):
                if not self.satisfiable(list(pair)):
                    return pair
            return tuple(literals)
        return ()

    def implies(self, stronger: Literal, weaker: Literal) -> bool:
        """Whenever `stronger` holds, `weaker` holds too (same finding or conclusion only)."""
        if stronger.var != weaker.var:
            return False
        values = self.candidates(stronger.var, [stronger, weaker])
        return all(self.holds(weaker, v) for v in values if self.holds(stronger, v))


def _with_midpoints(marks: set[float]) -> list[float]:
    points = sorted(marks)
    middles = [(a + b) / 2 for a, b in itertools.pairwise(points)]
    return sorted({*points, *middles})


def premise_ceiling(cond: m.Cond, ceiling: Mapping[str, float]) -> float:
    """The highest premise certainty the condition can give (findings count as 1.0)."""
    if isinstance(cond, (m.Test, m.Not)):
        return 1.0
    if isinstance(cond, m.Concluded):
        return ceiling.get(cond.conclusion, 0.0)
    values = sorted((premise_ceiling(item, ceiling) for item in cond.items), reverse=True)
    if isinstance(cond, m.All):
        return min(values)
    if isinstance(cond, m.AnyOf):
        return values[0]
    return values[cond.count - 1] if cond.count <= len(values) else 0.0


def can_hold(cond: m.Cond, space: Space) -> tuple[bool, tuple[Literal, ...]]:
    """(can the condition be true for some patient, the conflict of its first alternative).

    Undecidable sizes count as satisfiable: lint must never cry wolf.
    """
    if alternatives(cond) > MAX_ALTERNATIVES:
        return True, ()
    first: tuple[Literal, ...] = ()
    for conj in conjuncts(cond):
        clash = space.conflict(conj)
        if not clash:
            return True, ()
        first = first or clash
    return False, first


def ceilings(kb: m.KnowledgeBase) -> dict[str, float]:
    """The highest certainty each conclusion can reach: every rule that can fire, firing with its
    best premise, combined MYCIN-style. Unreached conclusions get 0."""
    ceiling = {cid: 0.0 for cid in kb.conclusions}
    for _ in range(len(kb.rules) + 2):
        space = Space(kb, ceiling)
        new = {cid: 0.0 for cid in kb.conclusions}
        for rule in kb.rules:
            if not rule.concludes or rule.concludes not in new or rule.against:
                continue  # evidence against only lowers: the ceiling is what support can reach
            possible, _ = can_hold(rule.when, space)
            if possible:
                gain = rule.certainty * premise_ceiling(rule.when, ceiling)
                new[rule.concludes] = combine(new[rule.concludes], gain)
        if new == ceiling:
            break
        ceiling = new
    return ceiling
