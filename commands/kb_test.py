"""`imbalance kb test`: run every case test of the combined knowledge base.

Exit 0 when every test passes (known gaps marked `todo` do not count), 1 when one fails. With
`--coverage`, also list the rules no test makes fire, and exit 1 when there are any: asking for
coverage is asking for the check. A knowledge base that does not load is bad input: exit 2.
"""

from __future__ import annotations

import json
import time

import click

from commands.context import app
from engine.testing.suite import STATUSES, SuiteReport, TestResult, run_suite

FORMATS = ("text", "json")
LABEL = {"pass": "PASS", "fail": "FAIL", "todo": "TODO", "xpass": "XPASS", "skip": "SKIP"}


@click.command()
@click.option("--coverage", is_flag=True,
              help="Also list rules that fire in no test; exit 1 when there are any.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("-k", "--keyword", default="", metavar="TEXT",
              help="Run only the tests whose name contains TEXT.")
@click.option("-v", "--verbose", is_flag=True, help="List passing tests too.")
@click.pass_context
def test(ctx: click.Context, coverage: bool, fmt: str, keyword: str, verbose: bool) -> None:
    """Run the knowledge base's case tests (expected triage, rules that must or must not fire,
    certainty bounds); report each failure at its file and line with expected versus actual."""
    state = app(ctx)
    kb = state.kb()
    started = time.perf_counter()
    report = run_suite(kb, state.reasoner(), keyword)
    seconds = time.perf_counter() - started
    untested = bool(report.coverage.untested)
    code = 1 if report.failed or (coverage and untested) else 0
    if fmt == "json":
        data = {"ok": code == 0, **{status: report.count(status) for status in STATUSES},
                "tests": [r.to_dict() for r in report.results]}
        if coverage:
            data["coverage"] = report.coverage.to_dict()
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        click.echo("\n".join(render(report, verbose, coverage, seconds)))
    ctx.exit(code)


def render(report: SuiteReport, verbose: bool, coverage: bool, seconds: float) -> list[str]:
    lines: list[str] = []
    for result in report.results:
        if result.status != "pass" or verbose:
            lines.extend(_result_lines(result))
    if coverage:
        lines.extend(_coverage_lines(report))
    lines.append(_summary(report, seconds))
    return lines


def _result_lines(result: TestResult) -> list[str]:
    head = f"{LABEL[result.status]} {result.test.location}: {result.test.name}"
    if result.status == "todo":
        return [f"{head} (known gap: {result.reason})"]
    if result.status == "xpass":
        return [f"{head}: passes now; remove its 'todo' ({result.reason})"]
    if result.status == "skip":
        return [f"{head} ({result.reason})"]
    if result.status == "pass":
        return [head]
    lines = [head]
    for diff in result.differences:
        lines += [f"  {diff.location}: {diff.key}",
                  f"    - expected: {diff.expected}",
                  f"    + actual:   {diff.actual}"]
    if not result.differences:  # pragma: no cover - compare() mirrors check(); keep the verdict
        lines += [f"  {failure}" for failure in result.failures]
    if result.assessment is not None:
        reached = [f"{r.id} {r.certainty:.2f}" for r in (*result.assessment.red_flags,
                                                         *result.assessment.conditions,
                                                         *result.assessment.causes)]
        lines.append(f"  triage {result.assessment.triage}; fired: "
                     f"{', '.join(result.fired) or 'nothing'}; reached: {', '.join(reached) or 'nothing'}")
    return lines


def _coverage_lines(report: SuiteReport) -> list[str]:
    cov = report.coverage
    total = len(cov.rules)
    lines = [f"Coverage: {total - len(cov.untested)} of {total} rules fire in at least one test"]
    if cov.untested:
        lines.append("  rules that fire in no test:")
        lines += [f"    {rule.location}: {rule.id}" for rule in cov.untested]
    if cov.no_near_miss:
        lines.append(f"  {len(cov.no_near_miss)} rules have no near miss (a test listing them "
                     "under not_fires): " + ", ".join(rule.id for rule in cov.no_near_miss))
    return lines


def _summary(report: SuiteReport, seconds: float) -> str:
    if not report.results:
        return "kb test: no case tests found (add a 'tests:' section; see docs/AUTHORING.md)"
    words = {"pass": "passed", "fail": "failed", "todo": "todo (known gaps)",
             "xpass": "todo passing now", "skip": "skipped"}
    parts = [f"{report.count(s)} {words[s]}" for s in STATUSES if report.count(s) or s == "pass"]
    return f"kb test: {', '.join(parts)} in {seconds:.1f} s"
