"""Cold start of this checkout against an earlier commit, run in turn on the same machine.

    uv run python bench/cold_compare.py 9c9a836 [--pairs 15]

On a shared machine the absolute times of `bench/run.py` move with the load; the ratio of two
builds run in turn (ref, this, this, ref, ...) moves much less. The commit is unpacked with
`git archive` into a temporary folder and given its own environment (`uv sync --locked`, from
uv's cache), so nothing in this checkout changes. Both run the console script with bytecode
cached in a private PYTHONPYCACHEPREFIX and a warm KB cache in a private IMBALANCE_CACHE_DIR,
after one warm-up each, as the *bytecode cached* rows of bench/run.py do. Prints wall and CPU
time (user + system of the process) per command, medians and minimums, and the median of the
per-pair wall ratios.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASE = Path("examples") / "cases" / "runner_it_band.yaml"


def commands(root: Path, out: Path) -> dict[str, list[str]]:
    script = str(root / ".venv" / "bin" / "imbalance")
    return {"assess --format json": [script, "assess", str(root / CASE), "--format", "json"],
            "report -o x.html": [script, "report", str(root / CASE), "-o", str(out), "--force"]}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ref", help="the earlier commit (anything git rev-parse takes)")
    parser.add_argument("--pairs", type=int, default=15)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="imbalance-cold-compare-"))
    try:
        compare(args.ref, args.pairs, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def compare(ref: str, pairs: int, work: Path) -> None:
    old = work / "ref"
    old.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
    subprocess.run(["uv", "sync", "--locked", "-q"], cwd=old, check=True)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONDONTWRITEBYTECODE", "IMBALANCE_NO_CACHE", "VIRTUAL_ENV")}
    env.update(PYTHONPYCACHEPREFIX=str(work / "pycache"), IMBALANCE_CACHE_DIR=str(work / "kbcache"))
    builds = {"ref": old, "this": ROOT}
    print(f"{ref} against this checkout, {pairs} pairs, load average "
          f"{os.getloadavg()[0]:.2f} at the start")
    for name in commands(ROOT, work / "x.html"):
        argv = {b: commands(root, work / f"{b}.html")[name] for b, root in builds.items()}
        wall: dict[str, list[float]] = {b: [] for b in builds}
        cpu: dict[str, list[float]] = {b: [] for b in builds}
        for build, root in builds.items():  # warm-up: bytecode and caches written
            subprocess.run(argv[build], env=env, cwd=root, capture_output=True, check=True)
        for i in range(pairs):
            for build in (("ref", "this") if i % 2 == 0 else ("this", "ref")):
                before_cpu, start = children_cpu(), time.perf_counter()
                done = subprocess.run(argv[build], env=env, cwd=builds[build], capture_output=True)
                wall[build].append(time.perf_counter() - start)
                cpu[build].append(children_cpu() - before_cpu)
                if done.returncode != 0:
                    sys.exit(f"{build} {name} failed: {done.stderr.decode()}")
        for build in builds:
            print(f"| {name} | {build} | {statistics.median(wall[build]) * 1e3:.0f} | "
                  f"{min(wall[build]) * 1e3:.0f} | {statistics.median(cpu[build]) * 1e3:.0f} | "
                  f"{min(cpu[build]) * 1e3:.0f} |")
        ratios = [t / r for t, r in zip(wall["this"], wall["ref"], strict=True)]
        print(f"{name}: this / ref, median of pair ratios {statistics.median(ratios):.2f}")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    sys.exit(main())
