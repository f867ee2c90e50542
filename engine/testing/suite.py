"""Run a knowledge base's case tests as a suite: verdicts, diffs, skips and rule coverage.

Pass or fail comes from `engine.testing.casetests` (the same code the pytest collector uses), so a case
test means the same thing everywhere. This module adds what an author needs around it: the line
of each expectation that failed with expected versus actual, `todo` tests that document known
gaps without failing, tests skipped because a clinic layer switched off a rule they need, and
which rules no test makes fire.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.errors import Location
from engine.inference.assessment import Assessment
from engine.inference.reasoner import Reasoner
from engine.kb import model as m
from engine.testing.casetests import exercise_given, run_case_test

STATUSES = ("pass", "fail", "todo", "xpass", "skip")


@dataclass(frozen=True)
class Difference:
    """One expectation that did not hold: where it is written, what was expected, what happened."""

    location: Location
    key: str
    expected: str
    actual: str


@dataclass(frozen=True)
class TestResult:
    test: m.CaseTest
    status: str
    failures: tuple[str, ...] = ()
    differences: tuple[Difference, ...] = ()
    fired: tuple[str, ...] = ()
    reason: str = ""
    assessment: Assessment | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.test.name, "path": self.test.location.path, "line": self.test.location.line,
            "status": self.status, "reason": self.reason, "failures": list(self.failures),
            "differences": [{"path": d.location.path, "line": d.location.line, "key": d.key,
                             "expected": d.expected, "actual": d.actual} for d in self.differences],
            "fired": list(self.fired),
        }


@dataclass(frozen=True)
class Coverage:
    """Which active rules the suite exercises: made to fire, and checked by a near miss."""

    rules: tuple[m.Rule, ...]
    untested: tuple[m.Rule, ...]  # fire in no test
    no_near_miss: tuple[m.Rule, ...]  # named under `not_fires` by no test

    def to_dict(self) -> dict[str, Any]:
        def rows(rules: tuple[m.Rule, ...]) -> list[dict[str, Any]]:
            return [{"id": r.id, "path": r.location.path, "line": r.location.line} for r in rules]

        return {"rules": len(self.rules), "exercised": len(self.rules) - len(self.untested),
                "untested": rows(self.untested), "no_near_miss": rows(self.no_near_miss)}


@dataclass(frozen=True)
class SuiteReport:
    results: tuple[TestResult, ...]
    coverage: Coverage

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def failed(self) -> bool:
        return self.count("fail") > 0


def run_suite(kb: m.KnowledgeBase, reasoner: Reasoner, keyword: str = "") -> SuiteReport:
    """Run every case test of `kb` (or those whose name contains `keyword`)."""
    switched_off = {d.rule: d for d in kb.disabled}
    results = [run_one(reasoner, test, switched_off) for test in kb.tests
               if keyword.lower() in test.name.lower()]
    return SuiteReport(tuple(results), coverage_of(kb, results))


def run_one(reasoner: Reasoner, test: m.CaseTest, switched_off: dict[str, m.Disabled]) -> TestResult:
    needed = [rid for rid in test.expect.fires if rid in switched_off]
    if needed:
        off = switched_off[needed[0]]
        return TestResult(test, "skip", reason=f"needs rule '{off.rule}', which {off.location} "
                          f"switches off: {off.reason}")
    outcome = run_case_test(reasoner, test)
    result = outcome.assessment
    differences = tuple(compare(test, result)) if outcome.failures else ()
    return TestResult(test, outcome.status, outcome.failures, differences, tuple(result.fired_rules),
                      test.todo, result)


def compare(test: m.CaseTest, result: Assessment) -> list[Difference]:
    """Expected versus actual for each expectation that does not hold, at its own line.

    Mirrors `engine.testing.casetests.check` item by item; `check` stays the verdict.
    """
    exp = test.expect
    fired = result.fired_rules
    out: list[Difference] = []

    def add(key: str, where: str, expected: str, actual: str) -> None:
        out.append(Difference(test.where(where), key, expected, actual))

    if exp.triage and result.triage != exp.triage:
        add("triage", "expect.triage", exp.triage, result.triage)
    for rid in exp.fires:
        if rid not in fired:
            add(f"fires {rid}", "expect.fires", "fires", _did_not_fire(rid, fired))
    for rid in exp.not_fires:
        if rid in fired:
            add(f"not_fires {rid}", "expect.not_fires", "does not fire", "fired")
    for cid, low, high in exp.present:
        got = result.reached(cid)
        bounds = f"certainty {low:.2f} to {high:.2f}"
        if got is None:
            add(f"present {cid}", f"expect.present.{cid}", bounds, "not reached")
        elif not low - 1e-9 <= got.certainty <= high + 1e-9:
            add(f"present {cid}", f"expect.present.{cid}", bounds, f"certainty {got.certainty:.3f}")
    for cid in exp.absent:
        got = result.reached(cid)
        if got is not None:
            add(f"absent {cid}", "expect.absent", "not reached", f"reached, certainty {got.certainty:.3f}")
    if exp.top:
        ranked = result.conditions or result.causes
        top = ranked[0].id if ranked else "nothing"
        if top != exp.top:
            add("top", "expect.top", exp.top, top)
    for key, wanted, got_list in (("stretch", exp.stretch, result.stretch),
                                  ("strengthen", exp.strengthen, result.strengthen)):
        for mid in wanted:
            if mid not in got_list:
                add(f"{key} {mid}", f"expect.{key}", f"{key} {mid}",
                    f"{key}: {', '.join(got_list) or 'nothing'}")
    given = [a.id for a in result.recommendations]
    for rid in exp.recommends:
        if rid not in given:
            add(f"recommends {rid}", "expect.recommends", "given", f"given: {', '.join(given)}")
    for rid in exp.not_recommends:
        if rid in given:
            add(f"not_recommends {rid}", "expect.not_recommends", "not given", "given")
    if exp.no_exercise and (exercise := exercise_given(result)):
        add("no_exercise", "expect.no_exercise", "no exercise, stretch or strengthen",
            ", ".join(exercise))
    return sorted(out, key=lambda d: d.location.line)


def _did_not_fire(rid: str, fired: list[str]) -> str:
    return f"did not fire (fired: {', '.join(fired) or 'nothing'})"


def coverage_of(kb: m.KnowledgeBase, results: list[TestResult]) -> Coverage:
    fired = {rid for r in results for rid in r.fired}
    near = {rid for r in results if r.status != "skip" for rid in r.test.expect.not_fires}
    rules = tuple(kb.rules)
    return Coverage(rules, tuple(r for r in rules if r.id not in fired),
                    tuple(r for r in rules if r.id not in near))

