"""The audit log is written with the commit of the access it records: never before the page's
own reads (so a page does not hold SQLite's write lock while it renders), never after a
rollback, and a page that lists the log sees its own entry."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select

from clinic import audit
from clinic.db import Database, migrate
from clinic.models import AuditEntry, Patient


@pytest.fixture
def database(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'audit.sqlite3'}")
    migrate(db.engine)
    with db.session() as session:
        session.add(Patient(name="Audit Me"))
    return db


def write_lock_free(db: Database) -> bool:
    """Whether another connection could start writing now, without waiting."""
    other = sqlite3.connect(db.engine.url.database or "", timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:  # database is locked
        return False
    finally:
        other.close()


def count(db: Database) -> int:
    with db.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(AuditEntry)).scalar_one())


def test_an_entry_is_written_at_commit_not_by_the_next_query(database: Database) -> None:
    with database.session() as session:
        audit.record(session, "dr.a", "read", 1, "visit 1 results")
        assert session.scalars(select(Patient)).one().name == "Audit Me"  # autoflush would INSERT here
        assert count(database) == 0
        assert write_lock_free(database)  # another writer is not kept waiting by this page
        assert [e.detail for e in audit.entries(session, 1)] == ["visit 1 results"]  # seen already
    assert count(database) == 1
    with database.session() as session:
        [entry] = audit.entries(session, 1)
        assert (entry.user, entry.action, entry.detail) == ("dr.a", "read", "visit 1 results")


def test_a_rolled_back_access_leaves_no_entry(database: Database) -> None:
    with pytest.raises(RuntimeError), database.session() as session:
        audit.record(session, "dr.a", "write", 1, "saved visit 9 (form)")
        raise RuntimeError("the write failed")
    assert count(database) == 0
    with database.session() as session:  # and the next transaction does not inherit it
        audit.record(session, "dr.b", "read", 1, "patient timeline")
    with database.session() as session:
        assert [(e.user, e.detail) for e in audit.entries(session)] == [("dr.b", "patient timeline")]


def test_entries_keep_their_order_and_the_time_of_the_access(database: Database) -> None:
    with database.session() as session:
        for n in range(3):
            audit.record(session, "dr.a", "read", 1, f"read {n}")
    with database.session() as session:
        found = audit.entries(session, 1)
    assert [e.detail for e in found] == ["read 2", "read 1", "read 0"]  # newest first
    assert found[0].at >= found[2].at


def test_an_unknown_action_is_refused_at_once(database: Database) -> None:
    with database.session() as session, pytest.raises(ValueError, match="unknown audit action"):
        audit.record(session, "dr.a", "peek", 1)
