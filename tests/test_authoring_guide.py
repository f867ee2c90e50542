"""docs/AUTHORING.md is executable: its worked example is written out and run through the CLI.

In the guide, `<!-- file: PATH -->` before a YAML block means "this is the file PATH"; and
`<!-- run: ARGS [; exit N] [; with PATH: OLD => NEW] -->` before a text block means "running
`imbalance ARGS` (after that one edit, if given) prints these lines, in this order, and exits N".
In expected lines `...` stands for any text, and a line that is only `...` for any lines.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from engine.lint import CHECKS
from tests.conftest import ROOT, run_cli

GUIDE = ROOT / "docs" / "AUTHORING.md"
BLOCK = re.compile(r"<!-- (file|run): (.+?) -->\n```(\w+)\n(.*?)```", re.S)
TEXT = GUIDE.read_text(encoding="utf-8")


def blocks() -> list[tuple[str, str, str]]:
    return [(kind, arg.strip(), body) for kind, arg, _lang, body in BLOCK.findall(TEXT)]


def pattern(line: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in line.split("...")))


def assert_lines_in_order(expected: list[str], output: list[str]) -> None:
    position = 0
    for line in expected:
        if line.strip() == "...":
            continue
        wanted = pattern(line)
        for index in range(position, len(output)):
            if wanted.fullmatch(output[index]):
                position = index + 1
                break
        else:
            raise AssertionError(f"guide line not printed (in order): {line!r}\noutput:\n"
                                 + "\n".join(output))


def test_guide_has_a_worked_example() -> None:
    kinds = [kind for kind, _, _ in blocks()]
    assert kinds.count("file") >= 4 and kinds.count("run") >= 4


def test_worked_example_runs_end_to_end(tmp_path: Path) -> None:
    for kind, arg, body in blocks():
        if kind == "file":
            target = tmp_path / arg
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(body, encoding="utf-8")
            continue
        parts = [part.strip() for part in arg.split(" ; ")]
        args, exit_code, edit = shlex.split(parts[0]), 0, None
        for part in parts[1:]:
            if part.startswith("exit "):
                exit_code = int(part.split()[1])
            elif part.startswith("with "):
                path, change = part[len("with "):].split(": ", 1)
                edit = (tmp_path / path, *change.split(" => "))
        lines = body.rstrip("\n").splitlines()
        assert lines[0] == "$ imbalance " + parts[0], "the shown command must be the one run"
        original = ""
        if edit is not None:
            original = edit[0].read_text()
            assert edit[1] in original
            edit[0].write_text(original.replace(edit[1], edit[2], 1))
        try:
            proc = run_cli(*args, cwd=tmp_path)
        finally:
            if edit is not None:
                edit[0].write_text(original)
        assert "Traceback" not in proc.stdout + proc.stderr
        output = proc.stdout.splitlines()
        expected = lines[1:]
        assert proc.returncode == exit_code, proc.stdout + proc.stderr
        assert_lines_in_order(expected, output)


def test_the_example_case_is_assessed_as_the_guide_says(tmp_path: Path) -> None:
    for kind, arg, body in blocks():
        if kind == "file":
            target = tmp_path / arg
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(body, encoding="utf-8")
    proc = run_cli("--kb", "my_clinic", "assess", "footballer.yaml", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    top = data["conditions"][0]
    assert (top["id"], top["certainty"]) == ("adductor_related_groin_pain", 0.79)
    assert "0.79" in TEXT and "hip_adductors" in data["muscles"]["strengthen"]
    assert "copenhagen_adduction" in [r["id"] for r in data["recommendations"]]
    assert data["triage"] == "routine"


@pytest.mark.parametrize("check_id", sorted(CHECKS))
def test_every_check_is_documented_with_its_severity(check_id: str) -> None:
    rows = [line for line in TEXT.splitlines() if line.startswith(f"| `{check_id}` |")]
    assert len(rows) == 1, f"docs/AUTHORING.md needs one table row for check '{check_id}'"
    assert f"| {CHECKS[check_id].severity} |" in rows[0]


def test_every_operator_has_an_example() -> None:
    from engine.kb.model import OPERATORS

    for op in OPERATORS:
        assert f"{{{op}: " in TEXT, op
    for word in ("all:", "any:", "not:", "at_least:", "concluded:", "min_certainty:"):
        assert word in TEXT, word


def test_rule_language_links_to_the_guide() -> None:
    assert "AUTHORING.md" in (ROOT / "docs" / "rule-language.md").read_text()
