"""`imbalance kb test`: case tests of the combined KB, with diffs, todo, skips and coverage."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from engine.inference.reasoner import Reasoner
from engine.kb.loader import load_layers
from engine.testing.suite import run_suite
from tests.conftest import run_cli

MINI = Path(__file__).parent / "fixtures" / "mini_kb"
Write = Callable[[dict[str, str]], Path]

CLINIC = """
knowledge_base: {name: test-clinic, version: "0.1"}
findings:
  - {id: clinic_sign, label: Clinic sign, category: examination, type: boolean, question: Sign?}
conditions:
  - {id: clinic_condition, label: Clinic condition}
sources:
  - {id: clinic_protocol, citation: Clinic protocol, level: expert_opinion}
rules:
  - id: clinic_rule
    title: The clinic sign in a runner
    band: condition
    when:
      - clinic_sign: true
      - runner: true
    then:
      condition: clinic_condition
      certainty: 0.5
      because: Protocol.
    sources: [clinic_protocol]
    evidence: expert_opinion
  - id: clinic_untested
    title: The clinic sign with neck pain
    band: condition
    when:
      - clinic_sign: true
      - neck_pain: true
    then:
      condition: clinic_condition
      certainty: 0.6
      because: Protocol.
    sources: [clinic_protocol]
    evidence: expert_opinion
tests:
  - name: clinic sign in a runner
    findings: {clinic_sign: true, runner: true}
    expect:
      present:
        clinic_condition: {min: 0.6, max: 0.9}
      triage: emergency
  - name: clinic near miss
    findings: {clinic_sign: true, runner: false}
    expect:
      not_fires: [clinic_rule]
  - name: clinic known gap
    todo: cyclists are not covered yet
    findings: {clinic_sign: true}
    expect:
      fires: [clinic_rule]
  - name: clinic gap closed
    todo: was a gap once
    findings: {clinic_sign: true, runner: true}
    expect:
      fires: [clinic_rule]
"""


def test_mini_suite_passes_with_full_coverage() -> None:
    kb = load_layers((MINI,)).kb
    report = run_suite(kb, Reasoner(kb))
    assert [r.status for r in report.results] == ["pass"] * 4
    assert report.coverage.untested == ()
    assert {r.id for r in report.coverage.no_near_miss} == {
        "sciatica_leg_pain", "chronic_back_pain", "weakness_in_older_chronic"}


def test_failures_carry_the_line_of_each_expectation(write_files: Write) -> None:
    tests = (MINI / "tests.yaml").read_text().replace("min: 0.2, max: 0.3", "min: 0.3, max: 0.4") \
        .replace("top: sciatica", "top: chronic_pain")
    folder = write_files({"vocabulary.yaml": (MINI / "vocabulary.yaml").read_text(),
                          "rules.yaml": (MINI / "rules.yaml").read_text(), "tests.yaml": tests})
    kb = load_layers((folder,)).kb
    report = run_suite(kb, Reasoner(kb))
    assert [r.status for r in report.results] == ["pass", "pass", "fail", "fail"]
    diffs = [(d.location.line, d.key, d.expected, d.actual)
             for r in report.results for d in r.differences]
    assert diffs == [
        (19, "top", "chronic_pain", "sciatica"),
        (27, "present weakness", "certainty 0.30 to 0.40", "certainty 0.240"),
    ]
    assert report.results[3].failures == (
        "present weakness: expected certainty 0.30 to 0.40, got certainty 0.240",)


def test_cli_reports_failures_todo_and_xpass(write_files: Write) -> None:
    folder = write_files({"clinic.yaml": CLINIC})
    proc = run_cli("--kb", str(folder), "kb", "test", "-k", "clinic ")
    assert proc.returncode == 1, proc.stderr
    path = f"{folder}/clinic.yaml"
    assert proc.stdout.splitlines() == [
        f"FAIL {path}:34: clinic sign in a runner",
        f"  {path}:38: present clinic_condition",
        "    - expected: certainty 0.60 to 0.90",
        "    + actual:   certainty 0.500",
        f"  {path}:39: triage",
        "    - expected: emergency",
        "    + actual:   routine",
        "  triage routine; fired: clinic_rule; reached: clinic_condition 0.50",
        f"TODO {path}:44: clinic known gap (known gap: cyclists are not covered yet)",
        f"XPASS {path}:49: clinic gap closed: passes now; remove its 'todo' (was a gap once)",
        proc.stdout.splitlines()[-1],
    ]
    assert proc.stdout.splitlines()[-1].startswith(
        "kb test: 1 passed, 1 failed, 1 todo (known gaps), 1 todo passing now in ")


def test_cli_passes_when_only_todo_fails(write_files: Write) -> None:
    text = CLINIC.replace("        clinic_condition: {min: 0.6, max: 0.9}\n      triage: emergency",
                          "        clinic_condition: {min: 0.5, max: 0.5}\n      triage: routine")
    proc = run_cli("--kb", str(write_files({"clinic.yaml": text})), "kb", "test", "-k", "clinic ", "-v")
    assert proc.returncode == 0, proc.stdout
    assert [line.split(" ")[0] for line in proc.stdout.splitlines()[:-1]] == [
        "PASS", "PASS", "TODO", "XPASS"]


def test_coverage_lists_untested_rules_and_exits_1(write_files: Write) -> None:
    folder = write_files({"clinic.yaml": CLINIC})
    proc = run_cli("--kb", str(folder), "kb", "test", "-k", "near miss", "--coverage")
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert f"    {folder}/clinic.yaml:21: clinic_untested" in lines
    assert f"    {folder}/clinic.yaml:9: clinic_rule" in lines  # the near miss does not fire it
    assert lines[0].startswith("Coverage: ")


def test_json_output(write_files: Write) -> None:
    folder = write_files({"clinic.yaml": CLINIC})
    proc = run_cli("--kb", str(folder), "kb", "test", "-k", "clinic ", "--format", "json",
                   "--coverage")
    data = json.loads(proc.stdout)
    assert (data["ok"], data["pass"], data["fail"], data["todo"], data["xpass"]) == (
        False, 1, 1, 1, 1)
    failed = next(t for t in data["tests"] if t["status"] == "fail")
    assert [(d["line"], d["key"]) for d in failed["differences"]] == [
        (38, "present clinic_condition"), (39, "triage")]
    assert "clinic_untested" in {row["id"] for row in data["coverage"]["untested"]}


def test_test_needing_a_disabled_rule_is_skipped_with_the_reason(tmp_path: Path) -> None:
    base = tmp_path / "clinic"
    base.mkdir()
    (base / "clinic.yaml").write_text(CLINIC.lstrip("\n"))
    off = tmp_path / "off"
    off.mkdir()
    (off / "off.yaml").write_text("disable:\n  - rule: clinic_rule\n    reason: Replaced locally.\n")
    proc = run_cli("--kb", str(base), "--kb", str(off), "kb", "test", "-k", "gap closed")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[0] == (
        f"SKIP {base}/clinic.yaml:49: clinic gap closed (needs rule 'clinic_rule', which "
        f"{off}/off.yaml:2 switches off: Replaced locally.)")


def test_broken_kb_is_bad_input(write_files: Write) -> None:
    folder = write_files({"clinic.yaml": CLINIC.replace("runner: true\n    then", "runer: true\n    then")})
    proc = run_cli("--kb", str(folder), "kb", "test")
    assert proc.returncode == 2
    assert "unknown finding 'runer' (did you mean 'runner'?)" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_no_matching_tests(write_files: Write) -> None:
    proc = run_cli("--kb", str(write_files({"clinic.yaml": CLINIC})), "kb", "test", "-k", "zzz")
    assert proc.returncode == 0
    assert proc.stdout.strip() == ("kb test: no case tests found (add a 'tests:' section; see "
                                   "docs/AUTHORING.md)")
