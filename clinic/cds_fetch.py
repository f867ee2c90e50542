"""Getting the QuestionnaireResponse a CDS Hooks call needs: from prefetch, else the FHIR server.

CDS Hooks 2.0, "Providing FHIR Resources to a CDS Service": the client may prefetch what the
service's template asks for (a single resource, or a `searchset` Bundle for a search), may send
`null` for a key when it has no such data, and omits a key it could not or chose not to satisfy.
A service must then fetch the data itself from `fhirServer` (with the bearer token in
`fhirAuthorization` when given) and answer 412 when it can get it neither way.

httpx does the HTTP; this module only builds the query and picks the newest completed response.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from engine.fhir.codes import QUESTIONNAIRE_URL

PREFETCH_KEY = "questionnaireResponse"
# The prefetch template (a type-level search with token and reference parameters, `_sort` and
# `_count`: within the spec's "Prefetch query restrictions").
SEARCH = "QuestionnaireResponse?subject=Patient/{patient}&questionnaire=" + QUESTIONNAIRE_URL + \
    "&status=completed&_sort=-authored&_count=1"
TEMPLATE = SEARCH.format(patient="{{context.patientId}}")
TIMEOUT = httpx.Timeout(5.0)  # CDS answers should come in about half a second; never hang the EHR


class Unavailable(Exception):
    """The data is neither prefetched nor reachable: the service answers 412."""


@dataclass(frozen=True)
class Found:
    """The newest QuestionnaireResponse, or None when the record has none; and where it came from."""

    response: dict[str, Any] | None
    origin: str  # "prefetch" or "fhirServer"


def newest_response(value: Any) -> dict[str, Any] | None:
    """A QuestionnaireResponse from a prefetch value or a search result; None when it holds none.

    Raises `Unavailable` for an OperationOutcome (the client's prefetch failed) or anything that
    is not a FHIR resource."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Unavailable("the prefetched value is not a FHIR resource")
    kind = value.get("resourceType")
    if kind == "QuestionnaireResponse":
        return value
    if kind == "Bundle":
        found: list[dict[str, Any]] = [entry["resource"] for entry in value.get("entry") or []
                 if isinstance(entry, dict) and isinstance(entry.get("resource"), dict)
                 and entry["resource"].get("resourceType") == "QuestionnaireResponse"]
        completed = [r for r in found if r.get("status", "completed") in ("completed", "amended")]
        if not completed:
            return None
        return max(completed, key=lambda r: str(r.get("authored") or ""))
    if kind == "OperationOutcome":
        raise Unavailable("the client's prefetch failed (OperationOutcome)")
    raise Unavailable(f"the prefetched {kind} is not a QuestionnaireResponse")


def find_response(request: dict[str, Any], client: httpx.Client | None = None) -> Found:
    """The patient's newest QuestionnaireResponse for our Questionnaire, wherever it is."""
    prefetch = request.get("prefetch") or {}
    if PREFETCH_KEY in prefetch:
        try:
            return Found(newest_response(prefetch[PREFETCH_KEY]), "prefetch")
        except Unavailable:
            pass  # a failed prefetch: try the FHIR server as the spec asks
    server = request.get("fhirServer")
    if not server:
        raise Unavailable("no prefetched questionnaireResponse and no fhirServer to fetch it from")
    patient = str((request.get("context") or {}).get("patientId", ""))
    headers = {"Accept": "application/fhir+json"}
    auth = request.get("fhirAuthorization")
    if isinstance(auth, dict) and auth.get("access_token"):
        headers["Authorization"] = f"Bearer {auth['access_token']}"
    url = str(server).rstrip("/") + "/" + SEARCH.format(patient=patient)
    owned = client is None
    http = client or httpx.Client(timeout=TIMEOUT, follow_redirects=False)
    try:
        answer = http.get(url, headers=headers)
    except httpx.HTTPError as exc:
        raise Unavailable(f"the FHIR server could not be reached ({type(exc).__name__})") from None
    finally:
        if owned:
            http.close()
    if answer.status_code != 200:
        raise Unavailable(f"the FHIR server answered {answer.status_code}")
    try:
        body = answer.json()
    except ValueError:
        raise Unavailable("the FHIR server's answer is not JSON") from None
    return Found(newest_response(body), "fhirServer")
