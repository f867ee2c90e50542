"""The patient handout of a visit: the sheet `imbalance handout` writes, as it was given.

Each assessment stores its handout when it is made (migration 0004), so the handout of an old
visit is the sheet the patient took home, not one re-made with today's knowledge base. An
assessment stored before 0004 has none: if the server runs the KB version it was made with, the
engine is deterministic, so the sheet made now from the visit's stored findings is the one it
would have given; it is stored then and shown from the database ever after. With another KB
version no such sheet can be made honestly, and the page says so and offers re-assessment.
With a red flag the sheet holds only the referral and the safety-net (reports/handout.py).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from clinic import audit, store
from clinic.models import Assessment
from clinic.pages import current_user, db, render
from clinic.routes.patients import load_patient
from clinic.routes.visits import assessor_of, patient_block
from clinic.security import REPORT_CSP

router = APIRouter()


@router.get("/patients/{pid}/visits/{vid}/handout")
def handout(request: Request, pid: int, vid: int, assessment: int = 0,
            user: str = Depends(current_user)) -> Response:
    assessor = assessor_of(request)
    with db(request).session() as session:
        patient = load_patient(session, pid)
        visit = store.visit_of(session, pid, vid)
        if visit is None or not visit.assessments:
            raise HTTPException(404)
        chosen: Assessment = next((a for a in visit.assessments if a.id == assessment),
                                  visit.assessments[-1])
        audit.record(session, user, "read", pid, f"visit {vid} handout (assessment {chosen.id})")
        html = chosen.handout_html
        if html is None and chosen.kb_version == assessor.version:
            case = assessor.case(patient_block(patient, visit.age), visit.findings, f"visit {vid}")
            html = chosen.handout_html = assessor.handout(case)
            audit.record(session, user, "write", pid,
                         f"stored the handout of assessment {chosen.id} ({chosen.kb_version})")
        if html is None:
            return render(request, "message.html.j2", status=404, title="No handout kept",
                          message=(f"This assessment was made with {chosen.kb_version}, before the "
                                   "clinic kept handouts, and the server now runs "
                                   f"{assessor.version}, so the sheet the patient was given cannot "
                                   "be shown. Re-assess the visit from its page to make a new "
                                   "handout (the earlier assessment is kept)."))
    return HTMLResponse(html, headers={"Content-Security-Policy": REPORT_CSP})
