"""What a clinic layer cannot do quietly: give a certainty that is not a finite number in (0, 1],
or switch off a red-flag rule without every output saying so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli

CES = "examples/cases/cauda_equina_emergency.yaml"
RULE = """rules:
  - id: clinic_rule
    title: A clinic rule
    band: condition
    when:
      - lateral_knee_pain: true
    then:
      condition: it_band_syndrome
      certainty: {value}
      because: Local audit.
    sources: [seed_001]
    evidence: low
"""


@pytest.mark.parametrize("value", [".nan", ".NaN", ".inf", "-.inf", "0", "0.0", "1.5", "-0.2",
                                   "'0.5'", "high", "true"])
def test_a_certainty_that_is_not_a_finite_number_in_0_1_stops_the_load(tmp_path: Path,
                                                                         value: str) -> None:
    (tmp_path / "clinic.yaml").write_text(RULE.format(value=value))
    proc = run_cli("--kb", str(tmp_path), "assess", "examples/cases/runner_it_band.yaml",
                   "--format", "json")
    assert proc.returncode == 2, proc.stdout
    assert proc.stdout == ""
    assert f"{tmp_path}/clinic.yaml:9: 'certainty' of rule 'clinic_rule'" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("value", ["1", "1.0", "0.05", "0.999"])
def test_certainties_in_0_1_load(tmp_path: Path, value: str) -> None:
    (tmp_path / "clinic.yaml").write_text(RULE.format(value=value))
    proc = run_cli("--kb", str(tmp_path), "assess", "examples/cases/runner_it_band.yaml",
                   "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert "clinic_rule" in json.loads(proc.stdout)["fired_rules"]


def test_a_nan_threshold_stops_the_load_too(tmp_path: Path) -> None:
    (tmp_path / "clinic.yaml").write_text(RULE.format(value="0.5").replace(
        "- lateral_knee_pain: true", "- {concluded: sciatica, min_certainty: .nan}"))
    proc = run_cli("--kb", str(tmp_path), "kb", "lint")
    assert proc.returncode == 1
    assert f"{tmp_path}/clinic.yaml:6: error: 'min_certainty' of 'concluded' is nan" in proc.stdout


DISABLE = """disable:
  - rule: ces_saddle_anaesthesia
    reason: Our triage nurse screens by phone.
"""


def test_disabling_a_red_flag_rule_needs_a_reason(tmp_path: Path) -> None:
    (tmp_path / "clinic.yaml").write_text("disable:\n  - rule: ces_saddle_anaesthesia\n")
    proc = run_cli("--kb", str(tmp_path), "assess", CES)
    assert proc.returncode == 2
    assert f"{tmp_path}/clinic.yaml:2: switching off rule 'ces_saddle_anaesthesia' needs a " \
        "stated 'reason'" in proc.stderr


def test_a_disabled_red_flag_rule_is_announced_in_every_output(tmp_path: Path) -> None:
    clinic = tmp_path / "clinic"
    clinic.mkdir()
    (clinic / "clinic.yaml").write_text(DISABLE)
    where = f"{clinic}/clinic.yaml:2"
    lint = run_cli("--kb", str(clinic), "kb", "lint")
    assert f"{where}: warning: red-flag rule 'ces_saddle_anaesthesia' (cauda_equina_syndrome) is " \
        "switched off: Our triage nurse screens by phone." in lint.stdout
    assert lint.returncode == 1
    data = json.loads(run_cli("--kb", str(clinic), "assess", CES, "--format", "json").stdout)
    assert data["disabled_red_flag_rules"] == [{
        "rule": "ces_saddle_anaesthesia", "red_flag": "cauda_equina_syndrome",
        "reason": "Our triage nurse screens by phone.", "where": where}]
    sentence = "red-flag rule 'ces_saddle_anaesthesia' (Suspected cauda equina syndrome) is " \
        "switched off by a knowledge-base layer"
    for fmt in ("text", "markdown"):
        out = run_cli("--kb", str(clinic), "assess", CES, "--format", fmt).stdout
        flat = " ".join(out.replace("\n  ! ", " ").replace("\\_", "_").split())
        assert sentence in flat, fmt
        assert "Our triage nurse screens by phone." in flat
    bundle = json.loads(run_cli("--kb", str(clinic), "assess", CES, "--format", "fhir").stdout)
    notes = [n["text"] for e in bundle["entry"] if e["resource"]["resourceType"] == "RiskAssessment"
             for n in e["resource"]["note"]]
    assert any(sentence in note for note in notes)
    html = tmp_path / "report.html"
    assert run_cli("--kb", str(clinic), "report", CES, "-o", str(html)).returncode == 0
    assert sentence.replace("'", "&#39;") in html.read_text()
    out = tmp_path / "out.jsonl"
    assert run_cli("--kb", str(clinic), "batch", "examples/cases", "-o", str(out),
                   "-j", "1").returncode == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines and all(line["disabled_red_flag_rules"][0]["rule"] == "ces_saddle_anaesthesia"
                         for line in lines)


def test_without_a_disabled_red_flag_rule_nothing_is_announced() -> None:
    data = json.loads(run_cli("assess", CES, "--format", "json").stdout)
    assert data["disabled_red_flag_rules"] == []
    assert "switched off" not in run_cli("assess", CES).stdout
