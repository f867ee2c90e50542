"""A visit's results: the report, re-assessment with a newer KB, and two visits compared."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from clinic import audit, compare, result_page, store
from clinic.models import Visit
from clinic.pages import current_user, db, form_with_csrf, render
from clinic.routes.patients import load_patient
from clinic.routes.visits import assessor_of, patient_block
from clinic.security import REPORT_CSP

router = APIRouter()


def _visit(session: Session, pid: int, vid: int) -> Visit:
    visit = store.visit_of(session, pid, vid)
    if visit is None or not visit.assessments:
        raise HTTPException(404)
    return visit


@router.get("/patients/{pid}/visits/{vid}")
def visit_page(request: Request, pid: int, vid: int, user: str = Depends(current_user)) -> Response:
    """Narrow reads and the cached rendering of what never changes (clinic/result_page.py); the
    login check has run and the audit row is written on every request."""
    kb = assessor_of(request).kb
    with db(request).session() as session:
        page = result_page.load(session, request.app.state.result_parts, kb, pid, vid)
        if page is None:
            raise HTTPException(404)
        audit.record(session, user, "read", pid, f"visit {vid} results")
    head = page.head
    return render(request, "visit.html.j2", title=f"{head.patient_name}: visit of {head.seen_on}",
                  patient={"id": head.patient_id, "name": head.patient_name}, visit=head,
                  assessment=page.assessments[-1], assessments=page.assessments, others=page.others,
                  parts=page.parts, kb_version=kb.version)


@router.get("/patients/{pid}/visits/{vid}/report")
def report(request: Request, pid: int, vid: int, assessment: int = 0,
           user: str = Depends(current_user)) -> Response:
    """The HTML report exactly as `imbalance report` wrote it when the visit was assessed."""
    with db(request).session() as session:
        found = result_page.stored_report(session, pid, vid, assessment)
        if found is None:
            raise HTTPException(404)
        chosen, html = found
        audit.record(session, user, "read", pid, f"visit {vid} report (assessment {chosen})")
    return HTMLResponse(html, headers={"Content-Security-Policy": REPORT_CSP})


@router.post("/patients/{pid}/visits/{vid}/reassess")
async def reassess(request: Request, pid: int, vid: int, user: str = Depends(current_user)) -> Response:
    """Assess the visit's findings again with the KB loaded now; the older assessment stays."""
    await form_with_csrf(request)
    assessor = assessor_of(request)
    with db(request).session() as session:
        patient = load_patient(session, pid)
        visit = _visit(session, pid, vid)
        case = assessor.case(patient_block(patient, visit.age), visit.findings, f"visit {vid}")
        store.add_assessment(session, visit, assessor.outcome(case), user)
        audit.record(session, user, "write", pid, f"re-assessed visit {vid} with {assessor.version}")
    return RedirectResponse(f"/patients/{pid}/visits/{vid}#changes", 303)


@router.get("/patients/{pid}/compare")
def compare_visits(request: Request, pid: int, a: int = 0, b: int = 0,
                   user: str = Depends(current_user)) -> Response:
    kb = assessor_of(request).kb
    with db(request).session() as session:
        patient = load_patient(session, pid)
        visits = [v for v in sorted(patient.visits, key=lambda v: (v.seen_on, v.id)) if v.assessments]
        if len(visits) < 2:
            return render(request, "message.html.j2", status=404, title="Compare visits",
                          message="This patient has fewer than two visits to compare.")
        by_id = {v.id: v for v in visits}
        first, second = by_id.get(a, visits[-2]), by_id.get(b, visits[-1])
        audit.record(session, user, "read", pid, f"compared visits {first.id} and {second.id}")
        parts = [compare.compare_findings(kb, first.findings, second.findings),
                 *compare.compare_results(first.assessments[-1].result, second.assessments[-1].result)]
        return render(request, "compare.html.j2", title=f"{patient.name}: compare visits",
                      patient=patient, first=first, second=second, parts=parts, visits=visits)
