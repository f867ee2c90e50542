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

from engine.inference.assessment import Assessment
from engine.inference.reasoner import Reasoner
from engine.kb import model as m
from engine.testing.casetests import Difference, run_case_test

STATUSES = ("pass", "fail", "todo", "xpass", "skip")


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
    return TestResult(test, outcome.status, outcome.failures, outcome.differences, tuple(result.fired_rules),
                      test.todo, result)


def coverage_of(kb: m.KnowledgeBase, results: list[TestResult]) -> Coverage:
    fired = {rid for r in results for rid in r.fired}
    near = {rid for r in results if r.status != "skip" for rid in r.test.expect.not_fires}
    rules = tuple(kb.rules)
    return Coverage(rules, tuple(r for r in rules if r.id not in fired),
                    tuple(r for r in rules if r.id not in near))

