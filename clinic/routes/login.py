"""Logging in and out. Failed logins are rate-limited per name and per client address."""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from clinic.auth import verify
from clinic.pages import db, first, form_with_csrf, render

router = APIRouter()


def _safe_next(target: str) -> str:
    """Only a path on this site (never //host or a scheme) may follow a login."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html.j2", title="Log in", next=_safe_next(next), name="", error="")


@router.post("/login")
async def login(request: Request) -> Response:
    data = await form_with_csrf(request)
    name, password = first(data, "name"), first(data, "password")
    target = _safe_next(first(data, "next", "/"))
    client = request.client.host if request.client else "?"
    keys = (f"name:{name.lower()}", f"addr:{client}")
    wait, ok = await anyio.to_thread.run_sync(attempt, request, name, password, keys)
    if wait:
        minutes = max(1, round(wait / 60))
        return render(request, "login.html.j2", status=429, title="Log in", next=target, name=name,
                      error=f"Too many failed attempts. Try again in about {minutes} minute"
                            f"{'s' if minutes != 1 else ''}.")
    if not ok:
        return render(request, "login.html.j2", status=401, title="Log in", next=target, name=name,
                      error="The user name or password is not right.")
    request.session.clear()  # a fresh session on login: no fixation
    request.session["user"] = name
    return RedirectResponse(target, 303)


def attempt(request: Request, name: str, password: str, keys: tuple[str, ...]) -> tuple[float, bool]:
    """(seconds to wait, 0 if not blocked; whether the password is right), counted by the
    limiter. Run in a worker thread: the limiter's queries and argon2's deliberately slow hash
    must not hold up the event loop, which serves every other page."""
    limiter = request.app.state.limiter
    wait: float = limiter.blocked(*keys)
    if wait:
        return wait, False
    with db(request).session() as session:
        ok = verify(session, name, password)
    if ok:
        limiter.succeeded(*keys)
    else:
        limiter.failed(*keys)
    return 0.0, ok


@router.post("/logout")
async def logout(request: Request) -> Response:
    await form_with_csrf(request)
    request.session.clear()
    return RedirectResponse("/login", 303)
