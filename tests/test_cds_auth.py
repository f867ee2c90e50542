"""Only trusted health-record systems may call the CDS Hooks service (CDS Hooks 2.0, "Trusting
CDS Clients"): a JWT signed with the client's private key, checked against its listed public key."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from clinic.cds_auth import ENV
from engine.errors import InputError
from tests.cds_support import SPEC, cds_app, hook_request

ISS = "https://ehr.clinic.test/"
KID = "ehr-key-1"
URL = "/cds-services/imbalance-msk"


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


def trust_file(tmp_path: Path, key: ec.EllipticCurvePrivateKey) -> Path:
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    public.update(kid=KID, alg="ES384", use="sig")
    path = tmp_path / "clients.json"
    path.write_text(json.dumps({"clients": [{"iss": ISS, "jwks": {"keys": [public]}}]}), encoding="utf-8")
    return path


def token(key: Any, aud: str, alg: str = "ES384", **claims: Any) -> str:
    now = int(time.time())
    payload = {"iss": ISS, "aud": aud, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4()), **claims}
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": KID})


@pytest.fixture
def client(tmp_path: Path, key: ec.EllipticCurvePrivateKey) -> TestClient:
    app = cds_app(tmp_path / "db.sqlite3", {ENV: str(trust_file(tmp_path, key))})
    return TestClient(app, base_url="https://cds.clinic.test")


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def test_a_signed_call_from_a_trusted_client_is_answered(client: TestClient, key: Any) -> None:
    aud = f"https://cds.clinic.test{URL}"
    body = hook_request({"questionnaireResponse": None})
    answer = client.post(URL, json=body, headers=bearer(token(key, aud)))
    assert answer.status_code == 200 and answer.json() == {"cards": []}
    listing = bearer(token(key, "https://cds.clinic.test/cds-services"))
    discovery = client.get("/cds-services", headers=listing)
    assert discovery.status_code == 200


@pytest.mark.parametrize(("make", "expected"), [
    (lambda key: None, "needs 'Authorization: Bearer <JWT>'"),
    (lambda key: "not-a-jwt", "not a JWT"),
    (lambda key: token(key, "https://cds.clinic.test/cds-services/other"), "Audience doesn't match"),
    (lambda key: token(key, f"https://cds.clinic.test{URL}", exp=int(time.time()) - 3600), "expired"),
    (lambda key: token(key, f"https://cds.clinic.test{URL}", iss="https://intruder.test/"), "not a trusted"),
    (lambda key: token(ec.generate_private_key(ec.SECP384R1()), f"https://cds.clinic.test{URL}"),
     "Signature verification failed"),
    (lambda key: token("a-shared-secret-of-32-bytes-or-more!!", f"https://cds.clinic.test{URL}", alg="HS256"),
     "'HS256' is not allowed"),
])
def test_untrusted_calls_get_401(client: TestClient, key: Any, make: Any, expected: str) -> None:
    value = make(key)
    headers = bearer(value) if value else {}
    answer = client.post(URL, json=hook_request({"questionnaireResponse": None}), headers=headers)
    assert answer.status_code == 401 and expected in answer.json()["error"]
    assert answer.headers["www-authenticate"] == "Bearer"


def test_a_replayed_token_is_refused(client: TestClient, key: Any) -> None:
    value = token(key, f"https://cds.clinic.test{URL}")
    body = hook_request({"questionnaireResponse": None})
    assert client.post(URL, json=body, headers=bearer(value)).status_code == 200
    again = client.post(URL, json=body, headers=bearer(value))
    assert again.status_code == 401 and "replayed" in again.json()["error"]


def test_a_token_replayed_to_another_worker_on_the_same_database_is_refused(
        tmp_path: Path, key: Any) -> None:
    """`serve --workers N` runs N copies of the app on one database: the used token ids are
    kept there, so the second process refuses what the first accepted."""
    trust = {ENV: str(trust_file(tmp_path, key))}
    first = TestClient(cds_app(tmp_path / "db.sqlite3", trust), base_url="https://cds.clinic.test")
    second = TestClient(cds_app(tmp_path / "db.sqlite3", trust), base_url="https://cds.clinic.test")
    value = token(key, f"https://cds.clinic.test{URL}")
    body = hook_request({"questionnaireResponse": None})
    assert first.post(URL, json=body, headers=bearer(value)).status_code == 200
    again = second.post(URL, json=body, headers=bearer(value))
    assert again.status_code == 401 and "replayed" in again.json()["error"]
    fresh = token(key, f"https://cds.clinic.test{URL}")  # a new token is still welcome there
    assert second.post(URL, json=body, headers=bearer(fresh)).status_code == 200


def test_the_specifications_example_token_is_refused(client: TestClient) -> None:
    """The published example (an ES384 token for another audience, long expired, from an issuer
    not on our list) must never be accepted."""
    example = SPEC["jwt_example"]["token"]
    answer = client.post(URL, json=hook_request(), headers=bearer(example))
    assert answer.status_code == 401 and "not a trusted CDS client" in answer.json()["error"]


def test_the_report_link_needs_no_jwt(client: TestClient) -> None:
    assert client.get(f"{URL}/report/unknown").status_code == 404  # the token in the link decides


def test_without_a_trust_list_only_a_loopback_server_answers(tmp_path: Path) -> None:
    network = cds_app(tmp_path / "db.sqlite3", {}, host="0.0.0.0")
    answer = TestClient(network).post(URL, json=hook_request({"questionnaireResponse": None}))
    assert answer.status_code == 401 and ENV in answer.json()["error"]
    local = cds_app(tmp_path / "db.sqlite3", {}, host="127.0.0.1")
    assert TestClient(local).post(URL, json=hook_request({"questionnaireResponse": None})).status_code == 200


def test_the_app_factory_reads_the_trust_list_from_the_environment(
        tmp_path: Path, key: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """What `imbalance serve` builds: create_app with no env of its own reads os.environ."""
    from clinic.app import create_app
    from clinic.settings import Settings
    from tests.clinic_support import shared_assessor

    monkeypatch.setenv(ENV, str(trust_file(tmp_path, key)))
    app = create_app(Settings(f"sqlite:///{tmp_path / 'db.sqlite3'}", host="0.0.0.0"), shared_assessor())
    client = TestClient(app, base_url="https://cds.clinic.test")
    body = hook_request({"questionnaireResponse": None})
    assert client.post(URL, json=body).status_code == 401
    signed = client.post(URL, json=body, headers=bearer(token(key, f"https://cds.clinic.test{URL}")))
    assert signed.status_code == 200, signed.text


def test_an_unreadable_trust_list_stops_the_start(tmp_path: Path) -> None:
    bad = tmp_path / "clients.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match=ENV):
        cds_app(tmp_path / "db.sqlite3", {ENV: str(bad)})


def test_serve_with_an_unreadable_trust_list_exits_2_with_one_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli import main

    missing = tmp_path / "no-such-clients.json"
    for workers in ("1", "2"):  # with several workers too: checked before any worker starts
        result = CliRunner().invoke(main, ["serve", "--db", str(tmp_path / "db.sqlite3"), "--port", "18099",
                                           "--workers", workers], env={ENV: str(missing)})
        assert result.exit_code == 2
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and ENV in lines[0] and str(missing) in lines[0]
        assert "Traceback" not in result.output
