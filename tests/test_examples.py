"""The whole-patient examples in `examples/cases/` assess as their `expect:` block says.

Each example states its expected triage and conclusions (`triage`, `top`, `present` with
certainty bounds, `absent`). All of them run through the functions; a few also run through the
real console script, as a clinician would, to check the contract JSON and the text output.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cases.case import Case, load_case
from engine.errors import CaseError
from engine.inference.reasoner import Reasoner
from engine.kb.model import Expectation, KnowledgeBase
from engine.testing.casetests import check, expectation_of
from tests.conftest import ROOT, run_cli

EXAMPLES = sorted((ROOT / "examples" / "cases").glob("*.yaml"))
RED_FLAG_EXAMPLES = ("cauda_equina_emergency", "cord_compression_myelopathy", "road_traffic_accident",
                     "back_pain_after_transplant")


def _load(path: Path, kb: KnowledgeBase) -> tuple[Case, Expectation]:
    case = load_case(str(path), kb)
    expect = expectation_of(case)  # the same reader and comparer as `kb test`
    assert expect.triage, f"{path.name}: an example states its expected triage"
    return case, expect


def test_there_are_enough_examples() -> None:
    assert len(EXAMPLES) >= 15


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_meets_its_expectation(path: Path, kb: KnowledgeBase, reasoner: Reasoner) -> None:
    case, expect = _load(path, kb)
    assert case.description and case.patient.get("age") is not None and case.findings
    assert False in case.findings.values(), f"{path.name}: a realistic case records negatives too"
    for cid in (*(p[0] for p in expect.present), *expect.absent, *([expect.top] if expect.top else [])):
        assert cid in kb.conclusions, f"{path.name}: unknown conclusion '{cid}' in expect"
    failures = check(reasoner.assess(case), expect)
    assert not failures, f"{path.name}:\n  " + "\n  ".join(failures)


def test_examples_cover_every_condition_and_red_flag(kb: KnowledgeBase) -> None:
    """One example per condition (as top or clearly present) and per red flag."""
    shown: set[str] = set()
    for path in EXAMPLES:
        _, expect = _load(path, kb)
        shown.update(cid for cid, low, _ in expect.present if low >= 0.5)
        if expect.top:
            shown.add(expect.top)
    wanted = {c.id for c in kb.conclusions.values() if c.kind in ("red_flag", "condition")}
    assert wanted - shown == set()


def test_red_flag_examples_refer_and_give_no_exercise(kb: KnowledgeBase, reasoner: Reasoner) -> None:
    for path in EXAMPLES:
        result = reasoner.assess(load_case(str(path), kb))
        if result.triage not in ("emergency", "urgent"):
            continue
        ids = [a.id for a in result.recommendations]
        flags = [f"act_now_{f.id}" for f in result.red_flags]
        assert ids[:len(flags)] == flags, path.name
        assert "defer_exercise_until_cleared" in ids, path.name
        assert {a.kind for a in result.recommendations} <= {"referral", "safety_net"}, path.name
        assert result.stretch == () and result.strengthen == (), path.name


@pytest.mark.parametrize("name", RED_FLAG_EXAMPLES)
def test_red_flag_example_through_the_cli(name: str, kb: KnowledgeBase) -> None:
    path = ROOT / "examples" / "cases" / f"{name}.yaml"
    _, expect = _load(path, kb)
    proc = run_cli("assess", str(path.relative_to(ROOT)), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["triage"] == expect.triage
    assert data["red_flags"] and data["red_flags"][0]["urgency"] == expect.triage
    assert data["red_flags"][0]["action"]
    assert data["recommendations"][0]["id"] == f"act_now_{data['red_flags'][0]['id']}"
    assert "defer_exercise_until_cleared" in [r["id"] for r in data["recommendations"]]
    assert {r["kind"] for r in data["recommendations"]} <= {"referral", "safety_net"}
    assert data["withheld"]["because"] == [f["id"] for f in data["red_flags"]
                                           if f["urgency"] in ("emergency", "urgent")]
    assert data["muscles"] == {"stretch": [], "strengthen": []}


@pytest.mark.parametrize("name", ["runner_it_band", "patellofemoral_runner", "weak_flags_watchful_waiting"])
def test_benign_example_through_the_cli(name: str, kb: KnowledgeBase) -> None:
    path = ROOT / "examples" / "cases" / f"{name}.yaml"
    _, expect = _load(path, kb)
    data = json.loads(run_cli("assess", str(path), "--format", "json").stdout)
    assert data["triage"] == expect.triage
    assert data["conditions"][0]["id"] == expect.top
    certainties = [c["certainty"] for c in data["conditions"]]
    assert certainties == sorted(certainties, reverse=True)
    ids = [r["id"] for r in data["recommendations"]]
    assert "defer_exercise_until_cleared" not in ids
    assert data["muscles"]["strengthen"], "an imbalance case names muscles to strengthen"


def test_low_concern_example_text_puts_the_safety_net_before_exercise() -> None:
    proc = run_cli("assess", "examples/cases/weak_flags_watchful_waiting.yaml")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "[SOON] Possible spinal malignancy" in text
    assert text.index("Until the doctor's review") < text.index("Bird-dog")
    assert "Non-specific low back pain" in text


def test_a_mistake_in_an_expect_block_names_its_line(tmp_path: Path, kb: KnowledgeBase) -> None:
    """Examples are judged by the KB case tests' own reader: a typo is caught, at its line."""
    path = tmp_path / "case.yaml"
    path.write_text("findings:\n  fever: false\nexpect:\n  triage: routine\n  presnt: [sciatica]\n",
                    encoding="utf-8")
    with pytest.raises(CaseError) as caught:
        expectation_of(load_case(str(path), kb))
    assert ":5:" in str(caught.value) and "presnt" in str(caught.value)
    assert "present" in str(caught.value)  # the did-you-mean
