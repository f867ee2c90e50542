"""Users and logins: argon2 password hashes, and a limit on failed logins.

The limiter is in memory on purpose: it only has to slow down guessing against one server
process, and a restart (which an attacker cannot cause) clearing it is harmless. Failures are
counted per user name and per client address, so one noisy address cannot lock out a user
everywhere and one address cannot spray many names.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clinic.models import User

HASHER = PasswordHasher()
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-@")
MIN_PASSWORD = 8


def check_name(name: str) -> str:
    """An error message for an unusable user name, else ''."""
    if not 1 <= len(name) <= 80:
        return "a user name has 1 to 80 characters"
    if not set(name.lower()) <= NAME_CHARS:
        return "a user name may use letters, digits, '.', '_', '-' and '@' only"
    return ""


def add_user(session: Session, name: str, password: str) -> User:
    user = User(name=name, password_hash=HASHER.hash(password))
    session.add(user)
    return user


def user_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(User)) or 0)


def verify(session: Session, name: str, password: str) -> bool:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        HASHER.hash(password)  # same work as a real check, so timing does not reveal names
        return False
    try:
        return HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class LoginLimiter:
    """At most `attempts` failed logins per key in `window` seconds."""

    def __init__(self, attempts: int = 5, window: float = 300.0) -> None:
        self.attempts = attempts
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def blocked(self, *keys: str) -> float:
        """Seconds until a blocked key may try again, or 0 when none is blocked."""
        now = time.monotonic()
        with self._lock:
            waits = [self.window - (now - times[0]) for key in keys
                     if len(times := self._recent(key, now)) >= self.attempts]
        return max(waits, default=0.0)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
