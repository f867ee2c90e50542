"""`imbalance kb test`: run every case test of the combined knowledge base.

Exit 0 when every test passes (known gaps marked `todo` do not count), 1 when one fails. With
`--coverage`, also list the rules no test makes fire, and exit 1 when there are any: asking for
coverage is asking for the check. A knowledge base that does not load is bad input: exit 2.

`--junit FILE` also writes the results as JUnit XML for a CI server. `--mutate` then breaks
the rules on purpose (engine.testing.mutation) and reports how many of those mutants the tests
catch; below `--min-score` percent the exit code is 1.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from commands.context import app
from engine.errors import InputError
from engine.inference.reasoner import Reasoner
from engine.kb.model import KnowledgeBase
from engine.testing.mutation import OPERATORS, MutationReport
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
@click.option("--junit", "junit", metavar="FILE", default=None,
              help="Also write the results as JUnit XML (replaces an earlier JUnit report).")
@click.option("--mutate", is_flag=True,
              help="Mutation testing: break each rule in small ways and report the mutants no "
                   "test catches.")
@click.option("--mutate-rule", "mutate_rule", default="", metavar="TEXT",
              help="With --mutate: only the rules whose id contains TEXT.")
@click.option("--operator", "operators", multiple=True, type=click.Choice(OPERATORS),
              help="With --mutate: only these kinds of mutant (repeatable; default all).")
@click.option("--min-score", "min_score", type=click.FloatRange(0, 100), default=90.0,
              show_default=True, help="With --mutate: exit 1 below this share of mutants killed.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="With --mutate: worker processes (default: the number of cores).")
@click.option("--suggest", is_flag=True,
              help="With --mutate: print a draft case test (YAML) that would catch each "
                   "surviving mutant; check its expectations before keeping it.")
@click.pass_context
def test(ctx: click.Context, coverage: bool, fmt: str, keyword: str, verbose: bool,
         junit: str | None, mutate: bool, mutate_rule: str, operators: tuple[str, ...],
         min_score: float, jobs: int | None, suggest: bool) -> None:
    """Run the knowledge base's case tests (expected triage, rules that must or must not fire,
    certainty bounds); report each failure at its file and line with expected versus actual."""
    if junit is not None:
        _check_junit_target(junit)
    state = app(ctx)
    kb = state.kb()
    started = time.perf_counter()
    report = run_suite(kb, state.reasoner(), keyword)
    seconds = time.perf_counter() - started
    untested = bool(report.coverage.untested)
    code = 1 if report.failed or (coverage and untested) else 0
    if junit is not None:
        from engine.testing.junit import junit_xml
        from reports.output import write_atomically

        write_atomically(junit, junit_xml(report, seconds), force=True, option="--junit")
    mutation: MutationReport | None = None
    mutation_seconds = 0.0
    if mutate and not report.failed:
        from engine.testing.mutation import all_mutants, run_mutation

        begun = time.perf_counter()
        mutants = all_mutants(kb, operators or OPERATORS, mutate_rule)
        mutation = run_mutation(kb, mutants, jobs or 0)
        mutation_seconds = time.perf_counter() - begun
        if mutation.score * 100 < min_score - 1e-9:
            code = 1
    if fmt == "json":
        data = {"ok": code == 0, **{status: report.count(status) for status in STATUSES},
                "tests": [r.to_dict() for r in report.results]}
        if coverage:
            data["coverage"] = report.coverage.to_dict()
        if mutation is not None:
            data["mutation"] = {**mutation.to_dict(), "min_score": min_score / 100}
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        lines = render(report, verbose, coverage, seconds)
        if mutate and report.failed:
            lines.append("kb test --mutate: fix the failing tests first; mutation testing needs "
                         "a passing suite")
        if mutation is not None:
            lines += mutation_lines(mutation, min_score, mutation_seconds, verbose)
            if suggest:
                lines.append(suggestions(kb, mutation, state.reasoner()))
        click.echo("\n".join(lines))
    ctx.exit(code)


def _check_junit_target(path: str) -> None:
    """A JUnit report is replaced on every run, but never a file that is something else."""
    target = Path(path)
    if target.is_dir():
        raise InputError(f"--junit '{path}' is a folder", key="--junit",
                         suggestion="give a file name such as kb-tests.xml")
    if target.exists():
        try:
            head = target.read_bytes()[:400]
        except OSError as exc:
            raise InputError(f"cannot read --junit '{path}': {exc.strerror}", key="--junit") from None
        if b"<testsuites" not in head:
            raise InputError(f"--junit '{path}' exists and is not a JUnit report; it would be "
                             "lost", key="--junit", suggestion="give a new file name")


def suggestions(kb: KnowledgeBase, mutation: MutationReport, reasoner: Reasoner) -> str:
    """Draft case tests, one per surviving mutant a small patient can catch."""
    from engine.testing.killing import draft, find_killer, to_yaml

    drafts, none = [], []
    for verdict in mutation.verdicts:
        if verdict.status != "survived":
            continue
        killer = find_killer(kb, verdict.mutant, reasoner)
        if killer is None:
            none.append(f"# no small case tells apart {verdict.mutant.location}: "
                        f"{verdict.mutant.rule}: {verdict.mutant.detail}")
        else:
            drafts.append(draft(kb, killer))
    head = ("# Draft case tests for surviving mutants: each shows what the knowledge base answers "
            "now;\n# keep a test only when that answer is clinically right.")
    return "\n".join([head, to_yaml(drafts) if drafts else "tests: []", *none])


def mutation_lines(mutation: MutationReport, min_score: float, seconds: float,
                   verbose: bool) -> list[str]:
    lines = []
    for verdict in mutation.verdicts:
        if verdict.status == "survived":
            mut = verdict.mutant
            lines.append(f"SURVIVED {mut.location}: {mut.rule}: {mut.detail}")
        elif verbose and verdict.status == "killed":
            mut = verdict.mutant
            lines.append(f"KILLED {mut.location}: {mut.rule}: {mut.detail} (by {verdict.killed_by})")
    parts = [f"{op} {killed}/{total}" for op, (killed, total) in mutation.by_operator().items()]
    verdict_word = "ok" if mutation.score * 100 >= min_score - 1e-9 else "below"
    lines.append(f"kb test --mutate: {len(mutation.verdicts)} mutants, "
                 f"{mutation.count('killed')} killed, {mutation.count('survived')} survived: "
                 f"score {mutation.score * 100:.1f}% ({verdict_word} the {min_score:g}% target) "
                 f"in {seconds:.1f} s; {', '.join(parts)}")
    return lines


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
