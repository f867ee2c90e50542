"""Browser-facing protections: security headers with a script-free CSP, and CSRF tokens.

Every page is server-rendered HTML with no JavaScript at all, so the Content-Security-Policy can
forbid scripts outright. The saved HTML reports carry inline styles (they must open as single
files), so only their responses allow inline style. CSRF uses a random token kept in the signed
session and repeated in every form (the synchronizer-token pattern); with SameSite cookies as
well, a forged cross-site POST fails twice.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response

CSP = ("default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
       "frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
REPORT_CSP = ("default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; img-src data:; "
              "form-action 'none'; frame-ancestors 'self'; base-uri 'none'")
CSRF_FIELD = "csrf_token"


class SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        if request.url.path != "/healthz" and not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"  # patient data stays out of caches
        return response


def csrf_token(request: Request) -> str:
    """This session's token, created on first use."""
    session: dict[str, Any] = request.session
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def csrf_valid(request: Request, submitted: Any) -> bool:
    expected = request.session.get("csrf")
    return (isinstance(expected, str) and isinstance(submitted, str)
            and hmac.compare_digest(expected.encode(), submitted.encode()))
