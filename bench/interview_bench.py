"""Benchmark of `imbalance interview`: does it reach the same assessment with few questions?

For every example case, an interview starts from an empty case and answers each question from
the case file (a finding absent from the file is answered `skip`; a checklist is answered on
one line, as a clinician ticks it: the items present, `skip N` for those the file leaves
unknown, the rest no), going on after red flags. It must reach the same triage and the same
top conditions as `assess` on the full file; the table also says whether every conclusion and
certainty came out the same, how many questions were asked against the size of the vocabulary
(target: a third or less on average), and how many findings those questions settled.

    uv run python bench/interview_bench.py                 # examples/cases/ on the shipped kb/
    uv run python bench/interview_bench.py --one-by-one    # no checklists: one finding a question
    uv run python bench/interview_bench.py --kb clinic/ --cases my_cases/
    uv run python bench/interview_bench.py --sites         # questions with and without the
                                                           # complaint-site gate, and how many
                                                           # were irrelevant to the site

Prints a markdown table (for bench/RESULTS.md); exits 1 when any case disagrees.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from engine.cases.case import load_case  # noqa: E402
from engine.inference.assessment import Assessment  # noqa: E402
from engine.inference.reasoner import Reasoner  # noqa: E402
from engine.interview.planner import Planner, Question  # noqa: E402
from engine.interview.relevance import complaint_sites, out_of_site  # noqa: E402
from engine.interview.session import replay  # noqa: E402
from engine.kb.loader import load_kb  # noqa: E402
from engine.kb.model import KnowledgeBase  # noqa: E402

TOP = 3  # how many of the highest-certainty conditions must match
TARGET_SHARE = 1 / 3


@dataclass(frozen=True)
class Row:
    case: str
    triage_assess: str
    triage_interview: str
    top_assess: tuple[str, ...]
    top_interview: tuple[str, ...]
    same_conclusions: bool
    questions: int  # lines the clinician answered (a checklist is one)
    findings: int  # findings those questions settled (answered or marked not known)
    screen: int  # of those findings, the ones a red-flag rule reads
    vocabulary: int
    seconds: float

    @property
    def agrees(self) -> bool:
        """The benchmark's pass condition: same triage and same top conditions."""
        return self.triage_assess == self.triage_interview and self.top_assess == self.top_interview

    @property
    def share(self) -> float:
        return self.questions / self.vocabulary if self.vocabulary else 0.0


def mode_name(thorough: bool, checklists: bool) -> str:
    settled = ("--thorough (every conclusion settled)" if thorough
               else "default (triage, red flags and conditions settled)")
    return settled + ("" if checklists else ", --one-by-one (no checklists)")


def top_conditions(result: Assessment, n: int = TOP) -> tuple[str, ...]:
    return tuple(item.id for item in result.conditions[:n])


def conclusions(result: Assessment, thorough: bool) -> dict[str, tuple[float, str]]:
    """What the interview must reproduce exactly: red flags and conditions by default, every
    conclusion (causes too) with --thorough."""
    kept = (*result.red_flags, *result.conditions, *(result.causes if thorough else ()))
    return {r.id: (round(r.certainty, 6), r.urgency) for r in kept}


def example_cases(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml", ".json"))


def run_case(path: Path, kb: KnowledgeBase, reasoner: Reasoner, planner: Planner) -> Row:
    """Assess the full file, then interview from nothing answering from the file."""
    case = load_case(str(path), kb)
    full = reasoner.assess(case)
    expected = (full.triage, top_conditions(full), conclusions(full, planner.thorough))
    started = time.perf_counter()
    result = replay(kb, reasoner, case.facts, planner)
    seconds = time.perf_counter() - started
    got = result.assessment
    screen_findings = {f for r in kb.rules if r.band == "red_flag" for f in r.findings_used()}
    screen = sum(1 for fid in result.asked if fid in screen_findings)
    return Row(path.name, expected[0], got.triage, expected[1], top_conditions(got),
               expected[2] == conclusions(got, planner.thorough), result.questions,
               len(result.asked), screen, len(kb.findings), seconds)


def run(kb: KnowledgeBase, cases: list[Path], thorough: bool = False,
        checklists: bool = True) -> list[Row]:
    reasoner = Reasoner(kb)
    planner = Planner(kb, thorough=thorough, checklists=checklists)
    return [run_case(path, kb, reasoner, planner) for path in cases]


def table(rows: list[Row], kb: KnowledgeBase, thorough: bool = False, checklists: bool = True) -> str:
    def ids(values: tuple[str, ...]) -> str:
        return ", ".join(values) or "none"

    lines = [
        f"Knowledge base {kb.version}: {len(kb.rules)} rules, {len(kb.findings)} findings in the "
        f"vocabulary, {len(kb.checklists)} checklists. Absent findings answered `skip`. "
        f"Mode: {mode_name(thorough, checklists)}.",
        "",
        "| case | triage (assess / interview) | top conditions (assess) | top conditions "
        f"(interview) | {'all conclusions' if thorough else 'red flags and conditions'} same | questions "
        "| share of vocabulary | findings settled | of which read by red-flag rules | ok |",
        "|---|---|---|---|---|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.case} | {row.triage_assess} / {row.triage_interview} | {ids(row.top_assess)} | "
            f"{ids(row.top_interview)} | {'yes' if row.same_conclusions else 'NO'} | "
            f"{row.questions} / {row.vocabulary} | {row.share:.0%} | {row.findings} | {row.screen} | "
            f"{'yes' if row.agrees else 'NO'} |")
    if rows:
        total = sum(r.questions for r in rows)
        mean = sum(r.share for r in rows) / len(rows)
        agree = sum(r.agrees for r in rows)
        verdict = "meets" if mean <= TARGET_SHARE else "misses"
        lines.append(f"| **total ({len(rows)} cases)** | {agree}/{len(rows)} agree | | | "
                     f"{sum(r.same_conclusions for r in rows)}/{len(rows)} | "
                     f"{total} / {len(rows) * rows[0].vocabulary} | **{mean:.0%}** mean | "
                     f"{sum(r.findings for r in rows)} | {sum(r.screen for r in rows)} | "
                     f"{'yes' if agree == len(rows) else 'NO'} |")
        lines.append("")
        lines.append(f"Mean share of the vocabulary asked: {mean:.1%} ({verdict} the target of at "
                     f"most {TARGET_SHARE:.0%}); mean {total / len(rows):.1f} questions per case, "
                     f"settling {sum(r.findings for r in rows) / len(rows):.1f} findings; "
                     f"{sum(r.seconds for r in rows) / len(rows) * 1000:.0f} ms per interview.")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class SiteRow:
    """One case interviewed without and with the complaint-site gate."""

    case: str
    sites: tuple[str, ...]  # the pain sites the case marks
    before: int  # questions asked without the gate (Planner(by_site=False))
    before_irrelevant: int  # of those, questions only about conditions at other sites
    after: int
    after_irrelevant: int
    details: int  # patient details asked first (age, sex; not counted as questions)
    agrees: bool  # with the gate: same triage and top conditions as assess


def _walk(kb: KnowledgeBase, reasoner: Reasoner, facts: dict[str, object], planner: Planner,
          gated: frozenset[str]) -> tuple[int, int, int, Assessment]:
    """An interview answered from `facts` by `replay` (details first, as the console):
    questions, those whose every open rule is a condition in `gated`, details, the result."""
    irrelevant = 0

    def count(question: Question) -> None:
        nonlocal irrelevant
        rules = [kb.rule(rid) for rid in question.rules]
        if rules and all(r is not None and r.kind == "condition" and r.concludes in gated
                         for r in rules):
            irrelevant += 1

    done = replay(kb, reasoner, facts, planner, details_first=True, on_question=count)
    return done.questions, irrelevant, done.details, done.assessment


def site_rows(kb: KnowledgeBase, cases: list[Path]) -> list[SiteRow]:
    """Questions per case and how many were irrelevant to the complaint site (questions whose
    only purpose was a condition none of whose `sites` the case marks), before and after."""
    reasoner = Reasoner(kb)
    before_planner, after_planner = Planner(kb, by_site=False), Planner(kb)
    rows = []
    for path in cases:
        case = load_case(str(path), kb)
        facts: dict[str, object] = dict(case.facts)
        full = reasoner.assess(case)
        gated = out_of_site(kb, facts, set(kb.findings))  # as if the whole chart was answered
        before = _walk(kb, reasoner, facts, before_planner, gated)
        after = _walk(kb, reasoner, facts, after_planner, gated)
        agrees = (after[3].triage == full.triage
                  and top_conditions(after[3]) == top_conditions(full))
        rows.append(SiteRow(path.name, tuple(sorted(complaint_sites(kb, facts))), before[0],
                            before[1], after[0], after[1], after[2], agrees))
    return rows


def site_table(rows: list[SiteRow]) -> str:
    lines = [
        "Complaint-site gating (issue 14.4): each case interviewed as the console does (patient "
        "age and sex first, not counted), once without the gate and once with it. "
        "'Irrelevant' = a question whose every open rule concludes a condition none of whose "
        "`sites` the case marks.",
        "",
        "| case | sites marked | questions before | irrelevant before | questions after | "
        "irrelevant after | details asked | agrees with assess |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(f"| {r.case} | {', '.join(r.sites) or 'none'} | {r.before} | "
                     f"{r.before_irrelevant} | {r.after} | {r.after_irrelevant} | {r.details} | "
                     f"{'yes' if r.agrees else 'NO'} |")
    if rows:
        n = len(rows)
        lines.append(f"| **total ({n} cases)** | | {sum(r.before for r in rows)} | "
                     f"{sum(r.before_irrelevant for r in rows)} | {sum(r.after for r in rows)} | "
                     f"{sum(r.after_irrelevant for r in rows)} | {sum(r.details for r in rows)} | "
                     f"{sum(r.agrees for r in rows)}/{n} |")
        lines.append("")
        lines.append(f"Mean questions per case: {sum(r.before for r in rows) / n:.1f} before, "
                     f"{sum(r.after for r in rows) / n:.1f} after; irrelevant to the site: "
                     f"{sum(r.before_irrelevant for r in rows) / n:.1f} before, "
                     f"{sum(r.after_irrelevant for r in rows) / n:.1f} after.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", action="append", default=[], metavar="DIR",
                        help="extra knowledge-base folder on top of kb/ (repeatable)")
    parser.add_argument("--cases", default=str(ROOT / "examples" / "cases"), metavar="DIR",
                        help="folder of case files (default: examples/cases)")
    parser.add_argument("--thorough", action="store_true",
                        help="interview as `imbalance interview --thorough` (settle every conclusion)")
    parser.add_argument("--one-by-one", action="store_true",
                        help="interview as `imbalance interview --one-by-one` (no checklists)")
    parser.add_argument("--sites", action="store_true",
                        help="compare questions with and without the complaint-site gate")
    args = parser.parse_args(argv)
    kb = load_kb(tuple(args.kb))
    if args.sites:
        gated = site_rows(kb, example_cases(Path(args.cases)))
        sys.stdout.write(site_table(gated))
        return 0 if all(row.agrees for row in gated) else 1
    checklists = not args.one_by_one
    rows = run(kb, example_cases(Path(args.cases)), args.thorough, checklists)
    sys.stdout.write(table(rows, kb, args.thorough, checklists))
    return 0 if all(row.agrees for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
