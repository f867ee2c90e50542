"""`imbalance batch` must never lose a caseload or a record: issue 12's reproductions, fixed.

Through the real console script: output = input, a failed --force run, a damaged output to
resume, two batches on one output, poisoned lines, duplicate keys and ids, stdin/stdout, inputs
that are not JSONL, and an output written inside the input folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from tests.conftest import ROOT, SCRIPT, run_script
from tests.test_batch import CES, ITB, records, write_jsonl

EXAMPLES = ROOT / "examples" / "cases"


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def no_crash(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr


# --- item 1: the output is the input ---------------------------------------------------------

def test_output_equal_to_input_is_refused_and_the_caseload_kept(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "s.jsonl", [CES, ITB])
    before = source.read_bytes()
    os.link(source, tmp_path / "hard.jsonl")
    (tmp_path / "soft.jsonl").symlink_to(source)
    for out, flag in [(source, "--force"), (source, "--resume"), (tmp_path / "hard.jsonl", "--force"),
                      (tmp_path / "soft.jsonl", "--resume")]:
        proc = run_script("batch", str(source), "-o", str(out), flag, "-j", "1")
        assert proc.returncode == 2, proc.stderr
        assert "is the input itself" in proc.stderr
        no_crash(proc)
        assert source.read_bytes() == before


# --- items 2 and 3: duplicate keys and poisoned lines become error records --------------------

def test_a_duplicate_key_in_a_line_is_an_error_record_not_the_last_value(tmp_path: Path) -> None:
    source = tmp_path / "d.jsonl"
    source.write_text('{"id": "x", "findings": {"saddle_anaesthesia": true, '
                      '"saddle_anaesthesia": false}}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    proc = run_script("batch", str(source), "-o", str(out), "-j", "1")
    assert proc.returncode == 1
    (record,) = lines_of(out)
    assert record["id"] == "x" and "triage" not in record
    assert "duplicate key 'saddle_anaesthesia'" in record["error"]


POISON = [
    '{"id": "surrogate", "patient": {"name": "\\ud800"}, "findings": {}}',
    "[" * 10_000 + "]" * 10_000,
    '{"patient": {"age": ' + "9" * 5000 + '}, "findings": {}}',
    '{"id": {"nested": 1}, "findings": {}}',
    '{"findings": {"fever": NaN}}',
    "x" * 1_100_000,
]


def test_poisoned_lines_become_error_records_and_resume_gets_past_them(tmp_path: Path) -> None:
    good = [dict(ITB, id=f"ok{i}") for i in range(3)]
    source = write_jsonl(tmp_path / "p.jsonl", [good[0], *POISON, good[1], CES, good[2]])
    with source.open("ab") as handle:  # and a line that is not UTF-8 at all
        handle.write(b'{"id": "latin1", "patient": {"name": "Jos\xe9"}, "findings": {}}\n')
    out = tmp_path / "out.jsonl"
    proc = run_script("batch", str(source), "-o", str(out), "-j", "2")
    no_crash(proc)
    assert proc.returncode == 1
    got = records(out)
    assert len(got) == 3 + len(POISON) + 1 + 1
    assert {got[f"ok{i}"]["triage"] for i in range(3)} == {"routine"}
    assert got["ces"]["triage"] == "emergency"
    errors = [r["error"] for r in got.values() if "error" in r]
    assert len(errors) == len(POISON) + 1
    for words in ["lone surrogate", "limit of 64 levels", "limit of 30", "'id' must be text",
                  "'NaN' is not a JSON number", "1 MB limit", "not UTF-8"]:
        assert any(words in e for e in errors), words
    assert all("p.jsonl:" in e for e in errors)
    # interrupted after the first record: resume writes every other one exactly once
    first = out.read_text(encoding="utf-8").splitlines(keepends=True)[0]
    out.write_text(first, encoding="utf-8")
    again = run_script("batch", str(source), "-o", str(out), "--resume", "-j", "1")
    no_crash(again)
    assert records(out) == got


# --- item 4: a failed --force run leaves the old output ----------------------------------------

def test_a_failed_force_run_leaves_the_existing_output_untouched(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "s.jsonl", [CES])
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "precious", "triage": "routine"}\n', encoding="utf-8")
    layer = tmp_path / "layer"
    layer.mkdir()
    (layer / "broken.yaml").write_text("rules:\n  - id: [unclosed\n", encoding="utf-8")
    proc = run_script("--kb", str(layer), "batch", str(source), "-o", str(out), "--force")
    assert proc.returncode == 2
    no_crash(proc)
    assert out.read_text(encoding="utf-8") == '{"id": "precious", "triage": "routine"}\n'
    assert not (tmp_path / "out.jsonl.lock").exists()


# --- item 5: resume cuts only a torn last line; one writer at a time ---------------------------

def test_resume_refuses_a_damaged_line_in_the_middle_and_changes_nothing(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "s.jsonl", [dict(ITB, id=f"c{i}") for i in range(6)])
    out = tmp_path / "out.jsonl"
    assert run_script("batch", str(source), "-o", str(out), "-j", "1").returncode == 0
    rows = out.read_text(encoding="utf-8").splitlines(keepends=True)
    damaged = "".join(rows[:2]) + rows[2][:30] + "\n" + "".join(rows[3:5]) + rows[5][:20]
    out.write_text(damaged, encoding="utf-8")
    proc = run_script("batch", str(source), "-o", str(out), "--resume", "-j", "1")
    assert proc.returncode == 2
    no_crash(proc)
    assert f"{out}:3: not a batch record" in proc.stderr
    assert out.read_text(encoding="utf-8") == damaged  # nothing cut, nothing added


def test_a_second_batch_on_the_same_output_is_refused_naming_the_first(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    first = subprocess.Popen([str(SCRIPT), "batch", "-", "-o", str(out), "-j", "1"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    assert first.stdin is not None
    try:
        first.stdin.write(json.dumps(CES) + "\n")
        first.stdin.flush()
        lock = tmp_path / "out.jsonl.lock"
        deadline = time.monotonic() + 60
        while not (lock.exists() and lock.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        source = write_jsonl(tmp_path / "s.jsonl", [ITB])
        for flag in ("--resume", "--force"):
            second = run_script("batch", str(source), "-o", str(out), flag, "-j", "1")
            assert second.returncode == 2, second.stderr
            assert "being written by another batch" in second.stderr
            assert f"pid {first.pid}" in second.stderr
            no_crash(second)
        first.stdin.write(json.dumps(ITB) + "\n")
        first.stdin.close()
        assert first.wait(timeout=60) == 0
    finally:
        if first.poll() is None:
            first.kill()
    assert set(records(out)) == {"ces", "itb"}  # the first batch's work, not interleaved
    assert not lock.exists()


# --- item 12: stdin and stdout, inputs that are not JSONL, ids, the output inside the input ----

def test_dash_means_standard_input_and_standard_output(tmp_path: Path) -> None:
    stdin = json.dumps(CES) + "\n" + json.dumps(ITB) + "\n"
    proc = run_script("batch", "-", "-o", "-", "-j", "1", stdin=stdin, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(line)["id"] for line in proc.stdout.splitlines()] == ["ces", "itb"]
    assert not (tmp_path / "-").exists()
    assert "from standard input" in proc.stderr


def test_a_csv_or_other_non_jsonl_input_is_refused(tmp_path: Path) -> None:
    csv = tmp_path / "cases.csv"
    csv.write_text('id,findings\n"a","{}"\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    proc = run_script("batch", str(csv), "-o", str(out))
    assert proc.returncode == 2 and "neither a folder nor a JSONL file" in proc.stderr
    no_crash(proc)
    assert not out.exists()


def test_a_repeated_id_gets_its_own_record_and_is_written_again_on_resume(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "s.jsonl", [CES, ITB, dict(ITB, findings={"fever": True})])
    out = tmp_path / "out.jsonl"
    assert run_script("batch", str(source), "-o", str(out), "-j", "1").returncode == 1
    full = records(out)
    assert set(full) == {"ces", "itb", "line-3"}
    assert "duplicate case id 'itb' (first on line 2)" in full["line-3"]["error"]
    out.write_text("".join(out.read_text(encoding="utf-8").splitlines(keepends=True)[:2]),
                   encoding="utf-8")  # interrupted before the repeat was written
    assert run_script("batch", str(source), "-o", str(out), "--resume", "-j", "1").returncode == 1
    assert records(out) == full


def test_an_output_inside_the_input_folder_is_not_read_back(tmp_path: Path) -> None:
    folder = tmp_path / "cases"
    shutil.copytree(EXAMPLES, folder)
    count = sum(1 for p in folder.iterdir() if p.suffix in (".yaml", ".yml", ".json"))
    out = folder / "zz_results.json"  # a name batch would take for a case file
    for flags in ([], ["--force"]):
        proc = run_script("batch", str(folder), "-o", str(out), "-j", "2", *flags)
        assert proc.returncode == 0, proc.stderr
        got = records(out)
        assert len(got) == count and "zz_results.json" not in got


def test_the_same_input_gives_the_same_bytes_whatever_the_workers(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "s.jsonl", [dict(c, id=f"{c['id']}{i}") for i in range(60)
                                                for c in (CES, ITB)])
    outs = []
    for jobs in ("1", "2", "2"):
        out = tmp_path / f"out{len(outs)}.jsonl"
        assert run_script("batch", str(source), "-o", str(out), "-j", jobs).returncode == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] == outs[2]


# --- the pieces as functions ------------------------------------------------------------------

def test_id_store_remembers_where_an_id_was_first_seen() -> None:
    from engine.cases.idstore import IdStore

    with IdStore() as store:
        assert store.add("a", 3) == 0 and store.add("b") == 0
        assert store.add("a", 9) == 3 and store.add("b", 4) == -1
        assert "a" in store and "c" not in store and len(store) == 2
        assert store.add("bad\udcff") == 0 and "bad\udcff" in store  # undecodable file names


def test_finished_ids_keeps_the_intact_part_and_refuses_damage(tmp_path: Path) -> None:
    import pytest

    from engine.cases.batch_output import finished_ids
    from engine.cases.idstore import IdStore
    from engine.errors import InputError

    out = tmp_path / "out.jsonl"
    out.write_bytes(b'{"id": "a"}\n\n{"id": "b", "error": "x"}\n{"id": "c", "tri')
    with IdStore() as done:
        assert finished_ids(out, done) == len(b'{"id": "a"}\n\n{"id": "b", "error": "x"}\n')
        assert "a" in done and "b" in done and "c" not in done
    out.write_bytes(b'{"id": "a"}\n[1, 2]\n{"id": "c"}\n')
    with IdStore() as done, pytest.raises(InputError, match=r"out.jsonl:2: not a batch record"):
        finished_ids(out, done)
    assert out.read_bytes() == b'{"id": "a"}\n[1, 2]\n{"id": "c"}\n'


def test_the_lock_names_its_holder_and_is_released(tmp_path: Path) -> None:
    import pytest

    from engine.cases.batch_output import check_target, lock, unlock
    from engine.errors import InputError

    first = check_target(str(tmp_path / "o.jsonl"), "-", False, False)
    lock(first)
    try:
        second = check_target(str(tmp_path / "o.jsonl"), "-", False, False)
        with pytest.raises(InputError, match=f"another batch \\(pid {os.getpid()} on "):
            lock(second)
    finally:
        unlock(first)
    assert not (tmp_path / "o.jsonl.lock").exists()
    third = check_target(str(tmp_path / "o.jsonl"), "-", False, False)
    lock(third)
    unlock(third)
