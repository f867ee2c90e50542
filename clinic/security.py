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

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
       "frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
REPORT_CSP = ("default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; img-src data:; "
              "form-action 'none'; frame-ancestors 'self'; base-uri 'none'")
CSRF_FIELD = "csrf_token"


class SecurityHeaders:
    """Adds the headers to every HTTP response, errors included. A plain ASGI middleware that
    only edits the `http.response.start` message: Starlette's BaseHTTPMiddleware would run each
    request in a task of its own with a memory stream for the body, which under load cost more
    than the page itself (bench/RESULTS.md, "Clinic server under load")."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        cacheable = path == "/healthz" or path.startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CSP)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                headers["X-Frame-Options"] = "SAMEORIGIN"
                if not cacheable:
                    headers["Cache-Control"] = "no-store"  # patient data stays out of caches
            await send(message)

        await self.app(scope, receive, send_with_headers)


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
