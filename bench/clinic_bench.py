"""Load test of the clinic server: 20 concurrent clients for 60 s on SQLite and on PostgreSQL.

    uv run python bench/clinic_bench.py                       # SQLite only
    uv run python bench/clinic_bench.py --pg postgresql://postgres@127.0.0.1:55432/postgres
    uv run python bench/clinic_bench.py --seconds 10          # a quick look

Each backend gets a fresh database and a real `imbalance serve` process (one uvicorn worker, as
shipped), seeded over HTTP with 40 patients of two visits each. Then two scenarios, each with
`--clients` concurrent keep-alive clients for `--seconds`, every request timed end to end:
- *result pages*: a visit's result page and its full HTML report, alternately, for random visits;
- *assess*: the intake form posted with a random case (assess + report + one transaction).
Requests are bounded by time and go only to 127.0.0.1. The tables replace the clinic section of
bench/RESULTS.md (between its markers); bench/run.py keeps that section when it rewrites the file.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_clinic_storage import free_port, start_server  # noqa: E402

TARGET_P95_MS = 100.0
CASES = [
    {"f.low_back_pain": "yes", "f.sitting_hours_per_day": "9", "asked.neurological_warning_signs": "yes"},
    {"f.low_back_pain": "yes", "f.leg_pain_below_knee": "left", "f.positive_straight_leg_raise": "yes"},
    {"f.runner": "yes", "f.lateral_knee_pain": "right", "f.positive_ober_test": "yes",
     "f.mileage_increase_pct": "40"},
    {"f.low_back_pain": "yes", "f.saddle_anaesthesia": "yes", "f.bladder_dysfunction": "yes"},
    {"f.anterior_knee_pain": "bilateral", "f.pain_on_squatting_or_stairs": "yes", "f.weak_quadriceps": "yes"},
]


@dataclass
class Tally:
    times: list[float] = field(default_factory=list)
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)

    def add_error(self, kind: str) -> None:
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


async def token_for(client: httpx.AsyncClient) -> str:
    page = (await client.get("/patients/new")).text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no CSRF token"
    return found.group(1)


async def seed(base: str, patients: int) -> list[tuple[int, int]]:
    visits = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        token = await token_for(client)
        for n in range(patients):
            made = await client.post("/patients/new", data={"csrf_token": token, "name": f"Bench {n}"})
            pid = int(made.headers["location"].rsplit("/", 1)[1])
            for day in ("2026-01-05", "2026-03-05"):
                case = {**random.choice(CASES), "seen_on": day, "csrf_token": token}
                saved = await client.post(f"/patients/{pid}/visits/new", data=case)
                visits.append((pid, int(saved.headers["location"].rsplit("/", 1)[1])))
    return visits


async def run(base: str, clients: int, seconds: float, scenario: str,
              visits: list[tuple[int, int]]) -> dict[str, Tally]:
    tallies: dict[str, Tally] = {}
    deadline = time.monotonic() + seconds

    async def client_loop(number: int) -> None:
        rng = random.Random(number)
        async with httpx.AsyncClient(base_url=base, timeout=30, follow_redirects=False) as client:
            token = await token_for(client)
            turn = 0
            while time.monotonic() < deadline:
                pid, vid = rng.choice(visits)
                if scenario == "assess":
                    kind, call = "assess (POST intake)", client.post(
                        f"/patients/{pid}/visits/new", data={**rng.choice(CASES), "csrf_token": token})
                    expected = 303
                else:
                    turn += 1
                    path = f"/patients/{pid}/visits/{vid}" + ("/report" if turn % 2 == 0 else "")
                    kind = "full report" if turn % 2 == 0 else "visit result page"
                    call, expected = client.get(path), 200
                tally = tallies.setdefault(kind, Tally())
                start = time.perf_counter()
                try:
                    response = await call
                except httpx.HTTPError as exc:
                    tally.add_error(type(exc).__name__)
                    continue
                tally.times.append((time.perf_counter() - start) * 1000)
                if response.status_code != expected:
                    tally.add_error(str(response.status_code))

    await asyncio.gather(*(client_loop(n) for n in range(clients)))
    return tallies


def table(backend: str, scenario: str, tallies: dict[str, Tally], seconds: float) -> list[str]:
    rows = []
    for kind, tally in sorted(tallies.items()):
        ok = len(tally.times) - tally.errors
        p95 = p(tally.times, 0.95)
        verdict = ""
        if kind == "visit result page":
            verdict = "ok" if p95 <= TARGET_P95_MS and tally.errors == 0 else "**missed**"
        kinds = ", ".join(f"{k}: {v}" for k, v in tally.error_kinds.items()) or "0"
        rows.append(f"| {backend} | {kind} | {len(tally.times)} | {ok / seconds:.1f} | "
                    f"{statistics.median(tally.times) if tally.times else float('nan'):.0f} | "
                    f"{p95:.0f} | {p(tally.times, 0.99):.0f} | {kinds} | {verdict} |")
    return rows


def measure(backend: str, url: str, args: argparse.Namespace) -> list[str]:
    port = free_port()
    server = start_server(url, port)
    base = f"http://127.0.0.1:{port}"
    try:
        visits = asyncio.run(seed(base, args.patients))
        rows = []
        for scenario in ("result pages", "assess"):
            print(f"{backend}: {scenario}, {args.clients} clients for {args.seconds:.0f} s", flush=True)
            tallies = asyncio.run(run(base, args.clients, args.seconds, scenario, visits))
            rows += table(backend, scenario, tallies, args.seconds)
        return rows
    finally:
        server.terminate()
        server.wait(timeout=30)


def fresh_pg(admin: str) -> tuple[str, Callable[[], None]]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from clinic.settings import normalise_db_url

    admin = normalise_db_url(admin)
    name = f"imbalance_bench_{os.getpid()}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return make_url(admin).set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--patients", type=int, default=40)
    parser.add_argument("--pg", default=os.environ.get("IMBALANCE_TEST_PG_URL", ""),
                        help="PostgreSQL admin URL (a database is created and dropped)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        rows += measure("SQLite", f"sqlite:///{folder}/bench.sqlite3", args)
    if args.pg:
        url, drop = fresh_pg(args.pg)
        try:
            rows += measure("PostgreSQL", url, args)
        finally:
            drop()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=ROOT).stdout.strip()
    section = "\n".join([
        "", "<!-- clinic-bench:start -->", "## Clinic server under load", "",
        f"Written by `uv run python bench/clinic_bench.py` at commit `{commit}` on "
        f"{time.strftime('%Y-%m-%d')}: Python {platform.python_version()}, {os.cpu_count()} cores, "
        f"load average {load:.2f} at the start. One `imbalance serve` process (one uvicorn worker) "
        f"and the {args.clients} clients (asyncio + httpx, keep-alive) share the same cores; "
        f"{args.seconds:.0f} s per scenario after seeding {args.patients} patients with two visits "
        f"each. Times are end to end per request, in ms. Target: a visit's result page p95 <= "
        f"{TARGET_P95_MS:.0f} ms with 0 errors.", "",
        "| database | request | requests | ok per s | median | p95 | p99 | errors | target |",
        "|---|---|---|---|---|---|---|---|---|", *rows, "",
        *([f"Note: the load average was {load:.1f} on {os.cpu_count()} cores when this ran, so the "
           "server had a small share of the CPU and the figures mostly measure that contention; "
           "run it again on a quiet machine before judging the target."] if load > 2 else []),
        "", "<!-- clinic-bench:end -->", ""])
    old = args.out.read_text(encoding="utf-8") if args.out.exists() else "# Benchmark results\n"
    old = re.sub(r"\n<!-- clinic-bench:start -->.*?<!-- clinic-bench:end -->\n", "", old, flags=re.S)
    args.out.write_text(old.rstrip("\n") + "\n" + section, encoding="utf-8")
    print("\n".join(rows))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
