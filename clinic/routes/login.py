"""Logging in and out. Failed logins are rate-limited per name and per client address."""

from __future__ import annotations

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
    limiter = request.app.state.limiter
    wait = limiter.blocked(*keys)
    if wait:
        minutes = max(1, round(wait / 60))
        return render(request, "login.html.j2", status=429, title="Log in", next=target, name=name,
                      error=f"Too many failed attempts. Try again in about {minutes} minute"
                            f"{'s' if minutes != 1 else ''}.")
    with db(request).session() as session:
        ok = verify(session, name, password)
    if not ok:
        limiter.failed(*keys)
        return render(request, "login.html.j2", status=401, title="Log in", next=target, name=name,
                      error="The user name or password is not right.")
    limiter.succeeded(*keys)
    request.session.clear()  # a fresh session on login: no fixation
    request.session["user"] = name
    return RedirectResponse(target, 303)


@router.post("/logout")
async def logout(request: Request) -> Response:
    await form_with_csrf(request)
    request.session.clear()
    return RedirectResponse("/login", 303)
