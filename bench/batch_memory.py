"""Batch memory and worker count: does memory stay flat as the caseload grows, and which -j is best?

    uv run python bench/batch_memory.py                 # 10k, 100k and 1M cases; -j 1, 2, 3
    uv run python bench/batch_memory.py --sizes 10000 100000 1000000 --findings 0 3 --jobs-cases 20000

Runs `imbalance batch cases.jsonl -o out.jsonl [-j N]` through the console script as a whole
process and samples, every 100 ms, the resident memory of the parent and all its workers:
RSS summed (what `top` shows; pages shared by forked workers are counted once per process, so it
over-states) and PSS summed (each shared page divided among the processes sharing it: the
memory the batch really costs the machine). The caseload is random cases from the shipped
vocabulary (bench/synth.py, 3-30 findings each), one file whose first N lines make the smaller
runs. Results replace the "Batch memory" section of bench/RESULTS.md (between its markers).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.synth import random_case_data  # noqa: E402
from engine.kb.loader import load_kb  # noqa: E402

SCRIPT = Path(sys.executable).parent / "imbalance"
START, END = "<!-- batch-memory -->", "<!-- /batch-memory -->"
TARGET_MB = 150


def _tree(pid: int) -> list[int]:
    pids, stack = [], [pid]
    while stack:
        current = stack.pop()
        pids.append(current)
        try:
            with open(f"/proc/{current}/task/{current}/children") as handle:
                stack.extend(int(c) for c in handle.read().split())
        except OSError:
            continue
    return pids


def _field_kb(path: str, name: str) -> int:
    try:
        with open(path) as handle:
            for line in handle:
                if line.startswith(name):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_batch(source: Path, jobs: int | None, folder: Path) -> dict[str, Any]:
    out = folder / "out.jsonl"
    out.unlink(missing_ok=True)
    args = [str(SCRIPT), "batch", str(source), "-o", str(out)] + (["-j", str(jobs)] if jobs else [])
    peak = {"rss": 0, "pss": 0, "parent": 0}
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            pids = _tree(proc.pid)
            peak["rss"] = max(peak["rss"], sum(_field_kb(f"/proc/{p}/status", "VmRSS:") for p in pids))
            peak["pss"] = max(peak["pss"], sum(_field_kb(f"/proc/{p}/smaps_rollup", "Pss:")
                                               for p in pids))
            peak["parent"] = max(peak["parent"], _field_kb(f"/proc/{proc.pid}/status", "VmRSS:"))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    elapsed = time.perf_counter() - start
    stop.set()
    sampler.join()
    summary = err.decode().strip().splitlines()[0] if err else ""
    workers = summary.rsplit(", ", 1)[-1] if summary else "?"
    with out.open("rb") as handle:
        lines = sum(1 for _ in handle)
    return {"elapsed": elapsed, "rss": peak["rss"] / 1024, "pss": peak["pss"] / 1024,
            "parent": peak["parent"] / 1024, "lines": lines, "exit": proc.returncode,
            "workers": workers, "summary": summary}


def make_caseload(path: Path, n: int, low: int, high: int) -> None:
    kb = load_kb()
    rng = random.Random(3)
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            count = rng.randint(low, high)
            handle.write(json.dumps(random_case_data(kb, rng, count, f"c{i:07d}")) + "\n")


def first_lines(source: Path, n: int, target: Path) -> Path:
    with source.open("rb") as src, target.open("wb") as dst:
        for i, line in enumerate(src):
            if i >= n:
                break
            dst.write(line)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--findings", type=int, nargs=2, default=[3, 30], metavar=("LOW", "HIGH"),
                        help="findings per case in the caseload series")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2, 3],
                        help="worker counts compared")
    parser.add_argument("--jobs-cases", type=int, default=0,
                        help="cases (3-30 findings) for the worker comparison; default: the middle size")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    folder = Path(tempfile.mkdtemp(prefix="imbalance-batch-memory-"))
    biggest = folder / "all.jsonl"
    make_caseload(biggest, max(args.sizes), *args.findings)
    sizes = sorted(args.sizes)
    files = {n: biggest if n == max(sizes) else first_lines(biggest, n, folder / f"c{n}.jsonl")
             for n in sizes}
    rows_size = []
    for n in sizes:
        got = run_batch(files[n], None, folder)
        rows_size.append((n, got))
        print(f"{n:,} cases, default -j: {got}", flush=True)
    middle = args.jobs_cases or sizes[len(sizes) // 2]
    jobs_file = files.get(middle) if args.findings == [3, 30] else None
    if jobs_file is None:
        jobs_file = folder / f"jobs{middle}.jsonl"
        make_caseload(jobs_file, middle, 3, 30)
    rows_jobs = []
    for jobs in args.jobs:
        got = run_batch(jobs_file, jobs, folder)
        rows_jobs.append((jobs, got))
        print(f"{middle:,} cases, -j {jobs}: {got}", flush=True)
    write(args.out, rows_size, rows_jobs, middle, load, args.findings)
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    return 0


def write(path: Path, rows_size: list, rows_jobs: list, middle: int, load: float,
          findings: list[int]) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    big_n, big = rows_size[-1]
    small_n, small = rows_size[0]
    ok = big["pss"] <= TARGET_MB and big["rss"] <= TARGET_MB
    text = [
        START, "## Batch memory and workers", "",
        f"Written by `uv run python bench/batch_memory.py` at commit `{commit}` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {os.cpu_count()} cores, load "
        f"average {load:.2f} at the start (the machine is shared: wall times are inflated by other "
        "processes, memory is not). `imbalance batch cases.jsonl -o out.jsonl` through the console "
        f"script, random cases from the shipped vocabulary ({findings[0]}-{findings[1]} findings "
        "each in the caseload series, 3-30 in the worker comparison), memory of the "
        "parent and its workers sampled every 100 ms: RSS summed (shared pages counted once per "
        "process) and PSS summed (shared pages divided among the processes).", "",
        "| target | measured | |", "|---|---|---|",
        f"| peak memory for {big_n:,} cases <= {TARGET_MB} MB | RSS {big['rss']:.0f} MB, PSS "
        f"{big['pss']:.0f} MB | {'ok' if ok else '**missed**'} |",
        f"| flat with the caseload ({small_n:,} -> {big_n:,} cases) | RSS {small['rss']:.0f} -> "
        f"{big['rss']:.0f} MB ({big['rss'] / small['rss']:.2f}x) | "
        f"{'ok' if big['rss'] <= small['rss'] * 1.1 + 5 else '**missed**'} |", "",
        "| cases | -j | workers | wall s | cases/s | peak RSS MB | peak PSS MB | parent RSS MB "
        "| lines | exit |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, rows in (("default", rows_size), (None, rows_jobs)):
        for key, got in rows:
            n = key if label else middle
            jobs = label or str(key)
            text.append(f"| {n:,} | {jobs} | {got['workers']} | {got['elapsed']:.1f} | "
                        f"{n / got['elapsed']:,.0f} | {got['rss']:.0f} | {got['pss']:.0f} | "
                        f"{got['parent']:.0f} | {got['lines']:,} | {got['exit']} |")
    text += ["", f"Summary line of the largest run: `{big['summary']}`", "",
             "Memory stays flat because nothing in the batch grows with the caseload: lines are "
             "read lazily, at most 4 chunks of 48 cases per worker are in flight, the ids seen "
             "(and, on --resume, those already written) live in an SQLite table in a private "
             "temporary file (engine/cases/idstore.py, its page cache capped at 4 MB), records are "
             "appended as they come, and the parent hands its free C heap back to the system "
             "every 64 chunks (engine/inference/heap.py: results arrive on the pool's thread and "
             "are freed on the main one, and glibc otherwise kept the freed pages, which made "
             "the parent creep from 35 to 60 MB over a million cases). "
             "PSS is the fairer figure for forked workers: they share the parent's loaded "
             "knowledge base and code pages, which RSS counts once per process.", END]
    block = "\n".join(text)
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    if START in current and END in current:
        before, rest = current.split(START, 1)
        after = rest.split(END, 1)[1]
        current = before + block + after
    else:
        current = current.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(current, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
