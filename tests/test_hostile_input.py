"""Hostile and careless input through the real console script: one clear line, exit 2, no crash.

Each test is a reproduction from issue 12 ("Reliability"): before the fix the console script
answered with an internal error, a silent change of meaning, a forged second line, or a crash.
Function-level checks of the same guards follow at the end.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import click
import pytest

from engine.cases import strictjson
from engine.errors import one_line
from engine.kb.yamlsource import YamlSyntaxError, parse_text
from tests.conftest import ROOT, SCRIPT, run_cli

EXAMPLE = ROOT / "examples" / "cases" / "runner_it_band.yaml"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def refused(proc: subprocess.CompletedProcess[str], *words: str) -> str:
    """The one stderr line of a refusal: exit 2, no traceback, no internal error, words present."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout[:500], proc.stderr[:500])
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert not CONTROL.search(lines[0]), repr(lines[0])
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# --- item 6: assess ends in a path:line message, never "internal error" -----------------------

def test_deeply_nested_json_is_refused_by_the_depth_limit(tmp_path: Path) -> None:
    case = write(tmp_path / "deep.json", "[" * 10_000 + "]" * 10_000)
    refused(run_cli("assess", str(case)), f"{case}:1", "limit of 64 levels")


def test_a_five_thousand_digit_age_is_refused_by_the_digit_limit(tmp_path: Path) -> None:
    case = write(tmp_path / "age.json", '{"patient": {"age": ' + "9" * 5000 + '}, "findings": {}}')
    refused(run_cli("assess", str(case)), str(case), "5,000 digits", "limit of 30")
    yaml_case = write(tmp_path / "age.yaml", "patient:\n  age: " + "9" * 5000 + "\nfindings: {}\n")
    refused(run_cli("assess", str(yaml_case)), f"{yaml_case}:2", "limit of 30")


def test_a_file_name_too_long_for_the_system_is_a_message(tmp_path: Path) -> None:
    name = str(tmp_path / ("x" * 300 + ".yaml"))
    refused(run_cli("assess", name), "cannot read case file", "too long")


def test_a_case_in_a_folder_nobody_may_enter_is_a_message(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    shutil.copy(EXAMPLE, locked / "case.yaml")
    locked.chmod(0)
    try:
        if os.geteuid() == 0:  # root enters any folder unless it gives up that capability
            assert shutil.which("setpriv"), "setpriv (util-linux) is needed to test as root"
            proc = subprocess.run(["setpriv", "--bounding-set=-dac_override,-dac_read_search",
                                   str(SCRIPT), "assess", str(locked / "case.yaml")],
                                  capture_output=True, text=True, timeout=60)
        else:
            proc = run_cli("assess", str(locked / "case.yaml"))
        refused(proc, "case.yaml", "ermission denied")
    finally:
        locked.chmod(0o755)


# --- item 8: size limits before parsing, naming the limit ---------------------------------------

def test_huge_and_endless_case_files_are_refused_by_the_size_limit(tmp_path: Path) -> None:
    big = write(tmp_path / "big.yaml", "findings:\n" + "  # padding\n" * 300_000)
    line = refused(run_cli("assess", str(big)), str(big), "1 MB limit")
    assert "alias" not in line
    refused(run_cli("assess", "/dev/zero"), "/dev/zero", "1 MB limit")
    refused(run_cli("assess", "-", stdin="findings:\n" + " " * 1_100_000), "<stdin>", "1 MB limit")


def test_a_large_layer_without_aliases_is_refused_by_the_value_limit(tmp_path: Path) -> None:
    layer = tmp_path / "layer"
    layer.mkdir()
    entries = "".join(f"  - {{id: f{i}, label: L, category: symptom, type: boolean, question: Q}}\n"
                      for i in range(19_000))
    write(layer / "big.yaml", "findings:\n" + entries)
    assert 1_000_000 < (layer / "big.yaml").stat().st_size < 2_000_000
    proc = run_cli("--kb", str(layer), "assess", str(EXAMPLE))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "limit of 100,000 values" in proc.stderr
    assert "alias" not in proc.stderr and "malformed" not in proc.stderr


# --- item 9: numbers mean what they say ----------------------------------------------------------

def test_json_exponents_are_numbers_in_assess_as_in_batch(tmp_path: Path) -> None:
    case = write(tmp_path / "exp.json", '{"findings": {"sitting_hours_per_day": 9e0, '
                                        '"laslett_positive_count": 3E0, "low_back_pain": true}}')
    proc = run_cli("assess", str(case), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["triage"] == "routine"


@pytest.mark.parametrize("written", ["010", "0x1F", "1:30", "1_0"])
def test_yaml_11_number_forms_are_refused_for_numeric_findings(tmp_path: Path, written: str) -> None:
    case = write(tmp_path / "case.yaml", f"findings:\n  low_back_pain: true\n"
                                         f"  sitting_hours_per_day: {written}\n")
    refused(run_cli("assess", str(case)), f"{case}:3", "sitting_hours_per_day", repr(written),
            "plain decimal number")


def test_a_count_takes_whole_numbers_only(tmp_path: Path) -> None:
    case = write(tmp_path / "case.yaml", "findings:\n  laslett_positive_count: 2.5\n")
    refused(run_cli("assess", str(case)), f"{case}:2", "laslett_positive_count", "whole number")
    whole = write(tmp_path / "whole.yaml", "findings:\n  laslett_positive_count: 3.0\n")
    assert run_cli("assess", str(whole)).returncode == 0


# --- item 2 (assess side) and item 12: duplicate keys, BOM -----------------------------------

def test_duplicate_keys_in_json_are_refused_with_their_line(tmp_path: Path) -> None:
    case = write(tmp_path / "dup.json", '{"findings": {"saddle_anaesthesia": true,\n'
                                        ' "saddle_anaesthesia": false}}')
    refused(run_cli("assess", str(case)), f"{case}:2", "duplicate key 'saddle_anaesthesia'")


def test_a_json_case_with_a_byte_order_mark_is_read_like_yaml_with_one(tmp_path: Path) -> None:
    bom = b"\xef\xbb\xbf"
    as_json = write(tmp_path / "bom.json", bom + b'{"findings": {"saddle_anaesthesia": true}}')
    as_yaml = write(tmp_path / "bom.yaml", bom + b"findings:\n  saddle_anaesthesia: true\n")
    for case in (as_json, as_yaml):
        proc = run_cli("assess", str(case), "--format", "json")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["triage"] == "emergency"


# --- item 7: every message is one line with control characters escaped -------------------------

@pytest.mark.parametrize("key", ["bad\\nerror: everything is fine", "title\\e]0;pwned\\a",
                                 "rlo\\u202edi_elttas", "csi\\e[2J"])
def test_unknown_keys_cannot_forge_lines_or_drive_the_terminal(tmp_path: Path, key: str) -> None:
    case = write(tmp_path / "case.yaml", f'findings:\n  "{key}": true\n')
    line = refused(run_cli("assess", str(case)), f"{case}:2", "unknown finding")
    assert line.startswith("error: ")
    assert re.search(r"\\(n|x1b|u202e)", line), line  # shown escaped, not acted on
    top = write(tmp_path / "top.json", json.dumps({key.replace("\\n", "\n"): 1, "findings": {}}))
    refused(run_cli("assess", str(top)), "unknown key")


# --- item 12: NO_COLOR, --no-color, SIGPIPE ---------------------------------------------------

def test_a_closed_pipe_ends_quietly() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone (`| head` after its lines) before the first write
    try:
        proc = subprocess.run([str(SCRIPT), "kb", "show"], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write_end)
    assert proc.stderr == ""
    assert proc.returncode == 141
    head = subprocess.run(f"{SCRIPT} kb show | head -n 1", shell=True, capture_output=True,
                          text=True, timeout=60)  # the issue's own example
    assert head.stderr == "" and head.stdout.startswith("rules")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.parametrize("how", ["env", "flag", "colour"])
def test_no_color_is_honoured_on_a_real_terminal(tmp_path: Path, how: str) -> None:
    from tests.test_interview_tmux import Terminal

    env = "NO_COLOR=1 " if how == "env" else "NO_COLOR= "
    flag = "--no-color " if how == "flag" else ""
    case = ROOT / "examples" / "cases" / "cauda_equina_emergency.yaml"
    dump = tmp_path / "screen.txt"
    # `tee` would hide the terminal; `script` keeps one while recording every byte written
    command = (f"{env}script -qfec '{SCRIPT} {flag}assess {case}' {dump} >/dev/null")
    term = Terminal(command, tmp_path)
    try:
        screen = term.wait_for(lambda text: "[exited" in text, "the assessment")
        raw = dump.read_text(encoding="utf-8", errors="replace")
    finally:
        term.close()
    assert "[exited 0]" in screen, screen
    assert "Do now: Send the patient" in click.unstyle(raw)
    if how == "colour":  # the control: a terminal without NO_COLOR does get colour
        assert "\x1b[" in raw
    else:
        assert "\x1b[" not in raw


# --- the guards as functions ------------------------------------------------------------------

def test_one_line_escapes_controls_bidi_and_surrogates() -> None:
    assert one_line("a\nb\r\tc\x1b[31m\u202e\ud800é") == "a\\nb\\r\\tc\\x1b[31m\\u202e\\ud800é"


def test_strict_json_refuses_what_json_accepts_silently() -> None:
    with pytest.raises(strictjson.JsonProblem, match="duplicate key 'a'"):
        strictjson.loads('{"a": 1, "a": 2}')
    with pytest.raises(strictjson.JsonProblem, match="lone surrogate"):
        strictjson.loads('{"a": "\\ud800"}')
    with pytest.raises(strictjson.JsonProblem, match="limit of 64"):
        strictjson.loads("[" * 65 + "]" * 65)
    with pytest.raises(strictjson.JsonProblem, match="NaN"):
        strictjson.loads('{"a": NaN}')
    assert strictjson.loads('{"a": "[[[[", "b": 1e2}') == {"a": "[[[[", "b": 100.0}
    strictjson.check_depth("[" * 64 + "]" * 64)


def test_yaml_numbers_are_plain_decimal_or_text() -> None:
    data = parse_text("a: [010, 0x1F, 1:30, 1_000, 1e2, 1.5E+1, -3, 0, .5, 2026.11.2, yes]")
    assert list(data["a"]) == ["010", "0x1F", "1:30", "1_000", 100.0, 15.0, -3, 0, 0.5,
                               "2026.11.2", True]
    with pytest.raises(YamlSyntaxError, match="limit of 30"):
        parse_text("a: " + "1" * 31)


# --- item 10: bidi controls in the HTML report --------------------------------------------------

def test_bidi_overrides_in_patient_details_are_shown_not_obeyed_in_the_report(tmp_path: Path) -> None:
    case = write(tmp_path / "rlo.yaml", 'patient:\n  id: "\\u202e2400-P"\n  name: "Ann\\u2067e"\n'
                                        "findings:\n  low_back_pain: true\n")
    out = tmp_path / "r.html"
    proc = run_cli("report", str(case), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    html = out.read_text(encoding="utf-8")
    assert "\u202e" not in html and "\u2067" not in html
    assert "<bdi>[U+202E]2400-P</bdi>" in html
    assert "Ann[U+2067]e" in html


# --- item 11: a device or pipe as the report's output -------------------------------------------

def test_a_report_into_a_pipe_or_device_writes_into_it_and_leaves_it_one(tmp_path: Path) -> None:
    import stat
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    proc = run_cli("report", str(EXAMPLE), "-o", str(fifo), "--force")
    reader.join(timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert received and received[0].startswith(b"<!DOCTYPE html>")
    if os.geteuid() == 0:  # a /dev/null of our own: root could replace the real one
        null = tmp_path / "null"
        os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        proc = run_cli("report", str(EXAMPLE), "-o", str(null), "--force")
        assert proc.returncode == 0, proc.stderr
        assert stat.S_ISCHR(null.stat().st_mode) and null.stat().st_rdev == os.makedev(1, 3)
    proc = run_cli("report", str(EXAMPLE), "-o", os.devnull)  # a device needs no --force
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_patient_details_cannot_drive_the_terminal(tmp_path: Path, fmt: str) -> None:
    case = write(tmp_path / "p.yaml", 'patient:\n  id: "A\\e]0;pwned\\aB\\u202e"\n'
                                      "findings:\n  low_back_pain: true\n")
    proc = run_cli("assess", str(case), "--format", fmt)
    assert proc.returncode == 0, proc.stderr
    assert not CONTROL.search(proc.stdout), repr(proc.stdout[:300])
    assert "pwned" in proc.stdout
