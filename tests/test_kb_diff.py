"""`imbalance kb diff`: what a rule change does to a caseload, through the real CLI.

The current knowledge base is the shipped one plus a layer; the base is a copy of the shipped
`kb/` edited on disk, as an author would compare with the last release.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.synth import random_facts
from cli import main
from engine import record
from engine.authoring.kbdiff import changed_rules, compare
from engine.cases.case import Case
from engine.inference.reasoner import Reasoner
from engine.kb.loader import load_kb, load_layers
from tests.conftest import ROOT, run_cli

SADDLE_ONLY = {"id": "saddle", "findings": {"saddle_anaesthesia": True, "low_back_pain": True}}
SCIATICA = {"id": "sciatica", "findings": {"leg_pain_below_knee": "left", "low_back_pain": True}}
QUIET = {"id": "quiet", "findings": {"fever": False}}


def caseload(tmp_path: Path, *cases: dict[str, object]) -> Path:
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in cases), encoding="utf-8")
    return path


def base_copy(tmp_path: Path) -> Path:
    base = tmp_path / "base_kb"
    shutil.copytree(ROOT / "kb", base)
    return base


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= count, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def switch_off(tmp_path: Path, rule: str) -> Path:
    layer = tmp_path / "trial"
    layer.mkdir()
    (layer / "off.yaml").write_text(
        "knowledge_base: {name: trial, version: '1'}\n"
        f"disable:\n  - rule: {rule}\n    reason: trial of a stricter pathway\n", encoding="utf-8")
    return layer


def test_same_knowledge_base_changes_nothing(tmp_path: Path) -> None:
    cases = caseload(tmp_path, SADDLE_ONLY, SCIATICA, QUIET)
    result = CliRunner().invoke(main, ["kb", "diff", "--base", str(ROOT / "kb"), str(cases),
                                       "-j", "1"])
    assert result.exit_code == 0, result.output
    assert "3 cases, 0 changed" in result.output


def test_less_urgent_triage_exits_1_and_names_the_rule(tmp_path: Path) -> None:
    layer = switch_off(tmp_path, "ces_saddle_anaesthesia")
    cases = caseload(tmp_path, SADDLE_ONLY, SCIATICA)
    result = CliRunner().invoke(main, ["--kb", str(layer), "kb", "diff", "--base",
                                       str(ROOT / "kb"), str(cases), "-j", "1"])
    assert result.exit_code == 1, result.output
    assert "LESS URGENT saddle" in result.output
    assert "triage: emergency -> " in result.output
    assert "red_flag cauda_equina_syndrome: emergency -> absent" in result.output
    assert "ces_saddle_anaesthesia" in result.output
    assert "triage less urgent" in result.output
    assert "CHANGED sciatica" not in result.output  # the unaffected case is not listed


def test_certainty_band_and_json(tmp_path: Path) -> None:
    base = base_copy(tmp_path)
    edit(base / "rules/conditions/sciatica_piriformis.yaml", "certainty: 0.5", "certainty: 0.3")
    cases = caseload(tmp_path, SCIATICA, QUIET)
    result = CliRunner().invoke(main, ["kb", "diff", "--base", str(base), str(cases),
                                       "--format", "json", "-j", "1"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["summary"]["cases"] == 2 and data["summary"]["changed"] == 1
    (case,) = data["cases"]
    assert case["id"] == "sciatica" and case["less_urgent"] is False
    change = next(c for c in case["changes"] if c["aspect"] == "condition")
    assert change["id"] == "sciatica" and change["change"] == "band"
    assert change["before"].startswith("weak") and change["after"].startswith("some")
    assert change["rules"] == ["sciatica_pain_below_knee"]


def test_more_urgent_does_not_fail(tmp_path: Path) -> None:
    base = base_copy(tmp_path)
    layer = switch_off(tmp_path, "ces_saddle_anaesthesia")
    cases = caseload(tmp_path, SADDLE_ONLY)
    # base = shipped with the rule off (a layer on the copy); current = shipped: more urgent now
    result = CliRunner().invoke(main, ["kb", "diff", "--base", str(base), "--base", str(layer),
                                       str(cases), "-j", "1"])
    assert result.exit_code == 0, result.output
    assert "triage more urgent" in result.output


def test_changed_rules_ignores_moved_lines(tmp_path: Path) -> None:
    base = base_copy(tmp_path)
    edit(base / "rules/conditions/sciatica_piriformis.yaml", "rules:\n", "rules:\n\n\n")
    assert changed_rules(load_layers((base,)).kb, load_kb()) == frozenset()
    edit(base / "rules/conditions/sciatica_piriformis.yaml", "certainty: 0.5", "certainty: 0.3")
    assert changed_rules(load_layers((base,)).kb, load_kb()) == {"sciatica_pain_below_knee"}


def test_workers_give_the_same_answer_as_one_process(tmp_path: Path) -> None:
    layer = switch_off(tmp_path, "ces_saddle_anaesthesia")
    cases = caseload(tmp_path, *[{**SADDLE_ONLY, "id": f"s{i}"} if i % 3 == 0 else
                                 {**SCIATICA, "id": f"c{i}"} for i in range(120)])
    outputs = []
    for jobs in ("1", "2"):
        result = CliRunner().invoke(main, ["--kb", str(layer), "kb", "diff", "--base",
                                           str(ROOT / "kb"), str(cases), "--format", "json",
                                           "-j", jobs])
        assert result.exit_code == 1
        outputs.append(json.loads(result.output))
    assert outputs[0] == outputs[1]
    assert outputs[0]["summary"]["less_urgent"] == 40


def test_bad_input_is_one_line_exit_2(tmp_path: Path) -> None:
    missing = run_cli("kb", "diff", "--base", str(tmp_path / "nope"), "examples/cases")
    assert missing.returncode == 2 and "nope" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1 and "Traceback" not in missing.stderr
    broken = base_copy(tmp_path)
    (broken / "rules/broken.yaml").write_text("rules:\n  - id: x\n    when: [{fevr: true}]\n")
    result = run_cli("kb", "diff", "--base", str(broken), "examples/cases")
    assert result.returncode == 2
    assert "base knowledge base does not load" in result.stderr and "broken.yaml:2" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_case_only_the_current_kb_can_read(tmp_path: Path) -> None:
    layer = tmp_path / "clinic"
    layer.mkdir()
    (layer / "v.yaml").write_text(
        "knowledge_base: {name: clinic, version: '1'}\nfindings:\n  - id: kicking_sport\n"
        "    label: Kicking sport\n    category: activity\n    type: boolean\n"
        "    question: Do you play a kicking sport?\n    lint: {unused_finding: demo}\n")
    cases = caseload(tmp_path, {"id": "k", "findings": {"kicking_sport": True}})
    result = CliRunner().invoke(main, ["--kb", str(layer), "kb", "diff", "--base",
                                       str(ROOT / "kb"), str(cases), "-j", "1"])
    assert result.exit_code == 0, result.output
    assert "readable: not readable:" in result.output and "kicking_sport" in result.output


# --- properties over random patients ----------------------------------------------------------

SHIPPED = load_kb()
SAME = Reasoner(SHIPPED)
WITHOUT = record.replace(SHIPPED, rules=tuple(r for r in SHIPPED.rules
                                                   if r.id != "ces_saddle_anaesthesia"))
LESS = Reasoner(WITHOUT)
CHANGED = changed_rules(SHIPPED, WITHOUT)


@given(st.integers(0, 10**9))
@settings(max_examples=150, deadline=None)
def test_properties_of_compare(seed: int) -> None:
    """The same KB never differs from itself; removing a red-flag rule never makes a patient
    more urgent, and when it makes one less urgent the removed rule is named."""
    rng = random.Random(seed)
    facts = random_facts(SHIPPED, rng, rng.randint(1, 25))
    if rng.random() < 0.5:
        facts["saddle_anaesthesia"] = True
    case = Case("<random>", {}, {k: v for k, v in facts.items() if k not in ("age", "sex")})
    before = SAME.assess(case)
    assert compare(before, SAME.assess(case), frozenset()) == []
    changes = compare(before, LESS.assess(case), CHANGED)
    assert not any(c.kind == "more_urgent" for c in changes)
    for change in changes:
        if change.kind == "less_urgent":
            assert "ces_saddle_anaesthesia" in change.rules
