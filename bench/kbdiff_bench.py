"""`kb diff` on a large caseload: is it fast enough for 100,000 cases, and what does it cost
beside `batch`?

    uv run python bench/kbdiff_bench.py                  # 100,000 cases, 3 runs each
    uv run python bench/kbdiff_bench.py --cases 20000 --runs 1

Both commands run as whole processes through the console script on the same random caseload
(bench/synth.py, 3-30 findings per case, a JSONL file), with the default number of workers.
`kb diff` assesses every case twice (base and current) and compares, so the reference is
`batch` over the same file in the same run: the ratio says what the comparison itself costs.
The base is a copy of the shipped kb/ with one rule's certainty changed, so some cases differ.
Results replace the "kb diff" section of bench/RESULTS.md (between its markers).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.synth import random_case_data  # noqa: E402
from engine.kb.loader import load_kb  # noqa: E402

SCRIPT = Path(sys.executable).parent / "imbalance"
START, END = "<!-- kb-diff -->", "<!-- /kb-diff -->"
TARGET = 1000  # cases per second: 100,000 cases in under two minutes


def timed(args: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed: {proc.stderr}")
    return elapsed, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print, do not touch RESULTS.md")
    args = parser.parse_args()
    kb = load_kb()
    rng = random.Random(16)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cases = folder / "cases.jsonl"
        with cases.open("w") as handle:
            for i in range(args.cases):
                data = random_case_data(kb, rng, rng.randint(3, 30), f"c{i}")
                handle.write(json.dumps(data) + "\n")
        base = folder / "base"
        shutil.copytree(ROOT / "kb", base)
        rules = base / "rules" / "conditions" / "sciatica_piriformis.yaml"
        rules.write_text(rules.read_text().replace("certainty: 0.5", "certainty: 0.3", 1))
        diff_s, batch_s, changed = [], [], ""
        for _ in range(args.runs):  # alternate, so a burst of load hits both alike
            out = folder / "out.jsonl"
            out.unlink(missing_ok=True)
            batch_s.append(timed([str(SCRIPT), "batch", str(cases), "-o", str(out)])[0])
            elapsed, text = timed([str(SCRIPT), "kb", "diff", "--base", str(base), str(cases),
                                   "--format", "json"])
            diff_s.append(elapsed)
            changed = str(json.loads(text)["summary"]["changed"])
    d, b = statistics.median(diff_s), statistics.median(batch_s)
    rate = args.cases / d
    load = os.getloadavg()[0]
    table = "\n".join([
        START,
        "## kb diff on a caseload",
        "",
        f"`bench/kbdiff_bench.py`: {args.cases:,} random cases (3-30 findings) in one JSONL file, "
        f"whole processes, default workers ({len(os.sched_getaffinity(0))} cores), median of "
        f"{args.runs} alternating runs; load average {load:.2f} at the end. The base is the "
        "shipped kb/ with one certainty changed; `batch` over the same file is the reference.",
        "",
        "| command | median s | cases/s | vs batch | changed cases |",
        "|---|---|---|---|---|",
        f"| batch | {b:.1f} | {args.cases / b:,.0f} | 1.00 | |",
        f"| kb diff | {d:.1f} | {rate:,.0f} | {d / b:.2f} | {changed} |",
        "",
        f"kb diff assesses each case twice, so about 2x batch is the expected cost; "
        f"{'at or above' if rate >= TARGET else 'below'} {TARGET:,} cases/s in this run "
        "(every figure scales with the load of the shared cores).",
        END,
    ])
    print(table)
    if args.no_write:
        return
    results = ROOT / "bench" / "RESULTS.md"
    text = results.read_text()
    if START in text:
        text = text[:text.index(START)] + table + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + table + "\n"
    results.write_text(text)


if __name__ == "__main__":
    main()
