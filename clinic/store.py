"""The queries and writes of the clinic, each write in the caller's single transaction.

A visit, its first assessment and the audit entry for writing it go in together or not at all
(`Database.session()` commits once at the end), so a server killed mid-write leaves either the
whole visit or nothing. Due-for-review uses the `review_due` column set from the assessment's
review interval, so the list is one indexed query over each patient's latest visit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from clinic.assessing import Outcome
from clinic.models import Assessment, Patient, Visit

DEFAULT_REVIEW_WEEKS = 26  # no review block in an older result: six months (seed 002)


def review_weeks(result: dict[str, Any]) -> int:
    review = result.get("review") or {}
    weeks = review.get("after_weeks") if isinstance(review, dict) else None
    return int(weeks) if isinstance(weeks, (int, float)) and weeks > 0 else DEFAULT_REVIEW_WEEKS


@dataclass(frozen=True)
class PatientRow:
    patient: Patient
    last_seen: dt.date | None
    last_triage: str
    visits: int


def latest_visits_query() -> Any:
    """Each patient's newest visit id (latest date, then latest id)."""
    return (select(Visit.patient_id, func.max(Visit.id).label("visit_id"))
            .group_by(Visit.patient_id).subquery())


def search_patients(session: Session, text: str = "", limit: int = 200) -> list[PatientRow]:
    query = select(Patient).order_by(Patient.name, Patient.id).limit(limit)
    words = text.split()
    for word in words:
        like = f"%{word.lower()}%"
        query = query.where(or_(func.lower(Patient.name).like(like), func.lower(Patient.ref).like(like)))
    patients = list(session.scalars(query))
    ids = [p.id for p in patients]
    if not ids:
        return []
    counts: dict[int, int] = {pid: count for pid, count in session.execute(
        select(Visit.patient_id, func.count()).where(Visit.patient_id.in_(ids)).group_by(Visit.patient_id))}
    latest = latest_visits_query()
    last: dict[int, tuple[dt.date, str]] = {}
    rows = session.execute(
        select(Visit.patient_id, Visit.seen_on, Assessment.triage)
        .join(latest, latest.c.visit_id == Visit.id)
        .join(Assessment, Assessment.visit_id == Visit.id)
        .where(Visit.patient_id.in_(ids)).order_by(Assessment.id))
    for pid, seen_on, triage in rows:
        last[pid] = (seen_on, triage)
    return [PatientRow(p, last.get(p.id, (None, ""))[0], last.get(p.id, (None, ""))[1],
                       counts.get(p.id, 0)) for p in patients]


@dataclass(frozen=True)
class DueRow:
    patient: Patient
    visit: Visit
    due: dt.date
    overdue: bool


def due_for_review(session: Session, today: dt.date, within_days: int = 14) -> list[DueRow]:
    """Patients whose latest visit's review date is past or within `within_days`."""
    latest = latest_visits_query()
    horizon = today + dt.timedelta(days=within_days)
    rows = session.execute(
        select(Patient, Visit).join(Visit, Visit.patient_id == Patient.id)
        .join(latest, latest.c.visit_id == Visit.id)
        .where(Visit.review_due.is_not(None), Visit.review_due <= horizon)
        .order_by(Visit.review_due, Patient.name))
    return [DueRow(p, v, v.review_due, v.review_due < today) for p, v in rows if v.review_due]


def add_visit(session: Session, patient: Patient, *, method: str, age: int | None,
              findings: dict[str, Any], notes: str, user: str, outcome: Outcome,
              seen_on: dt.date | None = None) -> Visit:
    seen = seen_on or dt.date.today()
    visit = Visit(patient=patient, seen_on=seen, method=method, age=age, findings=dict(findings),
                  notes=notes, created_by=user,
                  review_due=seen + dt.timedelta(weeks=review_weeks(outcome.result)))
    session.add(visit)
    add_assessment(session, visit, outcome, user)
    return visit


def add_assessment(session: Session, visit: Visit, outcome: Outcome, user: str) -> Assessment:
    assessment = Assessment(visit=visit, kb_version=outcome.kb_version, triage=outcome.triage,
                            result=outcome.result, report_html=outcome.report_html,
                            handout_html=outcome.handout_html, created_by=user)
    session.add(assessment)
    visit.review_due = visit.seen_on + dt.timedelta(weeks=review_weeks(outcome.result))
    return assessment


def visit_of(session: Session, patient_id: int, visit_id: int) -> Visit | None:
    visit = session.get(Visit, visit_id)
    return visit if visit is not None and visit.patient_id == patient_id else None


def other_visit_ids(session: Session, patient_id: int, visit_id: int) -> list[int]:
    """The patient's other visits, oldest first (as `Patient.visits` orders them)."""
    return list(session.scalars(select(Visit.id).where(Visit.patient_id == patient_id, Visit.id != visit_id)
                                .order_by(Visit.seen_on, Visit.id)))


def export_patient(patient: Patient) -> dict[str, Any]:
    """Everything stored about one patient, as JSON-ready data (the right of access)."""
    return {
        "patient": {"id": patient.id, "ref": patient.ref, "name": patient.name,
                    "birth_year": patient.birth_year, "sex": patient.sex, "notes": patient.notes,
                    "created_at": patient.created_at.isoformat()},
        "visits": [{
            "id": v.id, "seen_on": v.seen_on.isoformat(), "method": v.method, "age": v.age,
            "findings": v.findings, "notes": v.notes, "created_by": v.created_by,
            "created_at": v.created_at.isoformat(),
            "review_due": v.review_due.isoformat() if v.review_due else None,
            "assessments": [{"id": a.id, "kb_version": a.kb_version, "triage": a.triage,
                             "result": a.result, "created_by": a.created_by,
                             "created_at": a.created_at.isoformat()} for a in v.assessments],
        } for v in patient.visits],
    }
