"""Property tests for the batch reader, for clinic layers, and for interrupted batches.

Invariants, whatever the input: the exit code is 0, 1 or 2; no traceback; every output line is
a JSON object with an id; one record per non-blank input line, none lost and none duplicated;
the same output for the same input. After `kill` at random points and `--resume`, the output
is the same multiset of records as an uninterrupted run.

The reader and layer properties run the CLI in-process (click's CliRunner: fast enough for many
examples); the interruption property needs real processes to kill, so it uses the console script.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli import main
from tests.conftest import ROOT, SCRIPT
from tests.test_fuzz_loader import TOKENS, mutate

FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
EXAMPLE = ROOT / "examples" / "cases" / "runner_it_band.yaml"

GOOD = [
    {"findings": {"saddle_anaesthesia": True, "low_back_pain": True}},
    {"findings": {"lateral_knee_pain": "right", "runner": True, "mileage_increase_pct": 30}},
    {"patient": {"age": 70, "sex": "male"}, "findings": {"night_pain": True,
                                                         "history_of_cancer": True}},
    {"findings": {"laslett_positive_count": 3, "low_back_pain": True}},
    {"findings": {}},
]
POISON = ['{"findings": {"fever": "\\ud800"}}', "[" * 300 + "]" * 300, '{"patient": {"age": '
          + "9" * 400 + "}}", '{"findings": {"fever": true, "fever": false}}', '{"id": [1]}',
          '{"id": true}', "null", "[]", '"text"', "{", '{"findings": {"sitting_hours_per_day": 1e2}}',
          '{"findings": {"laslett_positive_count": 2.5}}', '{"id": "a\\nerror: forged"}']


def one_line_json(case: dict, case_id: str | None) -> str:
    return json.dumps({**({"id": case_id} if case_id is not None else {}), **case})


line = st.one_of(
    st.builds(one_line_json, st.sampled_from(GOOD),
              st.none() | st.sampled_from(["a", "b", "c", "1", "line-2", "é", ""])),
    st.sampled_from(POISON),
    st.text(max_size=40).map(lambda t: t.replace("\n", " ")),
    st.tuples(st.sampled_from(GOOD), st.integers(0, 60), st.sampled_from(TOKENS)).map(
        lambda t: (lambda s: s[:t[1]] + t[2].replace("\n", " ") + s[t[1]:])(json.dumps(t[0]))),
)


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=True)


def judge(result: Result) -> None:
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.output)
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output and "internal error" not in result.output


def read_records(path: Path) -> list[dict]:
    out = []
    for text in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(text)
        assert isinstance(record, dict) and isinstance(record.get("id"), str), text
        out.append(record)
    return out


@FUZZ
@given(st.lists(line, max_size=25))
def test_the_batch_reader_on_arbitrary_lines(tmp_path: Path, lines: list[str]) -> None:
    folder = tmp_path / f"run{time.monotonic_ns()}"
    folder.mkdir()
    source = folder / "in.jsonl"
    source.write_text("".join(text + "\n" for text in lines), encoding="utf-8",
                      errors="surrogatepass")
    outputs = []
    for n in range(2):
        out = folder / f"out{n}.jsonl"
        result = run("batch", str(source), "-o", str(out), "-j", "1")
        judge(result)
        records = read_records(out)
        ids = [r["id"] for r in records]
        assert len(ids) == len(set(ids)), ids  # nothing duplicated
        assert len(records) == sum(1 for text in lines if text.strip())  # nothing lost
        assert result.exit_code == (1 if any("error" in r for r in records) else 0)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]  # the same output for the same input


LAYER = """findings:
  - id: clinic_count_test
    label: Clinic screening item
    category: examination
    type: number
    integer: true
    unit: tests
    range: [0, 5]
    question: "How many clinic tests are positive?"
rules:
  - id: clinic_si_rule
    title: Clinic SI cluster
    band: condition
    when:
      - clinic_count_test: {ge: 3}
      - low_back_pain: true
    then:
      condition: si_joint_dysfunction
      certainty: 0.5
      because: Local audit of the clinic's tests.
    sources: [laslett_2005]
    evidence: moderate
disable:
  - rule: sij_laslett_cluster
    reason: Replaced by the clinic's own cluster.
tests:
  - name: clinic rule fires
    findings: {clinic_count_test: 4, low_back_pain: true}
    expect:
      fires: [clinic_si_rule]
""".splitlines()


@settings(FUZZ, max_examples=12)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 200), st.integers(0, 200),
                          st.sampled_from(TOKENS)), max_size=5))
def test_clinic_layers_never_crash_the_cli(tmp_path: Path,
                                           edits: list[tuple[int, int, int, str]]) -> None:
    layer = tmp_path / f"layer{time.monotonic_ns()}"
    layer.mkdir()
    (layer / "clinic.yaml").write_text(mutate(LAYER, edits) if edits else "\n".join(LAYER) + "\n",
                                       encoding="utf-8", errors="surrogatepass")
    case = layer.parent / "case.json"
    case.write_text('{"findings": {"clinic_count_test": 4, "low_back_pain": true}}',
                    encoding="utf-8")
    for args in (("assess", str(case), "--format", "json"), ("kb", "lint"), ("kb", "test")):
        result = run("--kb", str(layer), *args)
        judge(result)
        if not edits and args[0] == "assess":  # the unmutated layer works
            assert result.exit_code == 0, result.output
            assert "clinic_si_rule" in json.loads(result.stdout)["fired_rules"]


# --- kill at random points, then --resume ----------------------------------------------------

KILL_CASES = 2400


@pytest.fixture(scope="module")
def caseload(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A caseload with good cases, bad ones and repeated ids, and its uninterrupted output."""
    folder = tmp_path_factory.mktemp("kill")
    source = folder / "cases.jsonl"
    rows = []
    for i in range(KILL_CASES):
        if i % 97 == 5:
            rows.append(POISON[i % len(POISON)])
        elif i % 101 == 7:
            rows.append(json.dumps({"id": f"c{i - 1}", **GOOD[0]}))  # a repeated id
        else:
            rows.append(json.dumps({"id": f"c{i}", **GOOD[i % len(GOOD)]}))
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    reference = folder / "reference.jsonl"
    proc = subprocess.run([str(SCRIPT), "batch", str(source), "-o", str(reference), "-j", "2"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stderr
    return source, reference


def lines_of(path: Path) -> Counter[str]:
    return Counter(path.read_text(encoding="utf-8").splitlines()) if path.exists() else Counter()


def written(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def default_ctrl_c() -> None:
    """In the child before exec: Ctrl-C as a shell starts a program, so an INT below really
    interrupts (a test runner's worker may have SIGINT ignored, and a child inherits that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


# What Python prints for a Ctrl-C while it imports its own `site` module, before any program line.
PYTHON_STARTING = "Fatal Python error: init_import_site: Failed to import the site module"


def before_our_code(err: str) -> bool:
    """Whether a Ctrl-C's output comes from Python before any line of ours ran: its fatal
    start-up error, or a KeyboardInterrupt whose every frame is the console-script wrapper or
    Python's own import machinery (the launcher's first statement was not reached)."""
    if err.startswith(PYTHON_STARTING):
        return True
    frames = re.findall(r'File "([^"]+)"', err)
    return (bool(frames) and err.rstrip().endswith("KeyboardInterrupt")
            and all(f == str(SCRIPT) or f.startswith("<frozen ") for f in frames))


def python_start_up() -> float:
    """Seconds until a fresh `imbalance` process has started running its own code, measured
    now (twice the slowest of three `imbalance --version`, which end just after it).

    A Ctrl-C while Python itself starts (its `site` module, the console script's first lines)
    ends with Python's own traceback: no program can catch it, as none of its code has run yet.
    From the launcher's first statement on, `imbalance` ends quietly with "interrupted", and that
    is what this test checks, so its moments count from here."""
    times = []
    for _ in range(3):
        begin = time.monotonic()
        subprocess.run([str(SCRIPT), "--version"], capture_output=True, timeout=60)
        times.append(time.monotonic() - begin)
    return 2 * max(times)


# when to interrupt: after some seconds (from start-up), or once so many records are on disk
moments = st.one_of(st.floats(0.05, 2.0).map(lambda s: ("seconds", s)),
                    st.integers(1, KILL_CASES - 200).map(lambda n: ("records", n)))


@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(moments, st.sampled_from(["KILL", "INT", "TERM"]),
                          st.sampled_from(["1", "2"])), min_size=1, max_size=3))
def test_kill_anywhere_then_resume_loses_and_duplicates_nothing(
        caseload: tuple[Path, Path], tmp_path: Path,
        kills: list[tuple[tuple[str, float], str, str]]) -> None:
    source, reference = caseload
    expected = lines_of(reference)
    started = python_start_up()
    out = tmp_path / f"out{time.monotonic_ns()}.jsonl"
    for n, ((unit, when), how, jobs) in enumerate(kills):
        args = [str(SCRIPT), "batch", str(source), "-o", str(out), "-j", jobs]
        proc = subprocess.Popen(args + (["--resume"] if n else []), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, start_new_session=True,
                                preexec_fn=default_ctrl_c)
        if unit == "seconds":
            time.sleep(started + when)
        else:
            deadline = time.monotonic() + 120
            while written(out) < when and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
        if proc.poll() is None:
            os.killpg(proc.pid, getattr(signal, f"SIG{how}"))
        _, err = proc.communicate(timeout=120)
        if before_our_code(err):
            continue  # Python still starting (a slow start under load): none of our code ran
        assert "Traceback" not in err, err
    final = subprocess.run([str(SCRIPT), "batch", str(source), "-o", str(out), "--resume",
                            "-j", "2"], capture_output=True, text=True, timeout=600)
    assert final.returncode in (0, 1), final.stderr
    got = lines_of(out)
    lost, extra = expected - got, got - expected
    assert not lost and not extra, (f"{len(lost)} records lost, {len(extra)} extra; e.g. "
                                    f"{[r[:80] for r in list(lost)[:2] + list(extra)[:2]]}")
