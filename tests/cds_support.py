"""The clinic app for the CDS Hooks tests, a tiny local FHIR server to fetch from, and request
builders.

The FHIR stub is a real HTTP server on 127.0.0.1 (standard library, in a thread), so the
service's httpx client is exercised end to end without leaving this machine.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from tests.clinic_support import shared_assessor

SPEC = json.loads((Path(__file__).parent / "fixtures" / "cds_hooks" / "spec_examples.json")
                  .read_text(encoding="utf-8"))


def cds_app(db_path: Path, env: dict[str, str] | None = None, host: str = "127.0.0.1") -> FastAPI:
    """The real clinic app (`create_app`: migrations, the one `mount` path, trusted clients from
    `env` as the server reads them from its environment) on an SQLite file."""
    from clinic.app import create_app
    from clinic.settings import Settings

    return create_app(Settings(f"sqlite:///{db_path}", host=host), shared_assessor(), env=env or {})


@dataclass
class FhirStub:
    """Answers every GET with `status` and `body`; remembers the paths and headers it saw."""

    status: int = 200
    body: Any = None
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    url: str = ""


@contextmanager
def fhir_stub(status: int = 200, body: Any = None) -> Iterator[FhirStub]:
    stub = FhirStub(status, body)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            stub.seen.append((self.path, dict(self.headers)))
            payload = json.dumps(stub.body).encode()
            self.send_response(stub.status)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stub.url = f"http://127.0.0.1:{server.server_address[1]}/fhir"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def searchset(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "total": len(resources),
            "entry": [{"resource": r} for r in resources]}


def hook_request(prefetch: Any = None, patient: str = "1288992", **extra: Any) -> dict[str, Any]:
    """A patient-view call; `prefetch=None` leaves the key out, {"questionnaireResponse": None}
    says the client has no such data."""
    body: dict[str, Any] = {"hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
                            "hook": "patient-view",
                            "context": {"userId": "Practitioner/example", "patientId": patient}}
    if prefetch is not None:
        body["prefetch"] = prefetch
    body.update(extra)
    return body
