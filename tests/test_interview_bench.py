"""The interview benchmark as a regression test: interviewing each example case from nothing,
answering from its file (absent = skip), reaches what `assess` reaches on the whole file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.interview_bench import ROOT, example_cases, main, run_case, site_rows, site_table
from engine.inference.reasoner import Reasoner
from engine.interview.planner import Planner
from engine.kb.model import KnowledgeBase

CASES = example_cases(ROOT / "examples" / "cases")


@pytest.fixture(scope="module")
def planner(kb: KnowledgeBase) -> Planner:
    return Planner(kb)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_interview_of_example_case_matches_assess(path: Path, kb: KnowledgeBase, reasoner: Reasoner,
                                                  planner: Planner) -> None:
    row = run_case(path, kb, reasoner, planner)
    assert row.triage_interview == row.triage_assess
    assert row.top_interview == row.top_assess
    assert row.same_conclusions, "every red flag and condition, with its certainty, should match assess"
    assert 0 < row.questions <= row.vocabulary


@pytest.mark.parametrize("path", CASES[:4], ids=[p.stem for p in CASES[:4]])
def test_thorough_interview_reproduces_every_conclusion(path: Path, kb: KnowledgeBase,
                                                        reasoner: Reasoner) -> None:
    thorough = Planner(kb, thorough=True)
    row = run_case(path, kb, reasoner, thorough)
    assert row.same_conclusions, "every conclusion, causes included, should match assess"
    assert row.questions >= run_case(path, kb, reasoner, Planner(kb)).questions


def test_there_are_example_cases() -> None:
    assert len(CASES) >= 2


def test_bench_prints_a_markdown_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "| case | triage (assess / interview) |" in out
    for path in CASES:
        assert f"| {path.name} |" in out
    assert f"**total ({len(CASES)} cases)**" in out and "Mean share of the vocabulary asked" in out


def test_site_gate_asks_fewer_irrelevant_questions_and_still_agrees(kb: KnowledgeBase) -> None:
    chosen = [p for p in CASES if p.stem in ("runner_it_band", "patellofemoral_runner",
                                              "hamstring_sprinter", "si_joint_postpartum")]
    rows = {r.case: r for r in site_rows(kb, chosen)}
    assert all(r.agrees for r in rows.values())
    knee = rows["runner_it_band.yaml"]
    assert knee.sites == ("lateral_knee_pain",) and knee.before_irrelevant > 0
    assert knee.after_irrelevant == 0 and knee.after < knee.before
    # a pain-free sprinter marks no site: nothing is gated
    assert rows["hamstring_sprinter.yaml"].before == rows["hamstring_sprinter.yaml"].after
    assert "| **total (4 cases)** |" in site_table(list(rows.values()))
