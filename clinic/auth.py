"""Users and logins: argon2 password hashes, and a limit on failed logins.

The limiter keeps failed logins in the database (table `login_failures`, migration 0005): a
server started with `--workers N` runs N processes, and a count kept in each one's memory would
give a guesser N times the tries, depending on which process took each connection. Failures are
counted per user name and per client address, so one noisy address cannot lock out a user
everywhere and one address cannot spray many names. Times are wall-clock UTC, since they are
compared across processes. Two attempts racing in two workers may both be let through at the
edge of the limit; the limit is there to slow guessing down, not to count to the exact try.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from clinic.models import LoginFailure, User, utcnow

if TYPE_CHECKING:
    from clinic.db import Database

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


KEY_CHARS = 200  # the column's width; a longer key (a pasted essay as the name) is hashed


def stored_key(key: str) -> str:
    return key if len(key) <= KEY_CHARS else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


class LoginLimiter:
    """At most `attempts` failed logins per key in `window` seconds, counted in the database."""

    def __init__(self, database: Database, attempts: int = 5, window: float = 300.0,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.database = database
        self.attempts = attempts
        self.window = window
        self.clock = clock  # tests move time on; the server uses UTC wall-clock time

    def blocked(self, *keys: str) -> float:
        """Seconds until a blocked key may try again, or 0 when none is blocked."""
        now, keys = self.clock(), tuple(map(stored_key, keys))
        since = now - dt.timedelta(seconds=self.window)
        with self.database.session() as session:
            rows = session.execute(
                select(LoginFailure.key, func.count(), func.min(LoginFailure.at))
                .where(LoginFailure.key.in_(keys), LoginFailure.at > since)
                .group_by(LoginFailure.key)).all()
        waits = [self.window - (now - oldest).total_seconds()
                 for _key, count, oldest in rows if count >= self.attempts]
        return max(waits, default=0.0)

    def failed(self, *keys: str) -> None:
        """Count one failure for each key, and forget every failure older than the window."""
        now = self.clock()
        with self.database.session() as session:
            session.execute(delete(LoginFailure).where(
                LoginFailure.at <= now - dt.timedelta(seconds=self.window)))
            session.add_all(LoginFailure(key=stored_key(key), at=now) for key in keys)

    def succeeded(self, *keys: str) -> None:
        with self.database.session() as session:
            session.execute(delete(LoginFailure).where(
                LoginFailure.key.in_([stored_key(key) for key in keys])))
