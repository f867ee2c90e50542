"""The audit log: who read, wrote, exported or deleted which patient's record, and when.

Written in the same transaction as the access it records, so a read that happened is logged and
a write that was rolled back leaves no entry claiming it happened. An entry is kept on the
session and added just before the commit rather than at once: a page reads the record, renders
it, and only then writes its audit line, so on SQLite (one writer at a time) the write lock is
held for that one INSERT and the commit, not for the whole page. Added at once, the first query
after it would flush the INSERT and every concurrent page view would wait behind the renders of
the others (measured: bench/RESULTS.md, "Clinic server under load"). The entries are written
with one Core INSERT rather than through the ORM's unit of work: a log line is never read back
in the transaction that writes it, and the unit of work (change tracking, identity map) cost
more CPU than any other step of a result page (issue 18, profile in bench/RESULTS.md).
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, event, insert, select
from sqlalchemy.orm import Session

from clinic.models import AuditEntry, utcnow

ACTIONS = ("read", "write", "export", "delete")
PENDING = "imbalance_audit_pending"  # key in Session.info
TABLE = cast(Table, AuditEntry.__table__)


def record(session: Session, user: str, action: str, patient_id: int | None, detail: str = "") -> None:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AuditEntry(user=user, action=action, patient_id=patient_id, detail=detail, at=utcnow())
    session.info.setdefault(PENDING, []).append(entry)


@event.listens_for(Session, "before_commit")
def _add_pending(session: Session) -> None:
    """Written as the transaction commits, with whatever else the page changed (the log has no
    foreign key, so the order of the two never matters)."""
    entries: list[AuditEntry] = session.info.pop(PENDING, [])
    if entries:
        session.connection().execute(insert(TABLE), [
            {"at": e.at, "user": e.user, "action": e.action, "patient_id": e.patient_id,
             "detail": e.detail} for e in entries])


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(PENDING, None)


def entries(session: Session, patient_id: int | None = None, limit: int = 200) -> list[AuditEntry]:
    """The newest entries first, this transaction's own not yet written ones included."""
    pending: list[Any] = [e for e in reversed(session.info.get(PENDING, []))
                          if patient_id is None or e.patient_id == patient_id]
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if patient_id is not None:
        query = query.where(AuditEntry.patient_id == patient_id)
    return (pending + list(session.scalars(query)))[:limit]
