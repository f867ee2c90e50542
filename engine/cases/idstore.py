"""A set of case ids that lives on disk, so a batch's memory does not grow with its caseload.

A batch must remember every id it has seen (a repeated id becomes an error record) and, when
resuming, every id already in the output. A Python set of a million ids costs over 100 MB; an
SQLite table in a private temporary file costs a few megabytes of page cache however many ids
it holds, and still answers "seen before?" in microseconds. SQLite is in the standard library,
and `sqlite3.connect("")` gives exactly this: an unnamed on-disk database deleted on close.
"""

from __future__ import annotations

import sqlite3
from types import TracebackType


class IdStore:
    """Ids, each with the line (or position) where it was first seen."""

    def __init__(self) -> None:
        # private, on disk, removed when closed; used by one thread at a time (the pool's feeder)
        self._db = sqlite3.connect("", check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("PRAGMA cache_size=-4000")  # at most ~4 MB of pages in memory
        self._db.execute("CREATE TABLE ids (id TEXT PRIMARY KEY, line INTEGER) WITHOUT ROWID")
        self._count = 0

    def add(self, case_id: str, line: int = 0) -> int:
        """Remember `case_id`; 0 when it is new, else the line where it was first seen (or -1
        when that was not recorded)."""
        cursor = self._db.execute("INSERT OR IGNORE INTO ids VALUES (?, ?)", (_key(case_id), line))
        if cursor.rowcount == 1:
            self._count += 1
            return 0
        row = self._db.execute("SELECT line FROM ids WHERE id = ?", (_key(case_id),)).fetchone()
        return int(row[0]) or -1

    def __contains__(self, case_id: object) -> bool:
        if not isinstance(case_id, str):
            return False
        query = "SELECT 1 FROM ids WHERE id = ?"
        return self._db.execute(query, (_key(case_id),)).fetchone() is not None

    def __len__(self) -> int:
        return self._count

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> IdStore:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _key(case_id: str) -> str:
    """Ids from file names may hold undecodable bytes (surrogate escapes); SQLite takes UTF-8."""
    return case_id.encode("utf-8", "surrogatepass").decode("utf-8", "backslashreplace")


__all__ = ["IdStore"]
