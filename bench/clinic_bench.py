"""Load test of the clinic server: 20 concurrent clients for 60 s on SQLite and on PostgreSQL.

    uv run python bench/clinic_bench.py                       # SQLite only
    uv run python bench/clinic_bench.py --pg postgresql://postgres@127.0.0.1:55432/postgres
    uv run python bench/clinic_bench.py --seconds 10          # a quick look
    uv run python bench/clinic_bench.py --workers 1 2         # serve --workers 1, then 2

Each backend gets a fresh database and a real `imbalance serve` process (one uvicorn worker, as
shipped; `--workers 1 2` measures each count in turn, each on a fresh database), seeded over
HTTP with 40 patients of two visits each. Then three runs, each with
`--clients` concurrent keep-alive clients for `--seconds`, every request timed end to end:
- *visit result page*: GET a random visit's result page;
- *full report*: GET a random visit's stored HTML report;
- *assess*: the intake form posted with a random case (assess + report + handout + one
  transaction), from asyncio + httpx clients (each needs its session's CSRF token).
The two GET runs use wrk (Debian package `wrk`, C, one thread) when it is installed: a Python
load generator on the same two cores spent about 2.6 ms of CPU per request, more than half of
what the server spends, and its own event-loop queueing showed up as server latency. Without wrk
(`--generator httpx`, or wrk missing) they use the httpx clients too, and the table says so.
The server's CPU time per request (from /proc) is given beside the latencies: unlike them, it
hardly depends on what else the machine is doing. Requests go only to 127.0.0.1. The tables
replace the clinic section of bench/RESULTS.md (between its markers); bench/run.py keeps that
section when it rewrites the file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_clinic_storage import free_port, start_server  # noqa: E402

TARGET_P95_MS = 100.0
PROFILE_NOTES = """\
Where the time went. Earlier (py-spy under load): the audit INSERT flushed before the page's
reads held SQLite's write lock through the render (now written at commit); Starlette's
BaseHTTPMiddleware (now a plain ASGI middleware); a pool of 5 connections for 20 clients (now
20); h11/asyncio (now httptools/uvloop). That left 5.9 ms (SQLite) / 7.6 ms (PostgreSQL) of
server CPU per result page, and with 20 clients queued on one worker the p95 is about 20-25x
that: 152 / 202 ms. Then (issue 18, cProfile of the app in-process on the real database,
4.3 ms a page without HTTP): most went to ORM loads (identity map, lazy loads of the visit's
assessments, the patient, the other visits), re-decoding and re-phrasing results that never
change, and the audit row's unit of work. Now (clinic/result_page.py) the page reads the visit,
patient and assessment metadata in one joined Core query plus one for the other visits' ids; the
part of the page that depends only on immutable rows (red flags, plan, conditions, findings,
what changed) is rendered once per (visit, latest and previous assessment with their creation
times, KB version) and kept in a per-process LRU, while the login check, the 404 for another
patient's or a deleted visit and the audit row still run on every request; the audit row is one
Core INSERT at commit; the login dependency runs on the event loop (no thread hop). In-process:
4.3 -> 1.1 ms a page (SQLite). `serve --workers N` adds processes; what they must share (session
key, login failures, used CDS token ids) is in the database."""
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


WRK_SCRIPT = ROOT / "bench" / "clinic_wrk.lua"
PAGES = {"visit result page": "/patients/{pid}/visits/{vid}",
         "full report": "/patients/{pid}/visits/{vid}/report"}


@dataclass
class Row:
    """One line of the table: a kind of request under load."""

    kind: str
    generator: str
    requests: int
    seconds: float
    median: float
    p95: float
    p99: float
    errors: int
    error_kinds: str
    server_cpu_ms: float = float("nan")
    load: float = float("nan")  # the 1-minute load average as the run started


def descendants(pid: int) -> list[int]:
    """The process and every process under it (uvicorn's worker processes with --workers N)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in task.read_text().split():
            found += descendants(int(child))
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of a process and the processes under it (Linux /proc)."""
    total = 0.0
    for one in descendants(pid):
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # ended meanwhile
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


async def run(base: str, clients: int, seconds: float, scenario: str,
              visits: list[tuple[int, int]]) -> dict[str, Tally]:
    """`clients` asyncio + httpx clients; `scenario` is 'assess' or a key of PAGES."""
    tallies: dict[str, Tally] = {}
    deadline = time.monotonic() + seconds

    async def client_loop(number: int) -> None:
        rng = random.Random(number)
        async with httpx.AsyncClient(base_url=base, timeout=30, follow_redirects=False) as client:
            token = await token_for(client)
            while time.monotonic() < deadline:
                pid, vid = rng.choice(visits)
                if scenario == "assess":
                    kind, call = "assess (POST intake)", client.post(
                        f"/patients/{pid}/visits/new", data={**rng.choice(CASES), "csrf_token": token})
                    expected = 303
                else:
                    kind, call, expected = scenario, client.get(PAGES[scenario].format(pid=pid, vid=vid)), 200
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


def httpx_rows(base: str, args: argparse.Namespace, scenario: str, visits: list[tuple[int, int]],
               pid: int) -> list[Row]:
    before = cpu_seconds(pid)
    tallies = asyncio.run(run(base, args.clients, args.seconds, scenario, visits))
    used = cpu_seconds(pid) - before
    total = sum(len(t.times) for t in tallies.values()) or 1
    return [Row(kind, "httpx", len(t.times), args.seconds,
                statistics.median(t.times) if t.times else float("nan"), p(t.times, 0.95),
                p(t.times, 0.99), t.errors, ", ".join(f"{k}: {v}" for k, v in t.error_kinds.items()),
                used / total * 1000)
            for kind, t in sorted(tallies.items())]


def wrk_row(base: str, args: argparse.Namespace, kind: str, visits: list[tuple[int, int]],
            pid: int, folder: Path) -> Row:
    paths = folder / "paths.txt"
    paths.write_text("".join(PAGES[kind].format(pid=p_, vid=v) + "\n" for p_, v in visits),
                     encoding="utf-8")
    before = cpu_seconds(pid)
    out = subprocess.run(["wrk", "-t1", f"-c{args.clients}", f"-d{args.seconds:.0f}s", "--timeout", "30s",
                          "-s", str(WRK_SCRIPT), base, "--", str(paths)],
                         capture_output=True, text=True, check=True).stdout
    used = cpu_seconds(pid) - before
    line = next(x for x in out.splitlines() if x.startswith("WRK-JSON "))
    data = json.loads(line.split(" ", 1)[1])
    kinds = {k: data[k] for k in ("connect", "read", "write", "status", "timeout") if data[k]}
    return Row(kind, "wrk", data["requests"], data["duration_us"] / 1e6, data["p50_us"] / 1000,
               data["p95_us"] / 1000, data["p99_us"] / 1000, sum(kinds.values()),
               ", ".join(f"{k}: {v}" for k, v in kinds.items()), used / max(data["requests"], 1) * 1000)


def table(backend: str, rows: list[Row]) -> list[str]:
    lines = []
    for row in rows:
        verdict = ""
        if row.kind == "visit result page":
            verdict = "ok" if row.p95 <= TARGET_P95_MS and row.errors == 0 else "**missed**"
        ok = (row.requests - row.errors) / row.seconds
        lines.append(f"| {backend} | {row.kind} | {row.generator} | {row.requests} | {ok:.1f} | "
                     f"{row.median:.0f} | {row.p95:.0f} | {row.p99:.0f} | {row.server_cpu_ms:.1f} | "
                     f"{row.error_kinds or '0'} | {row.load:.1f} | {verdict} |")
    return lines


def measure(backend: str, url: str, args: argparse.Namespace, workers: int) -> list[str]:
    port = free_port()
    server = start_server(url, port, workers)
    backend = f"{backend} | {workers}"
    base = f"http://127.0.0.1:{port}"
    use_wrk = args.generator == "wrk" or (args.generator == "auto" and shutil.which("wrk"))
    try:
        visits = asyncio.run(seed(base, args.patients))
        rows: list[Row] = []
        with tempfile.TemporaryDirectory() as folder:
            for kind in PAGES:
                load = os.getloadavg()[0]
                print(f"{backend}: {kind}, {args.clients} clients for {args.seconds:.0f} s", flush=True)
                rows += [replace(row, load=load) for row in (
                    [wrk_row(base, args, kind, visits, server.pid, Path(folder))] if use_wrk
                    else httpx_rows(base, args, kind, visits, server.pid))]
        print(f"{backend}: assess, {args.clients} clients for {args.seconds:.0f} s", flush=True)
        load = os.getloadavg()[0]
        rows += [replace(row, load=load) for row in httpx_rows(base, args, "assess", visits, server.pid)]
        return table(backend, rows)
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
    parser.add_argument("--workers", type=int, nargs="+", default=[1],
                        help="serve --workers N; several counts are measured in turn (default 1)")
    parser.add_argument("--pg", default=os.environ.get("IMBALANCE_TEST_PG_URL", ""),
                        help="PostgreSQL admin URL (a database is created and dropped)")
    parser.add_argument("--no-sqlite", action="store_true",
                        help="PostgreSQL only (e.g. to re-run it on a quieter machine)")
    parser.add_argument("--generator", choices=["auto", "wrk", "httpx"], default="auto",
                        help="load generator for the two GET runs (auto: wrk when installed)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    rows: list[str] = []
    for workers in [] if args.no_sqlite else args.workers:
        with tempfile.TemporaryDirectory() as folder:
            rows += measure("SQLite", f"sqlite:///{folder}/bench.sqlite3", args, workers)
    for workers in args.workers if args.pg else []:
        url, drop = fresh_pg(args.pg)
        try:
            rows += measure("PostgreSQL", url, args, workers)
        finally:
            drop()
    end_load = os.getloadavg()[0]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=ROOT).stdout.strip()
    generator = ("wrk (one thread)" if args.generator != "httpx" and shutil.which("wrk")
                 else "asyncio + httpx")
    section = "\n".join([
        "", "<!-- clinic-bench:start -->", "## Clinic server under load", "",
        f"Written by `uv run python bench/clinic_bench.py` at commit `{commit}` on "
        f"{time.strftime('%Y-%m-%d %H:%M')} UTC: Python {platform.python_version()}, "
        f"{os.cpu_count()} cores, load average {load:.2f} at the start and {end_load:.2f} at the end. "
        f"A real `imbalance serve` (uvicorn on httptools + uvloop; *workers*: its `--workers`, one "
        f"process each) and the {args.clients} keep-alive clients share the same cores; "
        f"{args.seconds:.0f} s per run after "
        f"seeding {args.patients} patients with two visits each. GET runs: {generator}; assess: "
        f"asyncio + httpx. Times are end to end per request, in ms; *server CPU* is the CPU time "
        f"of the server's processes per request in that run; *load* is the 1-minute load average "
        f"as the run started. Target: a visit's result page p95 <= "
        f"{TARGET_P95_MS:.0f} ms with 0 errors.", "",
        "| database | workers | request | client | requests | ok per s | median | p95 | p99 | "
        "server CPU, ms | errors | load | target |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|", *rows, "",
        *([f"Note: the load average was {max(load, end_load):.1f} on {os.cpu_count()} cores during "
           "this run (other work on the machine), so the server had only a share of a core and the "
           "latencies measure that contention as well; the server CPU per request does not."]
          if max(load, end_load) > 2 else []),
        "", PROFILE_NOTES, "", "<!-- clinic-bench:end -->", ""])
    old = args.out.read_text(encoding="utf-8") if args.out.exists() else "# Benchmark results\n"
    old = re.sub(r"\n<!-- clinic-bench:start -->.*?<!-- clinic-bench:end -->\n", "", old, flags=re.S)
    args.out.write_text(old.rstrip("\n") + "\n" + section, encoding="utf-8")
    print("\n".join(rows))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
