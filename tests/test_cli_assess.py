"""`imbalance assess` through the real console script: contract JSON, text, bad input."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_script

RED = "examples/cases/cauda_equina_emergency.yaml"
BENIGN = "examples/cases/runner_it_band.yaml"


def test_red_flag_case_json_is_emergency() -> None:
    proc = run_script("assess", RED, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["triage"] == "emergency"
    flag = data["red_flags"][0]
    assert flag["id"] == "cauda_equina_syndrome" and flag["urgency"] == "emergency"
    assert "saddle_anaesthesia" in flag["evidence"] and flag["rules"]
    assert set(data) >= {"triage", "red_flags", "conditions", "causes", "muscles",
                         "recommendations", "fired_rules"}
    assert data["recommendations"][0]["id"] == "act_now_cauda_equina_syndrome"


def test_benign_case_is_routine_with_sorted_conditions() -> None:
    data = json.loads(run_script("assess", BENIGN, "--format", "json").stdout)
    assert data["triage"] == "routine"
    assert data["red_flags"] == []
    certainties = [c["certainty"] for c in data["conditions"]]
    assert certainties == sorted(certainties, reverse=True)
    assert data["conditions"][0]["id"] == "it_band_syndrome"
    assert "gluteus_medius" in data["muscles"]["strengthen"]


def test_stdin_case() -> None:
    proc = run_script("assess", "-", "--format", "json",
                   stdin='{"findings": {"saddle_anaesthesia": true}}')
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["triage"] == "emergency"


def test_text_output_puts_red_flags_first() -> None:
    proc = run_script("assess", RED)
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert "RED FLAG" in lines[1]
    assert any("Do now:" in line for line in lines[:6])
    assert "does not diagnose" in proc.stdout
    assert "\x1b[" not in proc.stdout  # no colour codes when piped


@pytest.mark.parametrize(("content", "args", "expected"), [
    (None, ("assess", "missing.yaml"), "case file 'missing.yaml' does not exist"),
    ("findings: {fever: [\n", ("assess", "{f}"), "malformed YAML/JSON"),
    ("", ("assess", "{f}"), "the case file is empty"),
    ("findings:\n  saddle_anesthesia: true\n", ("assess", "{f}"),
     ":2: unknown finding 'saddle_anesthesia' (did you mean 'saddle_anaesthesia'?)"),
    ("findings:\n  fever: 3\n", ("assess", "{f}"), ":2: finding 'fever' expects true or false"),
    ("findings:\n  mileage_increase_pct: -5\n", ("assess", "{f}"), "out of range"),
    ("findings: [fever]\n", ("assess", "{f}"), "'findings' must be a mapping"),
    ("findings: {fever: true}\n", ("--kb", "no_such_dir", "assess", "{f}"),
     "knowledge-base folder 'no_such_dir' does not exist"),
    ('{"findings": {"fever": tru}}', ("assess", "{f}"), "malformed JSON"),
])
def test_bad_input_exits_2_with_one_clear_message(tmp_path: Path, content, args, expected) -> None:
    case = tmp_path / "case.yaml"
    if content is not None:
        case.write_text(content, encoding="utf-8")
    argv = [a.replace("{f}", str(case)) for a in args]
    proc = run_script(*argv, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout
    assert expected in proc.stderr
    assert proc.stderr.startswith("error: ")
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_bad_format_is_usage_error() -> None:
    proc = run_script("assess", RED, "--format", "xml")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_broken_kb_layer_reports_file_and_line(tmp_path: Path) -> None:
    layer = tmp_path / "clinic"
    layer.mkdir()
    (layer / "rules.yaml").write_text("rules:\n  - id: x\n    title: t\n", encoding="utf-8")
    proc = run_script("--kb", str(layer), "assess", str(ROOT / RED))
    assert proc.returncode == 2
    assert "rules.yaml:2: rule 'x' is missing 'band'" in proc.stderr


def test_version_and_help() -> None:
    assert run_script("--version").stdout.startswith("imbalance ")
    help_text = run_script("--help").stdout
    assert "assess" in help_text and "does not diagnose" in help_text


def test_assess_json_does_not_import_networkx_or_jinja2() -> None:
    code = ("import sys, runpy; sys.argv=['imbalance','assess','" + RED + "','--format','json'];\n"
            "import cli\n"
            "code = 0\n"
            "try:\n    cli.main()\nexcept SystemExit as exc:\n    code = exc.code or 0\n"
            "print('LOADED', code, 'networkx' in sys.modules, 'jinja2' in sys.modules, file=sys.stderr)")
    import subprocess
    import sys

    assert (ROOT / RED).is_file()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert "LOADED 0 False False" in proc.stderr, proc.stderr  # the assessment ran, and lean
    assert json.loads(proc.stdout)["triage"] == "emergency"


def test_low_concern_flag_asks_for_review_not_referral(tmp_path: Path) -> None:
    """A SOON flag (IFOMPT watchful waiting) must not tell the clinician to refer."""
    case = "examples/cases/weak_flags_watchful_waiting.yaml"
    text = run_script("assess", case).stdout
    assert "Warning sign, low level of concern: review with a doctor soon" in text
    assert "refer" not in text.splitlines()[1].lower()
    assert "RED FLAG" not in text  # red capitals only where the patient must be referred
    out = tmp_path / "r.html"
    assert run_script("report", case, "-o", str(out)).returncode == 0
    html = out.read_text(encoding="utf-8")
    assert "low level of concern: review with a doctor soon and safety-net" in html
    assert 'class="banner tone-amber"' in html and 'class="banner tone-red"' not in html
    assert "refer before any exercise" not in html
    emergency = run_script("assess", RED, "--format", "markdown").stdout
    assert "act now, before any exercise treatment" in emergency


def default_ctrl_c() -> None:
    """In the child before exec: Ctrl-C as a shell starts a program (not ignored). A test
    runner's worker may have had SIGINT ignored by something it ran, and a child inherits that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_importing_cli_leaves_the_process_ctrl_c_alone() -> None:
    """Only the `imbalance` process ends quietly on a Ctrl-C while it starts (its launcher sets
    that up); a process that imports `cli` for other reasons, such as a test runner's worker,
    keeps Python's own handler and is never ended by a Ctrl-C meant for it."""
    code = ("import signal, cli; "
            "assert signal.getsignal(signal.SIGINT) is signal.default_int_handler, "
            "signal.getsignal(signal.SIGINT)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          preexec_fn=default_ctrl_c)
    assert proc.returncode == 0, proc.stderr
