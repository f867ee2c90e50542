"""Run the KB's own case tests: expected triage, rules that must (not) fire, certainty bounds.

Shared by `imbalance kb test`, the pytest collector and the example-case checks, so a case test
means the same thing everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.cases.case import Case
from engine.inference.assessment import Assessment
from engine.inference.reasoner import Reasoner
from engine.kb import model as m


@dataclass(frozen=True)
class Outcome:
    test: m.CaseTest
    failures: tuple[str, ...]
    assessment: Assessment

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def status(self) -> str:
        if self.test.todo:
            return "xpass" if self.passed else "todo"
        return "pass" if self.passed else "fail"


def case_of(test: m.CaseTest) -> Case:
    findings = {k: v for k, v in test.findings if v is not None}
    return Case(str(test.location), dict(test.patient), findings)


def check(result: Assessment, expect: m.Expectation) -> list[str]:
    """Every way `result` differs from `expect`, as 'expected ..., got ...' lines."""
    failures: list[str] = []
    fired = result.fired_rules
    if expect.triage and result.triage != expect.triage:
        failures.append(f"triage: expected {expect.triage}, got {result.triage}")
    for rule in expect.fires:
        if rule not in fired:
            failures.append(f"rule {rule}: expected to fire, did not")
    for rule in expect.not_fires:
        if rule in fired:
            failures.append(f"rule {rule}: expected not to fire, fired")
    for cid, low, high in expect.present:
        got = result.reached(cid)
        if got is None:
            failures.append(f"{cid}: expected certainty in [{low:.2f}, {high:.2f}], not reached")
        elif not low - 1e-9 <= got.certainty <= high + 1e-9:
            failures.append(f"{cid}: expected certainty in [{low:.2f}, {high:.2f}], got {got.certainty:.3f}")
    for cid in expect.absent:
        got = result.reached(cid)
        if got is not None:
            failures.append(f"{cid}: expected absent, reached with certainty {got.certainty:.3f}")
    if expect.top:
        ranked = result.conditions or result.causes
        top = ranked[0].id if ranked else "nothing"
        if top != expect.top:
            failures.append(f"top conclusion: expected {expect.top}, got {top}")
    for mid in expect.stretch:
        if mid not in result.stretch:
            failures.append(f"stretch {mid}: expected, not advised")
    for mid in expect.strengthen:
        if mid not in result.strengthen:
            failures.append(f"strengthen {mid}: expected, not advised")
    given = [a.id for a in result.recommendations]
    for rid in expect.recommends:
        if rid not in given:
            failures.append(f"recommendation {rid}: expected, not given")
    for rid in expect.not_recommends:
        if rid in given:
            failures.append(f"recommendation {rid}: expected not to be given, given")
    if expect.no_exercise and (exercise := exercise_given(result)):
        failures.append(f"no exercise: expected none, given {', '.join(exercise)}")
    return failures


def exercise_given(result: Assessment) -> list[str]:
    """Exercise, stretch and strengthen items and muscles the patient is given."""
    items = [a.id for a in result.recommendations if a.kind in m.EXERCISE_KINDS]
    return items + [f"stretch {mid}" for mid in result.stretch] + \
        [f"strengthen {mid}" for mid in result.strengthen]


def run_case_test(reasoner: Reasoner, test: m.CaseTest) -> Outcome:
    result = reasoner.assess(case_of(test))
    return Outcome(test, tuple(check(result, test.expect)), result)
