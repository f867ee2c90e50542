"""The CDS Hooks 2.0 service `imbalance-msk`, so a health record can show our red flags and plan
as cards when a clinician opens a patient (hook `patient-view`).

Routes (a FastAPI router the clinic app factory adds with `mount`):
- `GET  /cds-services`: discovery, with a prefetch template for the patient's newest completed
  QuestionnaireResponse to our Questionnaire;
- `POST /cds-services/imbalance-msk`: the service call; the response comes from prefetch, else
  from `fhirServer` (`clinic.cds_fetch`), else 412; the answer is `{"cards": [...]}` built by
  `reports.cds_cards`;
- `GET  /cds-services/imbalance-msk/report/{token}`: the full HTML report a card links to (the
  token is random and expires after `REPORT_DAYS`);
- `POST /cds-services/imbalance-msk/feedback`: accepted / overridden, stored per card so
  `imbalance cds feedback` can report overrides per rule.

Requests and answers are checked against JSON Schemas written from the specification
(`clinic/cds_schemas/`); a bad request gets 400 with one line saying what is wrong, never a 500.
`clinic.app.create_app` provides `state.assessor` (kb, lock, reasoner, assess) and `state.db`
(session()) and calls `mount(app)`, which also loads the trusted clients (`clinic.cds_auth`):
every route but the report link then needs a signed JWT from one of them, and without that list
the service answers only on a server bound to this machine.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from functools import cache, partial
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jsonschema import Draft202012Validator

from clinic import cds_store
from clinic.cds_auth import ENV, Refused, TrustedClients, load_trusted
from clinic.cds_fetch import PREFETCH_KEY, TEMPLATE, Unavailable, find_response
from engine.errors import ImbalanceError, InputError

SERVICE_ID = "imbalance-msk"
HOOK = "patient-view"
BASE = "/cds-services"
SCHEMAS = Path(__file__).resolve().parent / "cds_schemas"
REPORT_DAYS = 7  # a card's report link works this long; the EHR keeps the cards, not our report
REPORT_CSP = ("default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; img-src data:; "
              "form-action 'none'; frame-ancestors 'self'; base-uri 'none'")

router = APIRouter()
CALL_THREADS = 8  # calls waiting on a FHIR server at once; pages keep their own threads


async def in_thread(request: Request, function: Any, *args: Any) -> Any:
    """Run a blocking step in one of the service's own worker threads, so a slow FHIR server
    can hold up other CDS calls but never the clinic's pages. (The limiter is made on first use:
    it belongs to the running event loop.)"""
    state = request.app.state
    limiter = getattr(state, "cds_threads", None)
    if limiter is None:
        limiter = state.cds_threads = anyio.CapacityLimiter(CALL_THREADS)
    return await anyio.to_thread.run_sync(partial(function, *args), limiter=limiter)


def trusted_clients(env: Mapping[str, str] | None = None) -> TrustedClients | None:
    """The trusted clients named by the environment; InputError when their file cannot be read
    (`serve --workers N` calls this before starting workers, so the error is one line, not N
    crashing workers)."""
    try:
        return load_trusted(env)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"cannot read the trusted CDS clients file named by {ENV}: {exc}", key=ENV,
                         suggestion="see docs/fhir.md for its format") from None


def mount(app: Any, env: Mapping[str, str] | None = None) -> None:
    """Add the service to `app`; a trusted-clients file that cannot be read stops the start."""
    app.state.cds_clients = trusted_clients(env)
    app.include_router(router)


def _untrusted(request: Request) -> Response | None:
    """401 unless the caller is a trusted client (or the server only listens on this machine)."""
    clients: TrustedClients | None = getattr(request.app.state, "cds_clients", None)
    if clients is None:
        settings = getattr(request.app.state, "settings", None)
        if settings is None or getattr(settings, "loopback", True):
            return None
        return JSONResponse({"error": f"this server listens beyond this machine: list the trusted CDS "
                                      f"clients in the file named by {ENV}"}, 401,
                            headers={"WWW-Authenticate": "Bearer"})
    audience = (clients.audience_base or str(request.base_url).rstrip("/")) + request.url.path
    try:
        clients.verify(request.headers.get("authorization"), audience,
                       partial(cds_store.first_use, request.app.state.db))
    except Refused as exc:
        return JSONResponse({"error": str(exc)}, 401, headers={"WWW-Authenticate": "Bearer"})
    return None


@cache
def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def schema_problem(name: str, data: Any) -> str:
    """The first way `data` breaks schema `name`, in one line ('' when it fits)."""
    errors = sorted(validator(name).iter_errors(data), key=lambda e: list(e.absolute_path))
    if not errors:
        return ""
    error = errors[0]
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
    return f"{where or 'request'}: {error.message}"


def discovery_document() -> dict[str, Any]:
    return {"services": [{
        "hook": HOOK,
        "id": SERVICE_ID,
        "title": "Muscle imbalance and red flags",
        "description": ("Red flags first (with what to do now), then the linked musculoskeletal "
                        "conditions, causes and plan, from the patient's newest completed "
                        "imbalance questionnaire. Decision support only; it does not diagnose."),
        "prefetch": {PREFETCH_KEY: TEMPLATE},
        "usageRequirements": ("Needs a completed QuestionnaireResponse to the imbalance Questionnaire "
                              "('imbalance fhir questionnaire'), prefetched or readable on fhirServer."),
    }]}


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json_body(request: Request) -> tuple[Any, str]:
    try:
        return json.loads(await request.body()), ""
    except (ValueError, UnicodeDecodeError) as exc:
        return None, f"the body is not JSON ({exc})"


@router.get(BASE)
def discovery(request: Request) -> Response:
    return _untrusted(request) or JSONResponse(discovery_document())


def _patient_matches(response: dict[str, Any], patient_id: str) -> bool:
    """A response naming another patient as its subject must never be shown for this one."""
    reference = str((response.get("subject") or {}).get("reference") or "")
    if not reference or reference.startswith("#"):
        return True
    return reference.rstrip("/").split("/")[-1] == patient_id


def _assess(request: Request, body: dict[str, Any]) -> Response:
    """The blocking part of a call (FHIR fetch, engine, database), run in a worker thread."""
    state = request.app.state
    try:
        found = find_response(body)
    except Unavailable as exc:
        return _error(412, f"cannot get the patient's QuestionnaireResponse: {exc}")
    if found.response is None:
        return JSONResponse({"cards": []})  # nothing recorded: no guidance (spec: empty cards)
    patient_id = str(body["context"]["patientId"])
    if not _patient_matches(found.response, patient_id):
        return _error(412, f"the {found.origin} QuestionnaireResponse is for another patient "
                           f"than context.patientId '{patient_id}'")
    from engine.cases.case import case_from_data
    from reports.cds_cards import cards_for, unreadable_card

    assessor = state.assessor
    kb = assessor.kb
    try:
        case = case_from_data(found.response, f"{found.origin}.{PREFETCH_KEY}", kb)
    except ImbalanceError as exc:
        return JSONResponse({"cards": [unreadable_card(exc.render(), kb.version)]})
    result = assessor.assess(case)
    token = cds_store.new_token()
    report_url = str(request.url_for("cds_report", token=token))
    cards = cards_for(result, report_url)
    with state.db.session() as session:
        cds_store.record_call(session, str(body["hookInstance"]), patient_id, found.response,
                              kb.version, cards, token)
    return JSONResponse({"cards": [issued.card for issued in cards]})


async def _checked_body(request: Request, schema: str) -> tuple[Any, Response | None]:
    """The request's JSON once the client is trusted and the body fits the spec's schema; else
    the refusal to send (the same three checks for every POST of the service)."""
    refused = await in_thread(request, _untrusted, request)  # it may write the token's id
    if refused is not None:
        return None, refused
    body, problem = await _json_body(request)
    if not problem:
        problem = schema_problem(schema, body)
    return body, (_error(400, problem) if problem else None)


@router.post(f"{BASE}/{SERVICE_ID}")
async def call_service(request: Request) -> Response:
    body, refused = await _checked_body(request, "request")
    if refused is not None:
        return refused
    if body["hook"] != HOOK:
        return _error(400, f"service '{SERVICE_ID}' answers hook '{HOOK}', not '{body['hook']}'")
    return await in_thread(request, _assess, request, body)


def _report(request: Request, token: str) -> Response:
    state = request.app.state
    with state.db.session() as session:
        call = cds_store.call_for_token(session, token)
        fresh = call is not None and call.created_at >= cds_store.utcnow() - dt.timedelta(days=REPORT_DAYS)
        response = dict(call.response) if call is not None and fresh else None
    if response is None:
        return HTMLResponse("<!doctype html><title>Report not found</title><p>This report link is "
                            "unknown or has expired; open the patient's record again.</p>", 404)
    from engine.cases.case import case_from_data
    from reports.html import report_html

    assessor = state.assessor
    with assessor.lock:
        result = assessor.reasoner.assess(case_from_data(response, "cds", assessor.kb))
        html = report_html(result, assessor.reasoner)
    return HTMLResponse(html, headers={"Content-Security-Policy": REPORT_CSP, "Cache-Control": "no-store"})


@router.get(f"{BASE}/{SERVICE_ID}/report/{{token}}", name="cds_report")
async def cds_report(request: Request, token: str) -> Response:
    return await in_thread(request, _report, request, token)


def _feedback(request: Request, entries: list[dict[str, Any]]) -> Response:
    with request.app.state.db.session() as session:
        unknown = cds_store.record_feedback(session, entries)
    if unknown:
        return _error(400, f"feedback names card(s) this service never sent: {', '.join(unknown)}")
    return JSONResponse({})


@router.post(f"{BASE}/{SERVICE_ID}/feedback")
async def feedback(request: Request) -> Response:
    body, refused = await _checked_body(request, "feedback")
    if refused is not None:
        return refused
    return await in_thread(request, _feedback, request, list(body["feedback"]))
