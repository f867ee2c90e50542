"""The CDS Hooks 2.0 service `imbalance-msk`: discovery, calls, 412, the report link, feedback.

Every answer is checked against the JSON Schemas in clinic/cds_schemas/, written from the
specification (each schema's description names the sections), and the specification's own
examples are checked against the same schemas and replayed against the service.
"""

from __future__ import annotations

import copy
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clinic import cds_store
from clinic.cds_fetch import PREFETCH_KEY
from clinic.cds_hooks import discovery_document, schema_problem
from engine.cases.case import load_case
from engine.fhir.writer import response_from_case
from engine.kb.loader import load_kb
from tests.cds_support import SPEC, cds_app, fhir_stub, hook_request, searchset
from tests.conftest import ROOT

CASES = ROOT / "examples" / "cases"
URL = "/cds-services/imbalance-msk"
KB = load_kb()
WHEN = "2026-11-29T10:00:00Z"


def qr_of(name: str, patient: str = "1288992") -> dict[str, Any]:
    response = response_from_case(load_case(str(CASES / name), KB), KB)
    data: dict[str, Any] = json.loads(response.model_dump_json(exclude_none=True))
    data["subject"] = {"reference": f"Patient/{patient}"}
    data["authored"] = "2026-11-20T09:00:00Z"
    return data


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return TestClient(cds_app(tmp_path / "clinic.sqlite3"))


def cards_of(client: TestClient, body: dict[str, Any]) -> list[dict[str, Any]]:
    answer = client.post(URL, json=body)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert schema_problem("response", data) == ""
    cards: list[dict[str, Any]] = data["cards"]
    return cards


# --- the schemas against the specification's own examples -----------------------------------


@pytest.mark.parametrize("kind", ["discovery", "request", "response", "feedback"])
def test_the_specifications_examples_fit_the_schemas(kind: str) -> None:
    for name, example in SPEC[kind].items():
        problem = schema_problem(kind, example)
        if name == "Extensions > request with extension":  # patient-view requires patientId
            assert problem == "context: 'patientId' is a required property"
        else:
            assert problem == "", name


@pytest.mark.parametrize(("kind", "bad", "expected"), [
    ("discovery", {"services": [{"hook": "patient-view", "id": "x"}]}, "'description' is a required"),
    ("request", {"hook": "patient-view", "context": {"userId": "Practitioner/1", "patientId": "2"}},
     "'hookInstance' is a required"),
    ("request", {**hook_request(), "fhirAuthorization": {"access_token": "t", "token_type": "Bearer",
                                                         "expires_in": 300, "scope": "s", "subject": "c"}},
     "'fhirServer' is a dependency of 'fhirAuthorization'"),
    ("response", {"cards": [{"summary": "x" * 141, "indicator": "info", "source": {"label": "l"}}]},
     "is too long"),
    ("response", {"cards": [{"summary": "s", "indicator": "urgent", "source": {"label": "l"}}]},
     "is not one of ['info', 'warning', 'critical']"),
    ("response", {"cards": [{"summary": "s", "indicator": "info", "source": {"label": "l"},
                             "suggestions": [{"label": "a"}]}]}, "'selectionBehavior' is a dependency"),
    ("feedback", {"feedback": [{"card": "c", "outcome": "accepted", "outcomeTimestamp": WHEN}]},
     "'acceptedSuggestions' is a required"),
    ("feedback", {"feedback": [{"card": "c", "outcome": "ignored", "outcomeTimestamp": WHEN}]},
     "is not one of ['accepted', 'overridden']"),
])
def test_the_schemas_refuse_what_the_specification_forbids(kind: str, bad: Any, expected: str) -> None:
    assert expected in schema_problem(kind, bad)


# --- discovery ----------------------------------------------------------------------------


def test_discovery_lists_imbalance_msk_on_patient_view(client: TestClient) -> None:
    answer = client.get("/cds-services")
    assert answer.status_code == 200
    data = answer.json()
    assert data == discovery_document() and schema_problem("discovery", data) == ""
    (service,) = data["services"]
    assert service["id"] == "imbalance-msk" and service["hook"] == "patient-view"
    template = service["prefetch"][PREFETCH_KEY]
    assert template.startswith("QuestionnaireResponse?subject=Patient/{{context.patientId}}")
    assert "status=completed" in template and "_count=1" in template


# --- calls ----------------------------------------------------------------------------------


def test_emergency_red_flag_is_a_critical_card_first(client: TestClient) -> None:
    cards = cards_of(client, hook_request({PREFETCH_KEY: qr_of("cauda_equina_emergency.yaml")}))
    first = cards[0]
    assert first["indicator"] == "critical"
    assert "cauda equina" in first["summary"].lower() and len(first["summary"]) <= 140
    assert "**Do now:**" in first["detail"] and "Saddle anaesthesia" in first["detail"]
    assert KB.version in first["source"]["label"] and "imbalance" in first["source"]["label"]
    assert all(o["display"] for o in first["overrideReasons"])
    report = client.get(first["links"][0]["url"])
    assert report.status_code == 200 and "text/html" in report.headers["content-type"]
    assert "cauda equina" in report.text.lower()
    assert "script-src 'none'" in report.headers["content-security-policy"]


@pytest.mark.parametrize("example", sorted(CASES.glob("*.yaml")), ids=lambda p: p.stem)
def test_indicator_follows_triage_for_every_example(client: TestClient, example: Path) -> None:
    from engine.inference.reasoner import Reasoner

    result = Reasoner(KB).assess(load_case(str(example), KB))
    cards = cards_of(client, hook_request({PREFETCH_KEY: qr_of(example.name)}))
    expected = {"emergency": "critical", "urgent": "warning", "soon": "warning", "routine": "info"}
    assert [c["indicator"] for c in cards[:-1]] == [expected[f.urgency] for f in result.red_flags]
    assert cards[-1]["indicator"] == expected[result.triage]
    assert all(len(c["summary"]) <= 140 for c in cards)
    if result.conditions:
        assert result.conditions[0].conclusion.label in cards[-1]["detail"]


def test_prefetch_may_be_a_searchset_and_the_newest_completed_response_counts(client: TestClient) -> None:
    old = qr_of("cauda_equina_emergency.yaml") | {"authored": "2025-01-01"}
    new = qr_of("runner_it_band.yaml") | {"authored": "2026-11-01"}
    draft = qr_of("cauda_equina_emergency.yaml") | {"authored": "2026-11-02", "status": "in-progress"}
    cards = cards_of(client, hook_request({PREFETCH_KEY: searchset(old, new, draft)}))
    assert [c["indicator"] for c in cards] == ["info"]


def test_null_prefetch_means_no_questionnaire_and_no_cards(client: TestClient) -> None:
    assert cards_of(client, hook_request({PREFETCH_KEY: None})) == []
    assert cards_of(client, hook_request({PREFETCH_KEY: searchset()})) == []


def test_412_when_not_prefetched_and_no_fhir_server(client: TestClient) -> None:
    answer = client.post(URL, json=hook_request({"patientToGreet": {"resourceType": "Patient"}}))
    assert answer.status_code == 412
    assert "questionnaireResponse" in answer.json()["error"]


def test_fetched_from_the_fhir_server_with_the_bearer_token(client: TestClient) -> None:
    with fhir_stub(body=searchset(qr_of("spinal_infection_fever.yaml"))) as stub:
        auth = {"access_token": "secret-token", "token_type": "Bearer", "expires_in": 300,
                "scope": "user/QuestionnaireResponse.read", "subject": "imbalance"}
        cards = cards_of(client, hook_request(fhirServer=stub.url, fhirAuthorization=auth))
    assert cards[0]["indicator"] in ("critical", "warning") and "infection" in cards[0]["summary"].lower()
    ((path, headers),) = stub.seen
    assert path.startswith("/fhir/QuestionnaireResponse?subject=Patient/1288992&questionnaire=")
    assert headers["Authorization"] == "Bearer secret-token"


def test_a_failed_prefetch_falls_back_to_the_fhir_server(client: TestClient) -> None:
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "timeout"}]}
    with fhir_stub(body=qr_of("runner_it_band.yaml")) as stub:
        cards = cards_of(client, hook_request({PREFETCH_KEY: outcome}, fhirServer=stub.url))
    assert len(stub.seen) == 1 and cards[-1]["indicator"] == "info"


@pytest.mark.parametrize("status", [401, 403, 500])
def test_412_when_the_fhir_server_refuses(client: TestClient, status: int) -> None:
    with fhir_stub(status=status, body={"resourceType": "OperationOutcome"}) as stub:
        answer = client.post(URL, json=hook_request(fhirServer=stub.url))
    assert answer.status_code == 412 and str(status) in answer.json()["error"]


def test_412_when_the_fhir_server_is_unreachable(client: TestClient) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    answer = client.post(URL, json=hook_request(fhirServer=f"http://127.0.0.1:{port}/fhir"))
    assert answer.status_code == 412 and "could not be reached" in answer.json()["error"]


def test_a_response_about_another_patient_is_never_used(client: TestClient) -> None:
    answer = client.post(URL, json=hook_request({PREFETCH_KEY: qr_of("cauda_equina_emergency.yaml",
                                                                     patient="someone-else")}))
    assert answer.status_code == 412 and "another patient" in answer.json()["error"]


def test_an_unreadable_response_is_a_warning_card_naming_the_item(client: TestClient) -> None:
    bad = qr_of("runner_it_band.yaml")
    bad["item"][0]["item"][0]["item"][0]["linkId"] = "sadle_anaesthesia"  # in the body chart
    (card,) = cards_of(client, hook_request({PREFETCH_KEY: bad}))
    assert card["indicator"] == "warning" and "no red-flag screen" in card["summary"]
    assert "did you mean" in card["detail"]


@pytest.mark.parametrize(("body", "expected"), [
    (b"{not json", "the body is not JSON"),
    (json.dumps({"hook": "patient-view"}).encode(), "'hookInstance' is a required property"),
    (json.dumps(hook_request() | {"hook": "order-sign"}).encode(), "answers hook 'patient-view'"),
])
def test_bad_requests_get_400_with_one_line(client: TestClient, body: bytes, expected: str) -> None:
    answer = client.post(URL, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and expected in answer.json()["error"]


def test_the_specifications_example_requests_replayed(client: TestClient) -> None:
    """As published, except `fhirServer`, which points at a local stub: tests never leave this
    machine. The example prefetches only a Patient, so the service must fetch its response."""
    example = copy.deepcopy(SPEC["request"]["Calling a CDS Service > Example"])
    with fhir_stub(body=searchset()) as stub:
        example["fhirServer"] = stub.url
        assert cards_of(client, example) == []  # nothing recorded for the patient: no guidance
        assert stub.seen[0][1]["Authorization"] == "Bearer some-opaque-fhir-access-token"
    with fhir_stub(body=searchset(qr_of("cauda_equina_emergency.yaml"))) as stub:
        example["fhirServer"] = stub.url
        assert cards_of(client, example)[0]["indicator"] == "critical"
    with fhir_stub(status=401, body={}) as stub:
        example["fhirServer"] = stub.url
        assert client.post(URL, json=example).status_code == 412
    for context in SPEC["patient_view_context"]:
        body = hook_request({PREFETCH_KEY: qr_of("runner_it_band.yaml")}) | {"context": context}
        assert cards_of(client, body)[-1]["indicator"] == "info"
    extension = SPEC["request"]["Extensions > request with extension"]
    answer = client.post(URL, json=extension)
    assert answer.status_code == 400 and "patientId" in answer.json()["error"]


def test_the_specifications_prefetch_data_example_replayed(client: TestClient) -> None:
    """'Example prefetch data' answers other services' templates (patient, hemoglobin-a1c, user)
    and not ours: the key we asked for is missing, so the response is fetched from fhirServer
    with the request's access token, and without a reachable server the answer is 412."""
    fragment = SPEC["request_fragments"]["Prefetch Template > Example prefetch data"]
    example = copy.deepcopy(SPEC["request"]["Calling a CDS Service > Example"]) | copy.deepcopy(fragment)
    assert schema_problem("request", example) == ""
    with fhir_stub(body=searchset(qr_of("cauda_equina_emergency.yaml"))) as stub:
        example["fhirServer"] = stub.url
        assert cards_of(client, example)[0]["indicator"] == "critical"
        path, headers = stub.seen[0]
        assert "QuestionnaireResponse" in path and "1288992" in path
        assert headers["Authorization"] == "Bearer some-opaque-fhir-access-token"
    del example["fhirServer"], example["fhirAuthorization"]
    answer = client.post(URL, json=example)
    assert answer.status_code == 412 and "QuestionnaireResponse" in answer.json()["error"]


def test_an_unknown_or_expired_report_link_is_404(client: TestClient) -> None:
    assert client.get(f"{URL}/report/not-a-token").status_code == 404


# --- feedback -------------------------------------------------------------------------------


def test_feedback_is_stored_and_reported_per_rule(client: TestClient) -> None:
    cards = cards_of(client, hook_request({PREFETCH_KEY: qr_of("cauda_equina_emergency.yaml")}))
    flag, summary = cards[0], cards[-1]
    feedback = {"feedback": [
        {"card": flag["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-11-29T10:05:31Z",
         "overrideReason": {"reason": flag["overrideReasons"][0], "userComment": "seen in ED yesterday"}},
        {"card": summary["uuid"], "outcome": "accepted", "outcomeTimestamp": "2026-11-29T10:06:00Z",
         "acceptedSuggestions": [{"id": summary["suggestions"][0]["uuid"]}]},
    ]}
    assert schema_problem("feedback", feedback) == ""
    answer = client.post(f"{URL}/feedback", json=feedback)
    assert answer.status_code == 200, answer.text
    with client.app.state.db.session() as session:  # type: ignore[attr-defined]
        stats = {s.rule: s for s in cds_store.feedback_by_rule(session)}
    assert stats["ces_saddle_anaesthesia"].overridden == 1
    assert stats["ces_saddle_anaesthesia"].reasons["Already referred or being managed"] == 1
    assert stats["ces_saddle_anaesthesia"].reasons["comment: seen in ED yesterday"] == 1
    assert stats["sciatica_pain_below_knee"].accepted == 1 and stats["sciatica_pain_below_knee"].shown == 1


def test_feedback_for_an_unknown_card_stores_nothing(client: TestClient) -> None:
    cards = cards_of(client, hook_request({PREFETCH_KEY: qr_of("runner_it_band.yaml")}))
    entries = [{"card": cards[0]["uuid"], "outcome": "overridden", "outcomeTimestamp": WHEN},
               {"card": "no-such-card", "outcome": "overridden", "outcomeTimestamp": WHEN}]
    answer = client.post(f"{URL}/feedback", json={"feedback": entries})
    assert answer.status_code == 400 and "no-such-card" in answer.json()["error"]
    with client.app.state.db.session() as session:  # type: ignore[attr-defined]
        assert all(s.overridden == 0 for s in cds_store.feedback_by_rule(session))


def test_the_specifications_feedback_examples_name_unknown_cards(client: TestClient) -> None:
    for name, example in SPEC["feedback"].items():
        answer = client.post(f"{URL}/feedback", json=example)
        assert answer.status_code == 400 and "never sent" in answer.json()["error"], name


def test_bad_feedback_gets_400(client: TestClient) -> None:
    answer = client.post(f"{URL}/feedback", json={"feedback": [{"card": "x", "outcome": "maybe"}]})
    assert answer.status_code == 400 and "feedback[0]" in answer.json()["error"]


def test_cds_feedback_command_lists_overridden_rules_first(client: TestClient, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli import main

    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
    empty = runner.invoke(main, ["cds", "feedback", "--db", db])
    assert empty.exit_code == 0 and "no feedback" in empty.stdout
    cards = cards_of(client, hook_request({PREFETCH_KEY: qr_of("cauda_equina_emergency.yaml")}))
    entry = {"card": cards[0]["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-11-29T10:05:31Z",
             "overrideReason": {"reason": cards[0]["overrideReasons"][2]}}
    assert client.post(f"{URL}/feedback", json={"feedback": [entry]}).status_code == 200
    result = runner.invoke(main, ["cds", "feedback", "--db", db])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["rule", "shown", "accepted", "overridden", "override", "rate"]
    assert lines[1].split()[0].startswith("ces_") and lines[1].split()[1:] == ["1", "0", "1", "100%"]
    assert "1 x My clinical assessment differs" in result.stdout
    bad = runner.invoke(main, ["cds", "feedback", "--db", f"sqlite:///{tmp_path / 'none' / 'x.db'}"])
    assert bad.exit_code == 2 and bad.stderr.startswith("error: cannot read the clinic database")
