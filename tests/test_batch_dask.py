"""`imbalance batch --dask`: the same records as a local batch, computed on a Dask cluster
(a real LocalCluster of worker processes, started by `--dask local`)."""

from __future__ import annotations

import json
import random
import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from bench.synth import random_case_data
from engine.inference import batch as work
from engine.inference.cluster import assess_partition, portable
from engine.kb import model as m
from tests.conftest import ROOT, run_script

EXAMPLES = ROOT / "examples" / "cases"


def caseload(kb: m.KnowledgeBase, path: Path, n: int) -> Path:
    rng = random.Random(17)
    lines = [json.dumps(random_case_data(kb, rng, rng.randint(0, 25), f"c{i}")) for i in range(n)]
    lines[5] = '{"id": "typo", "findings": {"fevr": true}}'  # an error record travels too
    lines[9] = "{not json"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_a_local_dask_cluster_writes_the_local_batch_file(kb: m.KnowledgeBase,
                                                           tmp_path: Path) -> None:
    source = caseload(kb, tmp_path / "cases.jsonl", 700)  # several partitions of 256
    local, dask = tmp_path / "local.jsonl", tmp_path / "dask.jsonl"
    mine = run_script("batch", str(source), "-o", str(local), "-j", "1")
    theirs = run_script("batch", str(source), "-o", str(dask), "-j", "2", "--dask", "local")
    assert mine.returncode == theirs.returncode == 1, theirs.stderr  # two bad lines
    assert sorted(lines(dask)) == sorted(lines(local))  # the same records as a multiset
    assert lines(dask) == lines(local)  # and, as it happens, in the same (input) order
    assert len(lines(dask)) == 700
    assert theirs.stderr.splitlines()[0].startswith("700 cases from jsonl")
    assert "on Dask (a local cluster of 2)" in theirs.stderr
    assert "INFO" not in theirs.stderr and "distributed" not in theirs.stderr


def test_case_files_travel_as_text(tmp_path: Path) -> None:
    """A folder's case files are read by the client, so workers need not share its disk."""
    folder = tmp_path / "cases"
    shutil.copytree(EXAMPLES, folder)
    (folder / "broken.yaml").write_text("findings: [not, a, mapping\n", encoding="utf-8")
    local, dask = tmp_path / "local.jsonl", tmp_path / "dask.jsonl"
    run_script("batch", str(folder), "-o", str(local), "-j", "1")
    proc = run_script("batch", str(folder), "-o", str(dask), "--dask", "local", "-j", "1")
    assert proc.returncode == 1, proc.stderr
    assert sorted(lines(dask)) == sorted(lines(local))
    items = list(portable(work.read_items(str(folder))))
    assert all(not item.path for item in items)
    assert any(item.document and "findings" in item.text for item in items)


def test_the_partition_function_is_the_local_per_case_function(kb: m.KnowledgeBase,
                                                               tmp_path: Path) -> None:
    from engine.inference.cluster import _kb_blob

    source = caseload(kb, tmp_path / "cases.jsonl", 60)
    work.prepare(())
    items = list(work.read_items(str(source)))
    expected = [work.assess_item(item) for item in items]
    digest, blob = _kb_blob()
    work._STATE.clear()  # a fresh worker process: it knows nothing but what it is sent
    assert assess_partition(digest, blob, items) == expected
    assert work._STATE["kb_dirs"] == ("dask", digest)


def test_an_unreachable_scheduler_is_one_line_and_no_output(tmp_path: Path) -> None:
    source = tmp_path / "cases.jsonl"
    source.write_text('{"id": "a", "findings": {"fever": true}}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    proc = run_script("batch", str(source), "-o", str(out), "--dask", "tcp://127.0.0.1:9")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()  # connected before OUT is opened


def test_without_the_extra_the_message_says_what_to_install(monkeypatch: pytest.MonkeyPatch,
                                                            tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli import main

    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    source = tmp_path / "cases.jsonl"
    source.write_text('{"id": "a", "findings": {"fever": true}}\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["batch", str(source), "-o", str(tmp_path / "o.jsonl"),
                                       "--dask", "local"])
    assert result.exit_code == 2
    assert "imbalance-kb[dask]" in result.output
