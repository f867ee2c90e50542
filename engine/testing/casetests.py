"""Judge an assessment against an expectation: the KB's case tests and the examples' `expect:`.

Shared by `imbalance kb test`, the pytest collector and the example-case checks, so a case test
means the same thing everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine.cases.case import Case
from engine.errors import CaseError, Location, Problem
from engine.inference.assessment import Assessment
from engine.inference.reasoner import Reasoner
from engine.kb import model as m
from engine.kb import schema
from engine.kb.yamlsource import own_line


@dataclass(frozen=True)
class Outcome:
    test: m.CaseTest
    differences: tuple[Difference, ...]
    assessment: Assessment

    @property
    def failures(self) -> tuple[str, ...]:
        return tuple(d.line() for d in self.differences)

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def status(self) -> str:
        if self.test.todo:
            return "xpass" if self.passed else "todo"
        return "pass" if self.passed else "fail"


def expectation_of(case: Case) -> m.Expectation:
    """A case file's `expect:` block (the examples state what they should assess as), read by
    the same reader as the KB's case tests. A mistake in it is a CaseError at its line."""
    problems: list[Problem] = []
    reader = schema.Reader(case.source, problems)
    where = Location(case.source, own_line(case.expect, 1))
    expect = schema.read_expectation(reader, case.expect, where, "the case's expect block")
    if problems:
        first = problems[0]
        raise CaseError(first.message, first.location, first.key, first.suggestion)
    return expect


def case_of(test: m.CaseTest) -> Case:
    findings = {k: v for k, v in test.findings if v is not None}
    return Case(str(test.location), dict(test.patient), findings)


@dataclass(frozen=True)
class Difference:
    """One expectation that did not hold: where it is written, what was expected, what happened."""

    location: Location
    key: str
    expected: str
    actual: str

    def line(self) -> str:
        return f"{self.key}: expected {self.expected}, got {self.actual}"


def compare(expect: m.Expectation, result: Assessment,
            where: Callable[[str], Location] | None = None) -> list[Difference]:
    """Every way `result` differs from `expect`, each at the line of its own expectation.

    The one comparer: `kb test`, the pytest collector of `kb/tests/` and the examples' `expect:`
    blocks all judge through it, so "this case passes" means one thing everywhere.
    """
    def at(key: str) -> Location:
        return where(key) if where else Location("", 0)

    fired = result.fired_rules
    out: list[Difference] = []

    def add(key: str, place: str, expected: str, actual: str) -> None:
        out.append(Difference(at(place), key, expected, actual))

    if expect.triage and result.triage != expect.triage:
        add("triage", "expect.triage", expect.triage, result.triage)
    for rid in expect.fires:
        if rid not in fired:
            add(f"fires {rid}", "expect.fires", "fires",
                f"did not fire (fired: {', '.join(fired) or 'nothing'})")
    for rid in expect.not_fires:
        if rid in fired:
            add(f"not_fires {rid}", "expect.not_fires", "does not fire", "fired")
    for cid, low, high in expect.present:
        got = result.reached(cid)
        bounds = f"certainty {low:.2f} to {high:.2f}"
        if got is None:
            add(f"present {cid}", f"expect.present.{cid}", bounds, "not reached")
        elif not low - 1e-9 <= got.certainty <= high + 1e-9:
            add(f"present {cid}", f"expect.present.{cid}", bounds, f"certainty {got.certainty:.3f}")
    for cid in expect.absent:
        got = result.reached(cid)
        if got is not None:
            add(f"absent {cid}", "expect.absent", "not reached", f"reached, certainty {got.certainty:.3f}")
    if expect.top:
        ranked = result.conditions or result.causes
        top = ranked[0].id if ranked else "nothing"
        if top != expect.top:
            add("top", "expect.top", expect.top, top)
    for key, wanted, got_list in (("stretch", expect.stretch, result.stretch),
                                  ("strengthen", expect.strengthen, result.strengthen)):
        for mid in wanted:
            if mid not in got_list:
                add(f"{key} {mid}", f"expect.{key}", f"{key} {mid}",
                    f"{key}: {', '.join(got_list) or 'nothing'}")
    given = [a.id for a in result.recommendations]
    for rid in expect.recommends:
        if rid not in given:
            add(f"recommends {rid}", "expect.recommends", "given", f"given: {', '.join(given) or 'nothing'}")
    for rid in expect.not_recommends:
        if rid in given:
            add(f"not_recommends {rid}", "expect.not_recommends", "not given", "given")
    if expect.no_exercise and (exercise := exercise_given(result)):
        add("no_exercise", "expect.no_exercise", "no exercise, stretch or strengthen",
            ", ".join(exercise))
    return sorted(out, key=lambda d: d.location.line) if where else out


def check(result: Assessment, expect: m.Expectation) -> list[str]:
    """Every way `result` differs from `expect`, as 'key: expected ..., got ...' lines."""
    return [d.line() for d in compare(expect, result)]


def exercise_given(result: Assessment) -> list[str]:
    """Exercise, stretch and strengthen items and muscles the patient is given."""
    items = [a.id for a in result.recommendations if a.kind in m.EXERCISE_KINDS]
    return items + [f"stretch {mid}" for mid in result.stretch] + \
        [f"strengthen {mid}" for mid in result.strengthen]


def run_case_test(reasoner: Reasoner, test: m.CaseTest) -> Outcome:
    result = reasoner.assess(case_of(test))
    return Outcome(test, tuple(compare(test.expect, result, test.where)), result)
