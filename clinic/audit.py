"""The audit log: who read, wrote, exported or deleted which patient's record, and when.

Written in the same transaction as the access it records, so a read that happened is logged and
a write that was rolled back leaves no entry claiming it happened.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinic.models import AuditEntry

ACTIONS = ("read", "write", "export", "delete")


def record(session: Session, user: str, action: str, patient_id: int | None, detail: str = "") -> None:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    session.add(AuditEntry(user=user, action=action, patient_id=patient_id, detail=detail))


def entries(session: Session, patient_id: int | None = None, limit: int = 200) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if patient_id is not None:
        query = query.where(AuditEntry.patient_id == patient_id)
    return list(session.scalars(query))
