"""Recording a visit: the intake form, or the step-by-step consultation. Either ends in one
transaction that stores the visit, its assessment and the audit entry together."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from clinic import audit, forms, store
from clinic.assessing import Assessor
from clinic.consultation import Consultation, Step, decode, encode, read_answer
from clinic.models import Patient
from clinic.pages import current_user, db, first, form_with_csrf, render
from clinic.routes.patients import load_patient
from engine.errors import CaseError
from engine.interview.planner import SCREEN, Planner
from engine.interview.session import answer_words
from engine.wording import SITE_QUESTION
from reports.interview_text import why_lines
from reports.summary import screen_summary

router = APIRouter()


def assessor_of(request: Request) -> Assessor:
    assessor: Assessor = request.app.state.assessor
    return assessor


def patient_block(patient: Patient, age: int | None) -> dict[str, Any]:
    block: dict[str, Any] = {"id": patient.ref or f"patient {patient.id}"}
    if age is not None:
        block["age"] = age
    if patient.sex and patient.sex != "unknown":
        block["sex"] = patient.sex
    return block


def age_now(patient: Patient) -> int | None:
    return dt.date.today().year - patient.birth_year if patient.birth_year else None


def save(request: Request, pid: int, user: str, *, method: str, age: int | None,
         findings: dict[str, Any], notes: str, seen_on: dt.date | None) -> int:
    """Assess and store one visit in a single transaction; returns the visit id."""
    assessor = assessor_of(request)
    with db(request).session() as session:
        patient = load_patient(session, pid)
        case = assessor.case(patient_block(patient, age), findings, f"visit of patient {pid}")
        outcome = assessor.outcome(case)
        visit = store.add_visit(session, patient, method=method, age=age, findings=findings,
                                notes=notes, user=user, outcome=outcome, seen_on=seen_on)
        session.flush()
        audit.record(session, user, "write", pid, f"saved visit {visit.id} ({method})")
        return visit.id


# --- the intake form ---------------------------------------------------------------------------


def intake_page(request: Request, patient: Patient, intake: forms.Intake, status: int = 200) -> Response:
    return render(request, "intake.html.j2", status=status, title=f"New visit: {patient.name}",
                  patient=patient, sections=forms.sections(assessor_of(request).kb), intake=intake,
                  PREFIX=forms.PREFIX, GROUP_PREFIX=forms.GROUP_PREFIX, SIDES=forms.SIDES)


@router.get("/patients/{pid}/visits/new")
def intake_form(request: Request, pid: int, user: str = Depends(current_user)) -> Response:
    with db(request).session() as session:
        patient = load_patient(session, pid)
        audit.record(session, user, "read", pid, "intake form")
    age = age_now(patient)
    intake = forms.Intake(raw={"age": "" if age is None else str(age),
                               "seen_on": dt.date.today().isoformat()})
    return intake_page(request, patient, intake)


@router.post("/patients/{pid}/visits/new")
async def intake_save(request: Request, pid: int, user: str = Depends(current_user)) -> Response:
    data = await form_with_csrf(request)
    with db(request).session() as session:
        patient = load_patient(session, pid)
    intake = forms.read_intake(assessor_of(request).kb, data)
    if not intake.errors:
        try:
            vid = save(request, pid, user, method="form", age=intake.age, findings=intake.findings,
                       notes=intake.notes, seen_on=intake.seen_on)
        except CaseError as exc:  # the KB refused a value the form let through: say so, keep the form
            intake.errors["form"] = exc.message
        else:
            return RedirectResponse(f"/patients/{pid}/visits/{vid}", 303)
    return intake_page(request, patient, intake, status=422)


# --- the step-by-step consultation ---------------------------------------------------------------


def planner_of(request: Request) -> Planner:
    planner: Planner | None = getattr(request.app.state, "planner", None)
    if planner is None:
        planner = request.app.state.planner = Planner(assessor_of(request).kb)
    return planner


def consult_page(request: Request, patient: Patient, consultation: Consultation, error: str = "",
                 status: int = 200) -> Response:
    session = consultation.session
    kb = consultation.assessor.kb
    question = session.next_question()
    assessment = session.assessment()
    # finished with red-flag questions skipped: they are unknown, not "no"
    screen = (screen_summary(kb, assessment.screen, assessment.triage)
              if question is None else None)
    why: list[str] = []
    if question is not None and not question.members:
        why = why_lines(session.why(question.finding.id), kb, session.facts)
    return render(
        request, "consult.html.j2", status=status, title=f"Consultation: {patient.name}",
        patient=patient, question=question, screening=question is not None and question.phase == SCREEN,
        site_question=SITE_QUESTION if question is not None and question.checklist is not None
        and question.checklist.first else "",
        answer_words=answer_words, number=session.number, steps=encode(consultation.steps),
        red_flags=assessment.red_flags, raised={r.flag.id for r in consultation.raised},
        triage=assessment.triage, conditions=assessment.conditions[:5], why=why, error=error,
        answered=len(consultation.steps), PREFIX=forms.PREFIX, SIDES=forms.SIDES, screen=screen)


@router.get("/patients/{pid}/consult")
def consult_start(request: Request, pid: int, user: str = Depends(current_user)) -> Response:
    with db(request).session() as session:
        patient = load_patient(session, pid)
        audit.record(session, user, "read", pid, "started a consultation")
    assessor = assessor_of(request)
    with assessor.lock:
        block = patient_block(patient, age_now(patient))
        consultation = Consultation(assessor, planner_of(request), block, [])
        return consult_page(request, patient, consultation)


@router.post("/patients/{pid}/consult")
async def consult_step(request: Request, pid: int, user: str = Depends(current_user)) -> Response:
    data = await form_with_csrf(request)
    with db(request).session() as session:
        patient = load_patient(session, pid)
    assessor = assessor_of(request)
    action = first(data, "action", "answer")
    try:
        steps = decode(assessor.kb, first(data, "steps"))
    except ValueError as exc:
        return render(request, "message.html.j2", status=400, title="Consultation",
                      message=f"{exc}; start the consultation again.")
    block = patient_block(patient, age_now(patient))
    if action == "save":
        with assessor.lock:
            consultation = Consultation(assessor, planner_of(request), block, steps)
            age = consultation.session.patient.get("age")
            findings = consultation.facts
        vid = save(request, pid, user, method="consultation", age=age if isinstance(age, int) else None,
                   findings=findings, notes=first(data, "notes")[:5000], seen_on=None)
        return RedirectResponse(f"/patients/{pid}/visits/{vid}", 303)
    with assessor.lock:
        consultation = Consultation(assessor, planner_of(request), block, steps)
        if action == "back":
            consultation.back()
            return consult_page(request, patient, consultation)
        question = consultation.session.next_question()
        if question is None:
            return consult_page(request, patient, consultation)
        if action == "skip":
            consultation.answer(Step({}, tuple(f.id for f in question.findings)))
            return consult_page(request, patient, consultation)
        step, problem = read_answer(question.findings, bool(question.members), data)
        if step is None:
            return consult_page(request, patient, consultation, error=problem, status=422)
        consultation.answer(step)
        return consult_page(request, patient, consultation)
