"""Growth without the noise: per-case instructions and cache misses under a simulated cache.

    uv run python bench/cache_sim.py                       # clinical-shaped 120, 1x and 10x
    uv run python bench/cache_sim.py --kb shipped --engine fixpoint --ll-kb 2048

Why it exists: at 10x rules a case does the same work as at 1x (bench/fair.py, same work) and
what it pays more is memory: its rules' closures and index entries are spread over ten copies,
and fall out of the processor's caches between one case of a copy and the next. Wall-clock
growth ratios measure that, but on a shared 2-core machine they move by 0.1-0.2 with what the
other processes do to the same caches. Valgrind's cachegrind runs the same cases on a simulated
cache, deterministically (PYTHONHASHSEED fixed): the last-level misses per case at 10x count
exactly what an engine change saves, on any machine, under any load.

How: a child process (under `valgrind --tool=cachegrind`) compiles the KB, runs 200 warm-up
cases, then decodes 1,000 cases from JSON (as a batch reads its lines) and, in one of two
otherwise identical runs, assesses them; the difference of the two runs' totals, divided by
the cases, is the cost of assessing a case. The simulated last level (`--ll-kb`, 1 MB by
default: one core's L2 on the machine RESULTS.md was measured on) is where the spread matters;
first level 32 KB. Needs valgrind (`apt-get install valgrind`); a minute or two per KB size.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WARM, CASES = 200, 1000
EVENTS = {"instructions": r"I\s+refs:\s+([\d,]+)", "first-level data misses": r"D1\s+misses:\s+([\d,]+)",
          "last-level data misses": r"LLd misses:\s+([\d,]+)"}


def child(kb_name: str, factor: int, engine: str, run: bool) -> None:
    """What runs under valgrind: compile, warm up, then decode (and, if `run`, assess) cases."""
    from bench import fair
    from bench.pyfix import Fixpoint
    from bench.synth import clinical_kb, grow_kb
    from engine.inference.reasoner import Reasoner
    from engine.kb.loader import load_kb

    base = load_kb()
    if kb_name != "shipped":
        base = clinical_kb(base, 120, seed=1)
    kb = grow_kb(base, factor)
    assess = Reasoner(kb).run if engine == "experta" else Fixpoint(kb).run
    texts = [json.dumps(f) for f in fair.growth_cases(base, kb, factor, fair.SAME_WORK,
                                                      WARM + CASES)]
    for text in texts[:WARM]:
        assess(json.loads(text))
    for text in texts[WARM:]:
        facts = json.loads(text)
        if run:
            assess(facts)


def simulate(kb_name: str, factor: int, engine: str, ll_kb: int) -> dict[str, float]:
    """Per-case events of assessing a case (the run with assessing minus the one without)."""
    totals = []
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    for run in (False, True):
        with tempfile.NamedTemporaryFile(prefix="cachegrind-") as out:
            done = subprocess.run(
                ["valgrind", "--tool=cachegrind", "--cache-sim=yes", "--D1=32768,8,64",
                 f"--LL={ll_kb * 1024},16,64", f"--cachegrind-out-file={out.name}",
                 sys.executable, __file__, "--child", kb_name, str(factor), engine,
                 "1" if run else "0"],
                capture_output=True, text=True, env=env, check=True)
        totals.append({name: _count(pattern, done.stderr) for name, pattern in EVENTS.items()})
    return {name: (totals[1][name] - totals[0][name]) / CASES for name in EVENTS}


def _count(pattern: str, report: str) -> int:
    found = re.search(pattern, report)
    if found is None:
        raise RuntimeError(f"no {pattern!r} in valgrind's report: {report[-300:]}")
    return int(found.group(1).replace(",", ""))


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        kb_name, factor, engine, run = sys.argv[2:6]
        child(kb_name, int(factor), engine, run == "1")
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", choices=["clinical", "shipped"], default="clinical")
    parser.add_argument("--engine", choices=["experta", "fixpoint"], default="experta")
    parser.add_argument("--factors", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--ll-kb", type=int, default=1024, help="simulated last level, KB")
    args = parser.parse_args()
    print(f"| KB | engine | size | instructions per case | first-level data misses per case "
          f"| last-level ({args.ll_kb} KB) data misses per case |")
    print("|---|---|---|---|---|---|")
    for factor in args.factors:
        got = simulate(args.kb, factor, args.engine, args.ll_kb)
        print(f"| {args.kb} | {args.engine} | {factor}x | {got['instructions']:,.0f} | "
              f"{got['first-level data misses']:,.0f} | {got['last-level data misses']:,.0f} |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
