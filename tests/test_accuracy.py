"""A rule's published accuracy (`then.accuracy`): read with its source, checked, and shown."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.kb.loader import load_kb, load_kb_collecting
from tests.conftest import run_cli

Write = Callable[[dict[str, str]], Path]

RULE = """
rules:
  - id: layer_fracture_rule
    title: Steroids and back pain
    band: red_flag
    when:
      - long_term_steroid_use: true
    then:
      red_flag: spinal_fracture
      urgency: urgent
      certainty: 0.6
      accuracy: {ACCURACY}
    sources: [downie_2013]
    evidence: high
"""


def layer(write_files: Write, accuracy: str) -> Path:
    return write_files({"rules.yaml": RULE.replace("{ACCURACY}", accuracy)})


def errors_of(folder: Path) -> list[str]:
    _, problems = load_kb_collecting((folder,))
    return [p.render() for p in problems if p.severity == "error"]


def test_accuracy_is_read_beside_the_certainty(write_files: Write) -> None:
    folder = layer(write_files, "{lr_positive: 12.8, post_test_probability: 0.33, source: downie_2013}")
    kb = load_kb((folder,))
    rule = next(r for r in kb.rules if r.id == "layer_fracture_rule")
    assert rule.accuracy is not None
    assert rule.accuracy.lr_positive == 12.8
    assert rule.accuracy.post_test_probability == 0.33
    assert rule.accuracy.describe() == "LR+ 12.8, post-test probability 33% (downie_2013)"


@pytest.mark.parametrize(("accuracy", "message"), [
    ("{lr_positive: .nan, source: downie_2013}", "'lr_positive' of 'accuracy'"),
    ("{lr_positive: .inf, source: downie_2013}", "'lr_positive' of 'accuracy'"),
    ("{lr_positive: 0, source: downie_2013}", "'lr_positive' of 'accuracy'"),
    ("{post_test_probability: 33, source: downie_2013}", "between 0 and 1"),
    ("{source: downie_2013}", "gives no figure"),
    ("{lr_positive: 4}", "missing 'source'"),
    ("{lr_positive: 4, source: downy_2013}", "did you mean 'downie_2013'?"),
    ("{lr_positve: 4, source: downie_2013}", "did you mean 'lr_positive'?"),
])
def test_bad_accuracy_is_a_load_error_with_its_line(write_files: Write, accuracy: str,
                                                     message: str) -> None:
    errors = errors_of(layer(write_files, accuracy))
    assert len(errors) == 1, errors
    assert errors[0].split(" ")[0].endswith("layer/rules.yaml:11:")
    assert message in errors[0]


def test_bad_accuracy_exits_2_through_the_cli(write_files: Write, tmp_path: Path) -> None:
    folder = layer(write_files, "{sensitivity: 1.4, source: downie_2013}")
    case = tmp_path / "case.yaml"
    case.write_text("findings: {long_term_steroid_use: true}\n", encoding="utf-8")
    done = run_cli("--kb", str(folder), "assess", str(case))
    assert done.returncode == 2
    assert "rules.yaml:11" in done.stderr and "sensitivity" in done.stderr
    assert "Traceback" not in done.stderr
    linted = run_cli("--kb", str(folder), "kb", "lint")
    assert linted.returncode == 1 and "rules.yaml:11" in linted.stdout


def test_accuracy_is_shown_by_kb_show_and_explain(write_files: Write, tmp_path: Path) -> None:
    folder = layer(write_files, "{post_test_probability: 0.33, source: downie_2013, note: 14 studies}")
    shown = run_cli("--kb", str(folder), "kb", "show", "layer_fracture_rule")
    assert shown.returncode == 0, shown.stderr
    assert "published accuracy: post-test probability 33% (downie_2013; 14 studies)" in shown.stdout
    case = tmp_path / "case.yaml"
    case.write_text("findings: {long_term_steroid_use: true}\n", encoding="utf-8")
    told = run_cli("--kb", str(folder), "explain", str(case), "spinal_fracture", "--format", "json")
    assert told.returncode == 0, told.stderr
    steps = json.loads(told.stdout)["how"]
    mine = [s for s in steps if s["rule"] == "layer_fracture_rule"]
    assert mine and mine[0]["accuracy"] == {"source": "downie_2013", "post_test_probability": 0.33,
                                            "note": "14 studies"}
    text = run_cli("--kb", str(folder), "explain", str(case), "spinal_fracture")
    assert "evidence post-test probability 33% (downie_2013; 14 studies)" in text.stdout
