"""The answer first: what a busy clinician reads in ten seconds, for every output format.

Triage, red flags with what to do now, the top conditions with side and certainty, the plan
and the review date (issue 14). The HTML report's first screen (and first printed page), the
markdown and the terminal text all lead with this same `Summary`, so they never disagree.
"""

from __future__ import annotations

from typing import NamedTuple

from engine.inference.assessment import Assessment
from engine.inference.plan import PHASE_LABEL
from engine.inference.screen import Screen
from engine.kb import model as m
from engine.wording import (
    SCREEN_HEAD,
    SCREEN_UNKNOWN,
    TRIAGE_TEXT,
    banner_headline,
    certainty_word,
    finding_phrase,
    screen_do_now,
    screen_groups,
    screen_notice,
    screen_pointer,
)

TOP_CONDITIONS = 3
SIDE_WORD = {"left": "left", "right": "right", "bilateral": "both sides"}
# Banner colour by urgency: red only where the patient must be referred (emergency, urgent).
TONE = {"emergency": "red", "urgent": "red", "soon": "amber", "routine": "green"}
HEADLINE = {
    "emergency": "RED FLAG, EMERGENCY: act now, before any exercise treatment",
    "urgent": "RED FLAG, URGENT: refer for medical assessment before any exercise treatment",
    "soon": "Warning sign, low level of concern: review with a doctor soon and safety-net",
    "routine": "Routine: no red flag found in the answers given",
}


class FlagLine(NamedTuple):
    label: str
    urgency: str
    action: str
    because: tuple[str, ...]


class ConditionLine(NamedTuple):
    id: str
    label: str
    side: str  # "right", "both sides", or "" when no sided finding is behind it
    certainty: float
    word: str


class PlanLine(NamedTuple):
    id: str
    text: str
    side: str
    phase: str  # its phase in words, "" for referral and general advice
    referral: bool
    flag: str = ""  # a referral's red flag, by its label


class ScreenLine(NamedTuple):
    """One unscreened red flag and the questions, in words, that could still raise it."""

    flag: str
    urgency: str
    questions: tuple[str, ...]


class ScreenNotice(NamedTuple):
    """The incomplete red-flag screen (engine.inference.screen), as every format shows it."""

    head: str
    lines: tuple[ScreenLine, ...]
    unknown: str  # "Unknown is not 'no'."
    do_now: str
    text: str  # the whole notice as one paragraph (terminal, FHIR, CDS detail)
    pointer: str = ""  # '5 more red flags not screened, 1 found could be more urgent'


class Summary(NamedTuple):
    triage: str
    tone: str
    headline: str
    triage_text: str
    banner: str
    patient: str
    red_flags: tuple[FlagLine, ...]
    conditions: tuple[ConditionLine, ...]
    more_conditions: int
    plan: tuple[PlanLine, ...]
    avoid: tuple[str, ...]
    review_weeks: float
    review_when: str
    review_why: str
    screen: ScreenNotice | None = None  # None when the red-flag screen is complete

    @property
    def review_head(self) -> str:
        """'Review in 6 weeks' or 'No routine review'."""
        return f"Review {self.review_when}" if self.review_weeks > 0 else "No routine review"


def patient_line(result: Assessment) -> str:
    """'P-0042, 45 y, female', empty when nothing is known."""
    patient = result.case.patient
    parts = [str(patient["id"])] if patient.get("id") else []
    if patient.get("age") is not None:
        parts.append(f"{patient['age']} y")
    if patient.get("sex"):
        parts.append(str(patient["sex"]))
    return ", ".join(parts)


def review_when(weeks: float) -> str:
    if weeks <= 0:
        return "no routine review"
    if weeks == 1:
        return "within 1 week"
    if weeks >= 26 and weeks % 26 == 0:
        months = int(weeks // 26 * 6)
        return f"in {months} months"
    return f"in {weeks:g} weeks"


def plan_avoid(result: Assessment) -> tuple[str, ...]:
    """What to avoid while following the plan (the full list is the JSON's `avoid`)."""
    return tuple(dict.fromkeys(a.avoid for a in result.plan if a.avoid))


def screen_summary(kb: m.KnowledgeBase, screen: Screen, triage: str) -> ScreenNotice | None:
    """The notice for an incomplete red-flag screen, or None when it is complete: the one
    assembly the report, the CDS card and the clinic's pages (from a stored result) all show."""
    if screen.complete:
        return None
    lines = tuple(ScreenLine(label, urgency, tuple(questions))
                  for label, urgency, questions in screen_groups(kb, screen))
    return ScreenNotice(SCREEN_HEAD, lines, SCREEN_UNKNOWN, screen_do_now(triage),
                        screen_notice(kb, screen, triage), screen_pointer(screen))


def build_summary(result: Assessment) -> Summary:
    kb = result.kb
    facts = result.case.facts
    flags = tuple(FlagLine(f.conclusion.label, f.urgency, f.action,
                           tuple(finding_phrase(kb, fid, facts.get(fid)) for fid in f.evidence))
                  for f in result.red_flags)
    conditions = tuple(ConditionLine(c.id, c.conclusion.label, SIDE_WORD.get(c.side or "", ""),
                                     c.certainty, certainty_word(c.certainty))
                       for c in result.conditions[:TOP_CONDITIONS])
    flag_label = {f"act_now_{f.id}": f.conclusion.label for f in result.red_flags}
    plan = tuple(PlanLine(a.id, a.text, SIDE_WORD.get(a.side or "", ""),
                          PHASE_LABEL[a.phase] if a.phase else "", a.referral,
                          flag_label.get(a.id, ""))
                 for a in result.plan)
    review = result.review
    return Summary(result.triage, TONE[result.triage], HEADLINE[result.triage],
                   TRIAGE_TEXT[result.triage], banner_headline(result.triage), patient_line(result),
                   flags, conditions, max(0, len(result.conditions) - TOP_CONDITIONS), plan,
                   plan_avoid(result),
                   review.after_weeks, review_when(review.after_weeks), review.why,
                   screen_summary(result.kb, result.screen, result.triage))
