"""FHIR and CDS Hooks costs (issue 19): what reading a QuestionnaireResponse adds to a cold
`assess`, and how long a CDS Hooks call takes against the specification's ~500 ms.

Setup: cold starts are whole processes of the installed console script, YAML case and the same
case as a QuestionnaireResponse run in turn (A B A B ...), median wall time and the median of
the pairwise ratios; the CDS call is in-process through Starlette's TestClient against the real
clinic app (`create_app`, its migrated SQLite database, engine and CDS router; no trusted-client
list, so no JWT check), without the network hop of a real EHR.

    uv run python bench/fhir_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "imbalance"
CASE = ROOT / "examples" / "cases" / "cauda_equina_emergency.yaml"
CDS_TARGET_MS = 500.0  # CDS Hooks 2.0, "Providing FHIR Resources": services SHOULD answer in ~500 ms


def _wall(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    return time.perf_counter() - start


def cold_start(runs: int, folder: Path) -> list[list[Any]]:
    response = folder / "case.json"
    response.write_text(subprocess.run([str(SCRIPT), "fhir", "response", str(CASE)], check=True,
                                       capture_output=True, text=True).stdout, encoding="utf-8")
    rows = []
    for label, extra in (("assess --format json", ["--format", "json"]),
                         ("assess --format fhir", ["--format", "fhir"])):
        yaml_cmd = [str(SCRIPT), "assess", str(CASE), *extra]
        qr_cmd = [str(SCRIPT), "assess", str(response), *extra]
        _wall(yaml_cmd), _wall(qr_cmd)  # warm-up
        pairs = [(_wall(yaml_cmd), _wall(qr_cmd)) for _ in range(runs)]
        yaml_ms = statistics.median(a for a, _ in pairs) * 1000
        qr_ms = statistics.median(b for _, b in pairs) * 1000
        ratio = statistics.median(b / a for a, b in pairs)
        rows.append([label, f"{yaml_ms:.0f}", f"{qr_ms:.0f}", f"{ratio:.2f}"])
    return rows


def cds_calls(calls: int, folder: Path) -> tuple[float, float]:
    from fastapi.testclient import TestClient

    from clinic.app import create_app
    from clinic.assessing import Assessor
    from clinic.cds_fetch import PREFETCH_KEY
    from clinic.settings import Settings
    from engine.cases.case import load_case
    from engine.fhir.writer import response_from_case

    assessor = Assessor()
    kb = assessor.kb
    app = create_app(Settings(f"sqlite:///{folder / 'bench.sqlite3'}"), assessor, env={})
    qr = response_from_case(load_case(str(CASE), kb), kb).model_dump(mode="json", exclude_none=True)
    body = {"hook": "patient-view", "hookInstance": "bench", "prefetch": {PREFETCH_KEY: qr},
            "context": {"userId": "Practitioner/1", "patientId": "1"}}
    client = TestClient(app)
    for _ in range(5):
        client.post("/cds-services/imbalance-msk", json=body)
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        answer = client.post("/cds-services/imbalance-msk", json=body)
        samples.append(time.perf_counter() - start)
        assert answer.status_code == 200
    samples.sort()
    return statistics.median(samples) * 1000, samples[int(0.95 * (len(samples) - 1))] * 1000


def section(quick: bool) -> tuple[str, list[tuple[str, str, str, bool]]]:
    start_load = os.getloadavg()[0]
    runs = 3 if quick else 9
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = cold_start(runs, folder)
        median, p95 = cds_calls(30 if quick else 300, folder)
    lines = ["## FHIR input and the CDS Hooks service", "",
             f"Written by `uv run python bench/fhir_bench.py` on {time.strftime('%Y-%m-%d %H:%M')} UTC: "
             f"Python {platform.python_version()}, {os.cpu_count()} cores, load average "
             f"{start_load:.2f} at the start and {os.getloadavg()[0]:.2f} at the end. "
             f"Cold start of `{CASE.relative_to(ROOT)}` as YAML and as the same case in a "
             "QuestionnaireResponse: whole processes of the installed console script, run in turn "
             f"(YAML, response, YAML, ...), {runs} pairs after a warm-up; median wall time of each "
             "and the median of the pairwise ratios.", "",
             "| command | YAML case, ms | QuestionnaireResponse, ms | ratio |", "|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines += ["", f"CDS Hooks call: `POST /cds-services/imbalance-msk` with the same case prefetched "
              f"as a QuestionnaireResponse, {30 if quick else 300} calls one after another after 5 "
              "warm-up calls, in-process through Starlette's TestClient against the real clinic app "
              "(`create_app` on a migrated SQLite file: schema check, engine, cards, the call and its "
              "cards stored); no network hop and no JWT check (no trusted-client list). "
              f"Median {median:.1f} ms, p95 {p95:.1f} ms.", "",
              "Why a response costs more at a cold start: reading one imports the fhir.resources "
              "models (pydantic) to validate it; a YAML case never imports them. A server imports "
              "them once, so the service pays nothing per call."]
    verdicts = [("CDS Hooks call p95 (in-process)", f"<= {CDS_TARGET_MS:.0f} ms", f"{p95:.0f} ms",
                 p95 <= CDS_TARGET_MS)]
    return "\n".join(lines), verdicts


MARKERS = ("<!-- fhir-bench:start -->", "<!-- fhir-bench:end -->")


def write_section(path: Path, text: str, verdicts: list[tuple[str, str, str, bool]]) -> None:
    """Put the section into RESULTS.md between its markers (replacing the last one); bench/run.py
    keeps marked sections when it rewrites the file, and calls this after it has."""
    import re

    lines = [f"- {what}: {got} (target {target}) {'ok' if ok else 'missed'}"
             for what, target, got, ok in verdicts]
    block = "\n".join(["", MARKERS[0], text, "", *lines, "", MARKERS[1], ""])
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    old = re.sub(rf"\n{MARKERS[0]}.*?{MARKERS[1]}\n", "", old, flags=re.S)
    path.write_text(old.rstrip("\n") + "\n" + block, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = parser.parse_args(argv)
    text, verdicts = section(args.quick)
    print(text)
    for what, target, got, ok in verdicts:
        print(f"- {what}: {got} (target {target}) {'ok' if ok else 'MISSED'}")
    write_section(args.out, text, verdicts)
    print(f"wrote {args.out}")
    return 0 if all(ok for *_, ok in verdicts) else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
