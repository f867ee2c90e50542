"""`imbalance batch` through the real console script, and the streaming pieces it is built on."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engine.cases.batch_output import finished_ids
from engine.cases.idstore import IdStore
from engine.inference.batch import read_items
from tests.conftest import ROOT, run_script

EXAMPLES = ROOT / "examples" / "cases"


def write_jsonl(path: Path, lines: list[object]) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines),
                    encoding="utf-8")
    return path


def records(path: Path) -> dict[str, dict]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        assert record["id"] not in out, f"duplicate record {record['id']}"
        out[record["id"]] = record
    return out


CES = {"id": "ces", "patient": {"age": 52, "sex": "male"},
       "findings": {"saddle_anaesthesia": True, "low_back_pain": True}}
ITB = {"id": "itb", "findings": {"lateral_knee_pain": "right", "runner": True}}


def test_jsonl_batch_writes_contract_lines_errors_and_a_summary(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "cases.jsonl", [
        CES, ITB, "{not json", {"id": "typo", "findings": {"fevr": True}}, "",
        {"findings": {"fever": False}},
    ])
    out = tmp_path / "out.jsonl"
    proc = run_script("batch", str(source), "-o", str(out), "-j", "1")
    assert proc.returncode == 1, proc.stderr
    got = records(out)
    assert set(got) == {"ces", "itb", "line-3", "typo", "line-6"}
    assert got["ces"]["triage"] == "emergency"
    assert got["ces"]["red_flags"][0]["id"] == "cauda_equina_syndrome"
    assert got["itb"]["conditions"][0]["id"] == "it_band_syndrome"
    assert {"triage", "red_flags", "conditions", "causes", "muscles", "recommendations",
            "fired_rules"} <= set(got["line-6"])
    assert "malformed JSON" in got["line-3"]["error"] and "cases.jsonl:3" in got["line-3"]["error"]
    assert "unknown finding 'fevr'" in got["typo"]["error"] and "fever" in got["typo"]["error"]
    summary = proc.stderr
    assert "5 cases" in summary and "emergency 1" in summary and "routine 2" in summary
    assert "errors 2" in summary and "cases/s" in summary
    assert "\r" not in summary  # no progress bar when stderr is not a terminal
    assert proc.stdout == ""


def test_folder_batch_in_worker_processes_matches_assess(tmp_path: Path) -> None:
    folder = tmp_path / "cases"
    shutil.copytree(EXAMPLES, folder)
    (folder / "nested").mkdir()
    shutil.copy(EXAMPLES / "runner_it_band.yaml", folder / "nested" / "again.yaml")
    (folder / "notes.txt").write_text("not a case", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    proc = run_script("batch", str(folder), "-o", str(out), "-j", "2")
    assert proc.returncode == 0, proc.stderr
    got = records(out)
    expected = {p.name for p in EXAMPLES.iterdir() if p.suffix in (".yaml", ".yml", ".json")}
    assert set(got) == expected | {"nested/again.yaml"}
    single = json.loads(run_script("assess", str(EXAMPLES / "runner_it_band.yaml"), "--format",
                                "json").stdout)
    batch_record = dict(got["runner_it_band.yaml"])
    assert batch_record.pop("id") == "runner_it_band.yaml"
    assert batch_record == single
    assert "2 workers" in proc.stderr


def test_refuses_to_overwrite_without_resume_or_force(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "cases.jsonl", [CES])
    out = tmp_path / "out.jsonl"
    out.write_text("precious\n", encoding="utf-8")
    proc = run_script("batch", str(source), "-o", str(out))
    assert proc.returncode == 2
    assert "already exists" in proc.stderr and "--resume" in proc.stderr
    assert out.read_text(encoding="utf-8") == "precious\n"
    assert run_script("batch", str(source), "-o", str(out), "--force", "-j", "1").returncode == 0
    assert set(records(out)) == {"ces"}


def test_resume_skips_finished_ids_and_cuts_a_torn_line(tmp_path: Path) -> None:
    cases = [dict(ITB, id=f"c{i}") for i in range(30)]
    source = write_jsonl(tmp_path / "cases.jsonl", cases)
    out = tmp_path / "out.jsonl"
    assert run_script("batch", str(source), "-o", str(out), "-j", "1").returncode == 0
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    out.write_text("".join(lines[:10]) + lines[10][:25], encoding="utf-8")  # interrupted mid-line
    proc = run_script("batch", str(source), "-o", str(out), "--resume", "-j", "2")
    assert proc.returncode == 0, proc.stderr
    got = records(out)  # no duplicates, no torn line
    assert set(got) == {f"c{i}" for i in range(30)}
    assert "20 cases (10 already in" in proc.stderr


def test_bad_input_is_a_usage_error(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    missing = run_script("batch", str(tmp_path / "nope"), "-o", str(out))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    single = run_script("batch", str(EXAMPLES / "runner_it_band.yaml"), "-o", str(out))
    assert single.returncode == 2 and "imbalance assess" in single.stderr
    assert not out.exists()
    both = run_script("batch", str(EXAMPLES), "-o", str(out), "--resume", "--force")
    assert both.returncode == 2
    assert "Traceback" not in missing.stderr + single.stderr + both.stderr


def test_reading_is_lazy_and_duplicate_ids_become_errors(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "cases.jsonl", [CES, ITB, dict(ITB, findings={})])
    with IdStore() as done:
        done.add("ces")
        items = read_items(str(source), done)
        assert iter(items) is items  # a generator: nothing is read ahead of the workers
        got = list(items)
    assert [i.id for i in got] == ["itb", "line-3"]
    assert got[0].error == ""
    assert "duplicate case id 'itb' (first on line 2)" in got[1].error


def test_finished_ids_of_a_missing_file_is_empty(tmp_path: Path) -> None:
    with IdStore() as done:
        assert finished_ids(tmp_path / "none.jsonl", done) == 0
        assert len(done) == 0


def _double_all(chunk: list[int]) -> list[int]:
    return [2 * x for x in chunk]


def _quiet_init() -> None:
    return None


def test_the_pool_gives_the_parents_free_heap_back_as_it_goes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The parent's memory stays flat over a long batch (bench/batch_memory.py) because the pool
    hands freed heap back every TRIM_EVERY chunks; results and their order are unchanged."""
    import engine.inference.batch as work
    from engine.inference import heap

    calls: list[bool] = []
    monkeypatch.setattr(work, "TRIM_EVERY", 3)
    monkeypatch.setattr(heap, "release_free_memory", lambda: calls.append(True) or True)
    got = list(work.run_pool(range(1000), _quiet_init, (), _double_all, 2, chunk_size=10))
    assert got == [2 * x for x in range(1000)]
    assert len(calls) == 100 // 3


def test_releasing_free_memory_works_here_or_says_it_cannot() -> None:
    import sys

    from engine.inference.heap import release_free_memory

    released = release_free_memory()
    assert isinstance(released, bool)
    if sys.platform.startswith("linux") and Path("/lib/x86_64-linux-gnu/libc.so.6").exists():
        assert released  # glibc: malloc_trim is there
