"""`imbalance kb diff --base DIR CASES`: what a knowledge-base change does to a caseload.

Thin: reading the cases and comparing are `engine.authoring.kbdiff` (on the batch machinery);
this module prints each changed case, the summary table, or one JSON object. Exit 1 when any
case's triage became less urgent (a change that could delay a referral), else 0; 2 for bad input.
"""

from __future__ import annotations

import json
import time

import click

from commands.context import app
from engine.authoring.kbdiff import CaseDiff, Summary, run_diff
from engine.errors import InputError, one_line
from engine.inference import batch as work

FORMATS = ("text", "json")
WORDS = {
    ("triage", "less_urgent"): "triage less urgent", ("triage", "more_urgent"): "triage more urgent",
    ("red_flag", "added"): "red flag added", ("red_flag", "removed"): "red flag removed",
    ("red_flag", "urgency"): "red flag urgency changed",
    ("condition", "added"): "condition added", ("condition", "removed"): "condition removed",
    ("condition", "band"): "condition certainty band changed",
    ("plan", "changed"): "plan changed", ("risk_group", "changed"): "risk group changed",
    ("readable", "changed"): "base cannot read the case",
}


@click.command()
@click.option("--base", "base_dirs", multiple=True, metavar="DIR",
              help="The knowledge base to compare against: a whole kb/ folder (e.g. the last "
                   "release), then any layers on it (repeatable).")
@click.option("--base-layer", "base_layers", multiple=True, metavar="DIR",
              help="Compare against the shipped kb/ plus these layers (e.g. your clinic's last "
                   "released folder) instead of a whole --base folder (repeatable).")
@click.argument("cases", metavar="CASES")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: the number of cores).")
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True,
              help="Changed cases to print in text (0: all); the summary counts every case.")
@click.pass_context
def diff(ctx: click.Context, base_dirs: tuple[str, ...], base_layers: tuple[str, ...], cases: str,
         fmt: str, jobs: int | None, limit: int) -> None:
    """Compare the knowledge base in --base with the current one (shipped kb/ plus --kb layers)
    over CASES (a folder of case files or a .jsonl file): every case whose triage, red flags,
    conditions (id or certainty band), plan or risk group changed, with the rules responsible,
    then a summary. Exit 1 when any triage became less urgent."""
    state = app(ctx)
    if bool(base_dirs) == bool(base_layers):
        raise InputError("kb diff needs the knowledge base to compare against: --base DIR (a "
                         "whole kb/ folder) or --base-layer DIR (the shipped kb/ plus a layer)",
                         key="--base", suggestion="for example '--base-layer my_clinic_release'")
    if base_layers:
        from engine.kb.loader import shipped_kb_dir

        base_dirs = (str(shipped_kb_dir()), *base_layers)
    if work.check_input(cases) == "stdin":
        raise InputError("kb diff reads a folder of case files or a .jsonl file, not standard "
                         "input", key="CASES")
    started = time.perf_counter()
    summary = Summary()
    shown: list[CaseDiff] = []
    for result in run_diff(work.read_items(cases), base_dirs, state.kb_dirs,
                           jobs or work.default_jobs()):
        summary.add(result)
        if (result.changes or result.error) and (fmt == "json" or not limit or len(shown) < limit):
            shown.append(result)
            if fmt == "text":
                click.echo("\n".join(case_lines(result)))
    seconds = time.perf_counter() - started
    if fmt == "json":
        click.echo(json.dumps({"base": list(base_dirs), "current": ["kb", *state.kb_dirs],
                               "summary": summary.to_dict(),
                               "cases": [c.to_dict() for c in shown]}, indent=2,
                              ensure_ascii=False))
    else:
        if limit and summary.changed + summary.errors > len(shown):
            click.echo(f"... {summary.changed + summary.errors - len(shown):,} more changed cases "
                       "(--limit 0 shows all)")
        click.echo("\n".join(summary_lines(summary, seconds)))
    ctx.exit(1 if summary.less_urgent else 0)


def case_lines(result: CaseDiff) -> list[str]:
    if result.error:
        return [one_line(f"ERROR {result.id}: {result.error}")]
    head = "LESS URGENT " if result.less_urgent else "CHANGED "
    lines = [one_line(f"{head}{result.id}")]
    for change in result.changes:
        what = f" {change.what}" if change.what else ""
        rules = f"  [rules: {', '.join(change.rules)}]" if change.rules else ""
        lines.append(one_line(f"  {change.aspect}{what}: {change.before} -> {change.after}{rules}"))
    return lines


def summary_lines(summary: Summary, seconds: float) -> list[str]:
    rows = [(WORDS.get(key, " ".join(key)), n) for key, n in
            sorted(summary.kinds.items(), key=lambda kv: (list(WORDS).index(kv[0])
                                                          if kv[0] in WORDS else 99))]
    width = max([len("change"), *(len(w) for w, _ in rows)])
    lines = ["", f"{'change':<{width}}  cases", f"{'-' * width}  -----"]
    lines += [f"{word:<{width}}  {n:>5,}" for word, n in rows] or [f"{'(none)':<{width}}      0"]
    if summary.rules:
        lines.append("rules responsible (cases): " + ", ".join(
            f"{rid} {n:,}" for rid, n in summary.rules.most_common(15)))
    rate = summary.cases / seconds if seconds > 0 else 0.0
    lines.append(f"kb diff: {summary.cases:,} cases, {summary.changed:,} changed, "
                 f"{summary.less_urgent:,} less urgent, {summary.errors:,} errors "
                 f"in {seconds:.1f} s ({rate:,.0f} cases/s)")
    return lines
