"""Premises compiled to Python closures: one call per rule answers "does it hold, how strongly".

`engine.inference.premises.Evaluator` walks the condition tree and returns `(truth, certainty)`
pairs at every node; that is clear, and it is what explanations and the interview use, but it
was most of the time of a case once the engine ran it on every activation. Here the same tree is
turned, once per KB, into nested closures built from the parsed rule data (never source text,
never eval/exec), each returning ONE float in the encoding CLIPS's translation also uses:

    > 0   true, with that premise certainty
    0.0   false
    -1.0  unknown (a finding it needs is not known)

The meaning is Kleene's three-valued logic exactly as `Evaluator.evaluate` defines it (the
tests hold the two against each other on random cases): `all` takes the weakest true part,
`any` the strongest, `at_least N` the N-th strongest, `not` flips true and false and keeps
unknown, a finding test counts as 1.0, and a `concluded` leaf is its certainty when reached.
Common shapes (a conjunction of finding tests, the most frequent rule in the KB) get one flat
closure instead of a closure per leaf. What a closure needs is bound as default arguments rather
than captured in cells, and leaf checks are shared (`premises.predicate`): a rule's premise is then
a function object and one tuple of its data, fewer scattered objects for a case to touch, which is
what a case pays for as the KB grows (bench/RESULTS.md, growth).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any

from engine.inference.premises import predicate
from engine.kb import model as m

UNKNOWN = -1.0
FALSE = 0.0

# premise(findings, certainty) -> float, in the encoding above
Premise = Callable[[Mapping[str, Any], Mapping[str, float]], float]

_MISSING = object()
Tests = tuple[tuple[str, Callable[[Any], bool]], ...]  # (finding id, check of its value)
Reached = tuple[tuple[str, float], ...]  # (conclusion id, the least certainty that counts)


def compile_premise(cond: m.Cond, kb: m.KnowledgeBase,
                    shared: dict[Any, Any] | None = None) -> Premise:
    """The closure for one condition tree (see the module docstring for what it returns).
    `shared`: one dict for every rule of a KB, so equal leaf data is one object (`_Builder`)."""
    return _Builder(kb, shared).build(cond)


def compile_premise_reads(cond: m.Cond, kb: m.KnowledgeBase,
                          shared: dict[Any, Any] | None = None) -> tuple[
        Premise, tuple[str, ...], tuple[str, ...]]:
    """The closure, and the finding and conclusion ids it reads (each once, in reading order),
    from one walk of the tree."""
    builder = _Builder(kb, shared)
    premise = builder.build(cond)
    return premise, tuple(builder.findings), tuple(builder.conclusions)


class _Builder:
    """Builds one rule's closures. Leaf data (a finding id with its check, a conclusion id with
    its minimum, an `any` group of tests) is made once per KB through `shared` and reused by
    every rule that reads the same: fewer distinct objects for a stream of cases to touch."""

    def __init__(self, kb: m.KnowledgeBase, shared: dict[Any, Any] | None = None) -> None:
        self.kb = kb
        self.shared: dict[Any, Any] = {} if shared is None else shared
        self.findings: dict[str, None] = {}
        self.conclusions: dict[str, None] = {}

    def one(self, item: tuple[Any, ...]) -> Any:
        """The KB's one object equal to `item` (a tuple of ids, checks and numbers; checks are
        shared functions, so equal means the same check)."""
        return self.shared.setdefault(item, item)

    def check(self, test: m.Test) -> Callable[[Any], bool]:
        self.findings[sys.intern(test.finding)] = None
        finding = self.kb.findings.get(test.finding)
        return predicate(test, finding.type if finding else "boolean")

    def leaf(self, test: m.Test) -> tuple[str, Callable[[Any], bool]]:
        """(finding id, check). Ids are interned: every rule reading a finding holds the one
        string object (and the index its key), not a copy per leaf, so a case touches one."""
        return self.one((sys.intern(test.finding), self.check(test)))

    def reached(self, leaf: m.Concluded) -> tuple[str, float]:
        cid = sys.intern(leaf.conclusion)
        self.conclusions[cid] = None
        return self.one((cid, float(leaf.min_certainty)))

    def build(self, cond: m.Cond) -> Premise:
        if isinstance(cond, m.Test):
            return _test(*self.leaf(cond))
        if isinstance(cond, m.Concluded):
            return _concluded(*self.reached(cond))
        if isinstance(cond, m.Not):
            if isinstance(cond.item, m.Test):
                return _not_test(*self.leaf(cond.item))
            return _not(self.build(cond.item))
        if isinstance(cond, m.AtLeast):
            return _at_least(cond.count, tuple(self.build(item) for item in cond.items))
        if isinstance(cond, m.All):
            return self.build_all(cond)
        # finding tests and concluded leaves are checked inline (they are most of an `any`)
        tests = tuple(self.leaf(i) for i in cond.items if isinstance(i, m.Test))
        reached = tuple(self.reached(i) for i in cond.items if isinstance(i, m.Concluded))
        parts = tuple(self.build(i) for i in cond.items
                      if not isinstance(i, (m.Test, m.Concluded)))
        return _any(tests, reached, parts)

    def build_all(self, cond: m.All) -> Premise:
        """An `all` as ONE closure for its common parts: finding tests, negated finding tests,
        `concluded` leaves and `any` groups of finding tests are checked inline (most rules are
        made of nothing else); only other parts get closures of their own. An `all` of one
        finding test, negated test, `concluded` leaf or `any` of finding tests is that part's
        closure (the same value: the weakest of one part is that part), and one of up to three
        finding tests gets an
        unrolled closure: their data then sits in the function's own defaults, with no tuple of
        pairs to walk, so evaluating the premise touches fewer objects (growth, bench/RESULTS.md)."""
        if len(cond.items) == 1:
            only = cond.items[0]
            if isinstance(only, (m.Test, m.Concluded)) or (
                    isinstance(only, m.Not) and isinstance(only.item, m.Test)) or (
                    isinstance(only, m.AnyOf) and only.items
                    and all(isinstance(i, m.Test) for i in only.items)):
                return self.build(only)
        tests: list[tuple[str, Callable[[Any], bool]]] = []
        negated: list[tuple[str, Callable[[Any], bool]]] = []
        concluded: list[tuple[str, float]] = []
        excluded: list[tuple[str, float]] = []
        groups: list[Tests] = []
        parts: list[Premise] = []
        for item in cond.items:
            if isinstance(item, m.Test):
                tests.append(self.leaf(item))
            elif isinstance(item, m.Not) and isinstance(item.item, m.Test):
                negated.append(self.leaf(item.item))
            elif isinstance(item, m.Concluded):
                concluded.append(self.reached(item))
            elif (isinstance(item, m.Not) and isinstance(item.item, m.AnyOf) and item.item.items
                  and all(isinstance(i, m.Concluded) for i in item.item.items)):
                # none of these reached (a `concluded` is never unknown, so neither is this)
                excluded.extend(self.reached(i) for i in item.item.items
                                if isinstance(i, m.Concluded))
            elif (isinstance(item, m.AnyOf) and item.items
                  and all(isinstance(i, m.Test) for i in item.items)):
                groups.append(self.one(tuple(self.leaf(i) for i in item.items
                                             if isinstance(i, m.Test))))
            else:
                parts.append(self.build(item))
        if not (negated or concluded or excluded or groups or parts):
            if 1 <= len(tests) <= 3:
                return _UNROLLED[len(tests)](*(x for leaf in tests for x in leaf))
            return _all_tests(tuple(tests))
        if len(tests) == 1 and not (negated or excluded or parts):
            # the next commonest shapes: a finding test with one `concluded` leaf or one `any`
            if len(concluded) == 1 and not groups:
                return _test_and_concluded(*tests[0], *concluded[0])
            if len(groups) == 1 and not concluded:
                return _test_and_any(*tests[0], groups[0])
        return _all(tuple(tests), tuple(negated), tuple(concluded), tuple(excluded),
                    tuple(groups), tuple(parts))


def _test(fid: str, check: Callable[[Any], bool]) -> Premise:
    def premise(findings: Mapping[str, Any], _certainty: Mapping[str, float],
                _fid: str = fid, _check: Callable[[Any], bool] = check) -> float:
        value = findings.get(_fid, _MISSING)
        if value is _MISSING:
            return UNKNOWN
        return 1.0 if _check(value) else FALSE

    return premise


def _not_test(fid: str, check: Callable[[Any], bool]) -> Premise:
    def premise(findings: Mapping[str, Any], _certainty: Mapping[str, float],
                _fid: str = fid, _check: Callable[[Any], bool] = check) -> float:
        value = findings.get(_fid, _MISSING)
        if value is _MISSING:
            return UNKNOWN
        return FALSE if _check(value) else 1.0

    return premise


def _concluded(cid: str, low: float) -> Premise:
    def premise(_findings: Mapping[str, Any], certainty: Mapping[str, float],
                _cid: str = cid, _low: float = low) -> float:
        cf = certainty.get(_cid)
        if cf is None or cf < _low or cf <= 0:
            return FALSE
        return cf

    return premise


def _not(inner: Premise) -> Premise:
    def premise(findings: Mapping[str, Any], certainty: Mapping[str, float],
                _inner: Premise = inner) -> float:
        x = _inner(findings, certainty)
        if x < 0:
            return UNKNOWN
        return FALSE if x > 0 else 1.0

    return premise


def _all_tests(tests: Tests) -> Premise:
    """`all` of finding tests only: false at the first known failure, else unknown or 1.0."""

    def premise(findings: Mapping[str, Any], _certainty: Mapping[str, float],
                _tests: Tests = tests) -> float:
        unknown = False
        for fid, check in _tests:
            value = findings.get(fid, _MISSING)
            if value is _MISSING:
                unknown = True
            elif not check(value):
                return FALSE
        return UNKNOWN if unknown else 1.0

    return premise


def _all_2(f0: str, c0: Callable[[Any], bool], f1: str, c1: Callable[[Any], bool]) -> Premise:
    """`_all_tests` of two tests, unrolled (same value, same order of checks)."""

    def premise(findings: Mapping[str, Any], _certainty: Mapping[str, float],
                _f0: str = f0, _c0: Callable[[Any], bool] = c0, _f1: str = f1,
                _c1: Callable[[Any], bool] = c1) -> float:
        a = findings.get(_f0, _MISSING)
        if a is not _MISSING and not _c0(a):
            return FALSE
        b = findings.get(_f1, _MISSING)
        if b is not _MISSING and not _c1(b):
            return FALSE
        return UNKNOWN if a is _MISSING or b is _MISSING else 1.0

    return premise


def _all_3(f0: str, c0: Callable[[Any], bool], f1: str, c1: Callable[[Any], bool], f2: str,
           c2: Callable[[Any], bool]) -> Premise:
    """`_all_tests` of three tests, unrolled (same value, same order of checks)."""

    def premise(findings: Mapping[str, Any], _certainty: Mapping[str, float],
                _f0: str = f0, _c0: Callable[[Any], bool] = c0, _f1: str = f1,
                _c1: Callable[[Any], bool] = c1, _f2: str = f2,
                _c2: Callable[[Any], bool] = c2) -> float:
        a = findings.get(_f0, _MISSING)
        if a is not _MISSING and not _c0(a):
            return FALSE
        b = findings.get(_f1, _MISSING)
        if b is not _MISSING and not _c1(b):
            return FALSE
        c = findings.get(_f2, _MISSING)
        if c is not _MISSING and not _c2(c):
            return FALSE
        return UNKNOWN if a is _MISSING or b is _MISSING or c is _MISSING else 1.0

    return premise


def _test_and_concluded(f0: str, c0: Callable[[Any], bool], cid: str, least: float) -> Premise:
    """`_all` of one finding test and one `concluded` leaf, unrolled (same value)."""

    def premise(findings: Mapping[str, Any], certainty: Mapping[str, float],
                _f0: str = f0, _c0: Callable[[Any], bool] = c0, _cid: str = cid,
                _least: float = least) -> float:
        a = findings.get(_f0, _MISSING)
        if a is not _MISSING and not _c0(a):
            return FALSE
        cf = certainty.get(_cid)
        if cf is None or cf < _least or cf <= 0:
            return FALSE
        if a is _MISSING:
            return UNKNOWN
        return cf if cf < 1.0 else 1.0

    return premise


def _test_and_any(f0: str, c0: Callable[[Any], bool], group: Tests) -> Premise:
    """`_all` of one finding test and one `any` of finding tests, unrolled (same value)."""

    def premise(findings: Mapping[str, Any], _certainty: Mapping[str, float],
                _f0: str = f0, _c0: Callable[[Any], bool] = c0, _group: Tests = group) -> float:
        a = findings.get(_f0, _MISSING)
        if a is not _MISSING and not _c0(a):
            return FALSE
        missing = False
        for fid, check in _group:
            value = findings.get(fid, _MISSING)
            if value is _MISSING:
                missing = True
            elif check(value):
                return UNKNOWN if a is _MISSING else 1.0
        return UNKNOWN if missing else FALSE  # no test of the group holds

    return premise


_UNROLLED: dict[int, Callable[..., Premise]] = {1: _test, 2: _all_2, 3: _all_3}


def _all(tests: Tests, negated: Tests, concluded: Reached, excluded: Reached,
         groups: tuple[Tests, ...], parts: tuple[Premise, ...]) -> Premise:
    """`all`: false as soon as one part is known false, else unknown if one part is unknown,
    else the weakest certainty. The parts are taken in groups by kind (the order of an `all`'s
    parts does not change its value): finding tests, negated finding tests (`not` of a test:
    true when the test is known to fail), `concluded` leaves (their certainty when reached at
    their minimum, else false, never unknown), `not any` of concluded leaves (`excluded`:
    false as soon as one is reached), `any` groups of finding tests (true when one holds,
    false when all are known and none holds), then any other part's closure."""
    def premise(findings: Mapping[str, Any], certainty: Mapping[str, float],
                _tests: Tests = tests, _negated: Tests = negated, _concluded: Reached = concluded,
                _excluded: Reached = excluded, _groups: tuple[Tests, ...] = groups,
                _parts: tuple[Premise, ...] = parts) -> float:
        unknown = False
        for fid, check in _tests:
            value = findings.get(fid, _MISSING)
            if value is _MISSING:
                unknown = True
            elif not check(value):
                return FALSE
        for fid, check in _negated:
            value = findings.get(fid, _MISSING)
            if value is _MISSING:
                unknown = True
            elif check(value):
                return FALSE
        low = 1.0
        for cid, least in _concluded:
            cf = certainty.get(cid)
            if cf is None or cf < least or cf <= 0:
                return FALSE
            if cf < low:
                low = cf
        for cid, least in _excluded:
            cf = certainty.get(cid)
            if cf is not None and cf >= least and cf > 0:
                return FALSE
        for group in _groups:
            missing = False
            for fid, check in group:
                value = findings.get(fid, _MISSING)
                if value is _MISSING:
                    missing = True
                elif check(value):
                    break
            else:  # no test in the group holds
                if not missing:
                    return FALSE
                unknown = True
        for part in _parts:
            x = part(findings, certainty)
            if x == 0:
                return FALSE  # one false part makes the whole false, whatever is unknown
            if x < 0:
                unknown = True
            elif x < low:
                low = x
        return UNKNOWN if unknown else low

    return premise


def _any(tests: Tests, reached: Reached, parts: tuple[Premise, ...]) -> Premise:
    """`any`: the strongest true part; else unknown if one part is unknown, else false.
    Finding tests, then concluded leaves (certainty when reached at their minimum), inline."""
    def premise(findings: Mapping[str, Any], certainty: Mapping[str, float],
                _tests: Tests = tests, _reached: Reached = reached,
                _parts: tuple[Premise, ...] = parts) -> float:
        unknown = False
        for fid, check in _tests:
            value = findings.get(fid, _MISSING)
            if value is _MISSING:
                unknown = True
            elif check(value):
                return 1.0  # nothing is stronger than a finding that holds
        high = 0.0
        for cid, least in _reached:
            cf = certainty.get(cid)
            if cf is not None and cf >= least and cf > high:
                high = cf
        if high >= 1.0:
            return high
        for part in _parts:
            x = part(findings, certainty)
            if x < 0:
                unknown = True
            elif x > high:
                high = x
                if high >= 1.0:
                    return high
        if high > 0:
            return high
        return UNKNOWN if unknown else FALSE

    return premise


def _at_least(count: int, parts: tuple[Premise, ...]) -> Premise:
    def premise(findings: Mapping[str, Any], certainty: Mapping[str, float],
                _count: int = count, _parts: tuple[Premise, ...] = parts) -> float:
        true: list[float] = []
        unknown = 0
        for part in _parts:
            x = part(findings, certainty)
            if x < 0:
                unknown += 1
            elif x > 0:
                true.append(x)
        if len(true) >= _count:
            true.sort(reverse=True)
            return true[_count - 1]
        return FALSE if len(true) + unknown < _count else UNKNOWN

    return premise


__all__ = ["FALSE", "UNKNOWN", "Premise", "compile_premise", "compile_premise_reads"]
