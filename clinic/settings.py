"""Where the clinic keeps its data and who may reach it, decided once when the server starts.

The default database is one SQLite file in the user's data directory (platformdirs), so
`imbalance serve` works with no set-up and keeps everything across restarts; a clinic server
passes `--db postgresql://...`. Plain `postgresql://` and `postgres://` URLs are read as
psycopg 3 URLs, the driver we ship.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_dir

APP_NAME = "imbalance"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def default_db_url() -> str:
    folder = Path(user_data_dir(APP_NAME, appauthor=False))
    return f"sqlite:///{folder / 'clinic.sqlite3'}"


def normalise_db_url(url: str) -> str:
    """The SQLAlchemy URL for what a user typed: postgresql:// means psycopg 3, the driver we
    install; a bare path means an SQLite file. Raises ValueError for a scheme we cannot use."""
    url = url.strip()
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    if url.startswith(("postgresql+psycopg://", "sqlite://")):
        return url
    if "://" not in url and url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    scheme = url.split("://", 1)[0]
    raise ValueError(f"unsupported database URL scheme '{scheme}'")


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Settings:
    db_url: str
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    kb_dirs: tuple[str, ...] = ()

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    def to_json(self) -> str:
        """For worker processes (`serve --workers N`), which rebuild the settings from it."""
        return json.dumps({"db_url": self.db_url, "host": self.host, "port": self.port,
                           "kb_dirs": list(self.kb_dirs)})

    @classmethod
    def from_json(cls, text: str) -> Settings:
        data = json.loads(text)
        return cls(str(data["db_url"]), str(data["host"]), int(data["port"]),
                   tuple(str(d) for d in data["kb_dirs"]))
