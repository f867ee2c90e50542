"""The interview and the red-flag screen notice agree: an interview that asked everything ends
with a complete screen; one that skipped or stopped names exactly what is still unknown, at the
console and at the end of the clinic's consultation.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.inference.reasoner import Reasoner
from engine.interview.session import replay
from engine.kb.model import KnowledgeBase
from engine.kb.sites import site_findings
from tests.clinic_support import Clinic, consult_steps
from tests.conftest import run_cli
from tests.test_screen import _values


def _red_flag_findings(kb: KnowledgeBase) -> list[str]:
    return sorted({f for rule in kb.rules if rule.kind == "red_flag" for f in rule.findings_used()}
                  & set(kb.findings))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_after_an_interview_every_unscreened_flag_rests_on_a_skipped_question(
        kb: KnowledgeBase, reasoner: Reasoner, data: st.DataObject) -> None:
    """The interview goes on until no answer could change a red flag, except through a question
    the clinician skipped; so whatever the notice lists after it, each flag listed waits on at
    least one skipped question (its other questions are unknown too, and listed with it)."""
    pool = _red_flag_findings(kb)
    known = data.draw(st.lists(st.sampled_from(pool), unique=True, min_size=len(pool) // 2))
    patient = {fid: data.draw(_values(kb, fid)) for fid in known}
    done = replay(kb, reasoner, patient)
    facts = done.assessment.case.facts
    skipped = set(done.asked) - set(facts)
    for item in done.assessment.screen.unanswered:
        assert not set(item.findings) & set(facts), item  # an answered question is never listed
        assert set(item.findings) & skipped, (item, sorted(skipped))
    if set(pool) <= set(patient):  # nothing to skip: the interview screened everything
        assert done.assessment.screen.complete


def test_an_interview_that_answered_every_red_flag_question_is_screened(
        kb: KnowledgeBase, reasoner: Reasoner) -> None:
    patient = {fid: False for fid in _red_flag_findings(kb)} | {"low_back_pain": True, "age": 40,
                                                                "pain_duration_weeks": 3}
    done = replay(kb, reasoner, patient)
    assert done.assessment.triage == "routine" and done.assessment.screen.complete
    assert not site_findings(kb) & set(done.assessment.screen.findings)


def test_the_console_names_the_unasked_screen_when_stopped() -> None:
    # patient details skipped, low back pain on the body chart, then quit at the screen
    proc = run_cli("interview", stdin="\n\n\n1\nquit\n")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout[proc.stdout.index("Interview stopped"):]
    assert out.index("Triage: ROUTINE") < out.index("Red-flag screen incomplete: not asked about")
    assert "saddle anaesthesia" in out and "ask these questions before relying on ROUTINE" in out


def test_the_consultation_ends_with_the_skipped_screen(local: Clinic) -> None:
    clinic = local
    pid = clinic.new_patient()
    page = clinic.get(f"/patients/{pid}/consult").text
    for _ in range(150):  # skip every question: nothing is known at the end
        if "Consultation complete" in page:
            break
        steps = consult_steps(page)
        page = clinic.post(f"/patients/{pid}/consult", {"steps": steps, "action": "skip"}).text
    assert "Consultation complete" in page
    notice = page[page.index('id="red-flag-screen"'):]
    assert "Red-flag screen incomplete" in notice and "skipped, so they are not known" in notice
    assert "saddle anaesthesia" in notice and "before relying on ROUTINE" in notice
