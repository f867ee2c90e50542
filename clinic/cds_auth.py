"""Which health-record systems may call the CDS Hooks service: signed JWTs from trusted clients.

CDS Hooks 2.0, "Trusting CDS Clients": each call carries `Authorization: Bearer <JWT>` signed with
the client's private key (never `none`, never a shared-secret HMAC; ES384 and RS384 recommended),
with `iss`, `aud` (the URL of the endpoint being called), `exp`, `iat` and `jti`; the service
keeps an allowlist of issuers. PyJWT checks signatures and claims; this module only holds the
allowlist, picks the key by `kid` and refuses a `jti` seen before (replay): by the server, in
its database (`first_use`, shared by every worker process), or here in memory without one.

Trusted clients are listed in a JSON file named by the environment variable
`IMBALANCE_CDS_CLIENTS`: `{"audience_base": "https://cds.clinic.example" (optional: the public
base URL when behind a proxy), "clients": [{"iss": "...", "jwks": {"keys": [...]}}]}`. Keys are
given there, out of band: a `jku` URL in a token is never fetched (the service would otherwise
fetch any address a caller names). Without the file, calls are accepted only on a server bound
to this machine (127.0.0.1), as for the clinic's pages.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt

ENV = "IMBALANCE_CDS_CLIENTS"
ASYMMETRIC = ("ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
LEEWAY_S = 30  # clock skew between the EHR and us


class Refused(Exception):
    """The call is not from a trusted client; the message says why (answered with 401)."""


@dataclass
class TrustedClients:
    keys: dict[str, dict[str, Any]]  # iss -> {kid: PyJWK}
    audience_base: str = ""
    _seen: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_file(cls, path: Path) -> TrustedClients:
        data = json.loads(path.read_text(encoding="utf-8"))
        keys: dict[str, dict[str, Any]] = {}
        for client in data.get("clients", []):
            jwks = jwt.PyJWKSet.from_dict(client["jwks"])
            keys[str(client["iss"])] = {str(k.key_id): k for k in jwks.keys}
        return cls(keys, str(data.get("audience_base", "")).rstrip("/"))

    def verify(self, authorization: str | None, audience: str,
               first_use: Callable[[str, float, float], bool] | None = None) -> dict[str, Any]:
        """The token's claims, or `Refused`. `first_use(jti, exp, leeway)` says whether a token
        id is new (the server passes one backed by its database); without it, this object
        remembers the ids itself."""
        if not authorization or not authorization.startswith("Bearer "):
            raise Refused("this CDS service needs 'Authorization: Bearer <JWT>' from a trusted client")
        token = authorization[len("Bearer "):].strip()
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise Refused(f"the bearer token is not a JWT ({exc})") from None
        alg = header.get("alg")
        if alg not in ASYMMETRIC:
            raise Refused(f"JWT algorithm '{alg}' is not allowed (CDS Hooks: asymmetric only, e.g. ES384)")
        issuer = str(claims.get("iss", ""))
        if issuer not in self.keys:
            raise Refused(f"issuer '{issuer}' is not a trusted CDS client")
        key = self.keys[issuer].get(str(header.get("kid", "")))
        if key is None:
            raise Refused(f"no key '{header.get('kid')}' for issuer '{issuer}'")
        try:
            verified: dict[str, Any] = jwt.decode(
                token, key, algorithms=[alg], audience=audience, issuer=issuer, leeway=LEEWAY_S,
                options={"require": ["iss", "aud", "exp", "iat", "jti"]})
        except jwt.PyJWTError as exc:
            raise Refused(f"JWT refused: {exc}") from None
        jti, expires = str(verified["jti"]), float(verified["exp"])
        if first_use is None:
            self._once(jti, expires)
        elif not first_use(jti, expires, LEEWAY_S):
            raise Refused("JWT replayed (its jti was used before)")
        return verified

    def _once(self, jti: str, expires: float) -> None:
        now = time.time()
        with self._lock:
            for old in [k for k, exp in self._seen.items() if exp + LEEWAY_S < now]:
                del self._seen[old]
            if jti in self._seen:
                raise Refused("JWT replayed (its jti was used before)")
            self._seen[jti] = expires


def load_trusted(env: Mapping[str, str] | None = None) -> TrustedClients | None:
    path = (env if env is not None else os.environ).get(ENV)
    return TrustedClients.from_file(Path(path)) if path else None
