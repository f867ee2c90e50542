"""Patients: the list with search, a new patient, one patient's timeline, export and delete."""

from __future__ import annotations

import datetime as dt
import json

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from clinic import audit, store
from clinic.models import Patient
from clinic.pages import current_user, db, first, form_with_csrf, render

router = APIRouter()
SEXES = (("unknown", "Not recorded"), ("female", "Female"), ("male", "Male"), ("other", "Other"))


@router.get("/")
def home(user: str = Depends(current_user)) -> Response:
    return RedirectResponse("/patients", 303)


@router.get("/patients")
def patient_list(request: Request, q: str = "", user: str = Depends(current_user)) -> Response:
    q = q.strip()[:200]
    with db(request).session() as session:
        rows = store.search_patients(session, q)
        due = store.due_for_review(session, dt.date.today())
    return render(request, "patients.html.j2", title="Patients", rows=rows, q=q, due=len(due))


@router.get("/due")
def due_list(request: Request, user: str = Depends(current_user)) -> Response:
    with db(request).session() as session:
        rows = store.due_for_review(session, dt.date.today())
    return render(request, "due.html.j2", title="Due for review", rows=rows, today=dt.date.today())


def _patient_form(data: dict[str, list[str]]) -> tuple[dict[str, object], dict[str, str]]:
    """A new patient's fields and the problems with them, by field name."""
    values: dict[str, object] = {"name": first(data, "name")[:200], "ref": first(data, "ref")[:80],
                                 "sex": first(data, "sex", "unknown"), "notes": first(data, "notes")[:5000],
                                 "birth_year": first(data, "birth_year")}
    errors: dict[str, str] = {}
    if not values["name"]:
        errors["name"] = "Name: give the patient's name (or an alias your clinic uses)."
    if values["sex"] not in dict(SEXES):
        errors["sex"] = "Sex: choose one of the options."
    year = str(values["birth_year"])
    if year:
        this_year = dt.date.today().year
        if not year.isdigit() or not this_year - 120 <= int(year) <= this_year:
            errors["birth_year"] = (f"Year of birth: give a year from {this_year - 120} to {this_year}, "
                                    "or leave it empty.")
    return values, errors


@router.get("/patients/new")
def new_patient_page(request: Request, user: str = Depends(current_user)) -> Response:
    return render(request, "patient_new.html.j2", title="New patient", sexes=SEXES,
                  values={"name": "", "ref": "", "sex": "unknown", "notes": "", "birth_year": ""}, errors={})


@router.post("/patients/new")
async def new_patient(request: Request, user: str = Depends(current_user)) -> Response:
    data = await form_with_csrf(request)
    values, errors = _patient_form(data)
    if errors:
        return render(request, "patient_new.html.j2", status=422, title="New patient", sexes=SEXES,
                      values=values, errors=errors)
    with db(request).session() as session:
        year = str(values["birth_year"])
        patient = Patient(name=str(values["name"]), ref=str(values["ref"]), sex=str(values["sex"]),
                          notes=str(values["notes"]), birth_year=int(year) if year else None)
        session.add(patient)
        session.flush()
        audit.record(session, user, "write", patient.id, "created patient")
        pid = patient.id
    return RedirectResponse(f"/patients/{pid}", 303)


def load_patient(session: Session, pid: int) -> Patient:
    patient = session.get(Patient, pid)
    if patient is None:
        raise HTTPException(404)
    return patient


@router.get("/patients/{pid}")
def patient_page(request: Request, pid: int, user: str = Depends(current_user)) -> Response:
    with db(request).session() as session:
        patient = load_patient(session, pid)
        audit.record(session, user, "read", pid, "patient timeline")
        visits = sorted(patient.visits, key=lambda v: (v.seen_on, v.id), reverse=True)
        timeline = [(v, v.assessments[-1]) for v in visits if v.assessments]
        log = audit.entries(session, pid, limit=20)
        response = render(request, "patient.html.j2", title=patient.name, patient=patient,
                          timeline=timeline, log=log, today=dt.date.today())
    return response


@router.get("/patients/{pid}/export")
def export(request: Request, pid: int, user: str = Depends(current_user)) -> Response:
    with db(request).session() as session:
        patient = load_patient(session, pid)
        audit.record(session, user, "export", pid, "exported all data as JSON")
        body = json.dumps(store.export_patient(patient), indent=2, ensure_ascii=False)
    return Response(body, media_type="application/json", headers={
        "Content-Disposition": f'attachment; filename="patient-{pid}.json"'})


@router.get("/patients/{pid}/delete")
def delete_page(request: Request, pid: int, user: str = Depends(current_user)) -> Response:
    with db(request).session() as session:
        patient = load_patient(session, pid)
        audit.record(session, user, "read", pid, "delete confirmation page")
        return render(request, "delete.html.j2", title=f"Delete {patient.name}", patient=patient,
                      visits=len(patient.visits), error="")


@router.post("/patients/{pid}/delete")
async def delete(request: Request, pid: int, user: str = Depends(current_user)) -> Response:
    data = await form_with_csrf(request)
    with db(request).session() as session:
        patient = load_patient(session, pid)
        if first(data, "confirm") != patient.name:
            return render(request, "delete.html.j2", status=422, title=f"Delete {patient.name}",
                          patient=patient, visits=len(patient.visits),
                          error="Type the patient's name exactly as shown to confirm.")
        count = len(patient.visits)
        session.delete(patient)
        audit.record(session, user, "delete", pid, f"deleted patient and {count} visit(s)")
    return RedirectResponse("/patients?deleted=1", 303)
