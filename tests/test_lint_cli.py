"""`imbalance kb lint` through the CLI (in-process; tests/test_cli_assess.py runs the console
script), on folders of deliberately broken rules.

Each folder under tests/fixtures/broken_kb/ holds one kind of mistake and, in expected.txt, the
exact lines lint must print for it (path:line: severity: message (suggestion) [check]). Lines
about the shipped kb/ are not this test's business and are filtered out by path.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from engine.lint import CHECKS
from tests.conftest import ROOT, run_cli

BROKEN = ROOT / "tests" / "fixtures" / "broken_kb"
KINDS = sorted(p.name for p in BROKEN.iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def runs() -> dict[str, subprocess.CompletedProcess[str]]:
    """`imbalance --kb <folder> kb lint` for every folder (in-process, so one after another)."""
    return {kind: run_cli("--kb", f"tests/fixtures/broken_kb/{kind}", "kb", "lint") for kind in KINDS}


def test_there_is_one_folder_per_kind_of_mistake() -> None:
    assert len(KINDS) >= 30
    for kind in KINDS:
        assert (BROKEN / kind / "expected.txt").read_text().strip(), kind


@pytest.mark.parametrize("kind", KINDS)
def test_broken_folder_gives_exact_messages(
        kind: str, runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    folder = f"tests/fixtures/broken_kb/{kind}"
    proc = runs[kind]
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr == ""
    assert "Traceback" not in proc.stdout
    mine = [line for line in proc.stdout.splitlines() if line.startswith(folder + "/")]
    expected = (BROKEN / kind / "expected.txt").read_text().splitlines()
    assert mine == expected
    assert proc.stdout.splitlines()[-1].startswith("kb lint: ")
    for line in mine:
        assert line.rsplit(" [", 1)[1].rstrip("]") in CHECKS


def test_json_format_for_a_broken_folder() -> None:
    folder = "tests/fixtures/broken_kb/contradiction"
    proc = run_cli("--kb", folder, "kb", "lint", "--format", "json")
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    mine = [p for p in data["problems"] if p["path"].startswith(folder)]
    assert [(p["line"], p["severity"], p["check"]) for p in mine] == [
        (6, "warning", "unreachable_conclusion"), (15, "error", "never_fires")]
    assert data["ok"] is False and data["loaded"] is True


def test_load_failure_is_exit_1_with_all_problems() -> None:
    proc = run_cli("--kb", "tests/fixtures/broken_kb/value_out_of_range", "kb", "lint")
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert len([line for line in lines if ": error: " in line]) == 2
    assert lines[-1] == ("kb lint: 2 errors; the knowledge base does not load, so the other checks "
                         "run once these are fixed")


def test_missing_kb_folder_is_bad_usage() -> None:
    proc = run_cli("--kb", "no/such/folder", "kb", "lint")
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("error: knowledge-base folder 'no/such/folder' does not exist or "
                                   "is not a folder")


def test_two_layers_are_checked_together(tmp_path: Path) -> None:
    """A rule in one clinic layer may use a finding another layer adds; lint sees them combined."""
    one = tmp_path / "one"
    two = tmp_path / "two"
    one.mkdir()
    two.mkdir()
    (one / "vocab.yaml").write_text(
        "findings:\n  - {id: clinic_sign, label: Sign, category: examination, type: boolean, "
        "question: Sign?}\n")
    (two / "rules.yaml").write_text(
        (BROKEN / "unused_finding" / "rules.yaml").read_text().replace("fever: true",
                                                                       "clinic_sign: true"))
    proc = run_cli("--kb", str(one), "--kb", str(two), "kb", "lint")
    assert [line for line in proc.stdout.splitlines() if str(tmp_path) in line] == []
    single = run_cli("--kb", str(two), "kb", "lint")
    assert "unknown finding 'clinic_sign'" in single.stdout and single.returncode == 1


def test_list_checks() -> None:
    proc = run_cli("kb", "lint", "--list-checks")
    assert proc.returncode == 0
    ids = [line.split()[0] for line in proc.stdout.splitlines()]
    assert sorted(ids) == sorted(CHECKS)
    assert any(line.startswith("subsumed ") and "warning" in line for line in proc.stdout.splitlines())
    data = json.loads(run_cli("kb", "lint", "--list-checks", "--format", "json").stdout)
    assert {row["id"] for row in data if row["switchable"]} >= {"never_fires", "subsumed"}
