"""The clinician's answer in brief: which side, the few actions that matter, when to review.

The engine's full advice list is long and in firing order. Issue 14 asks for the answer first:
  * `side_of` reads the side of a conclusion from the sided findings behind it;
  * `order_advice` drops exercises a programme already contains and sorts by phase;
  * `build_plan` picks at most five actions, most important first;
  * `build_review` says when to see the patient again and why.

The plan is computed from the recommendations the assessment already holds, never from the
rules directly, so whatever gate filters the recommendations (the red-flag safety policy) also
filters the plan: there is one gate. Importance is ours to define, so it is hand-written here:
referral first, then the strength of the evidence for the advice, then the certainty of the
conclusion that called for it, then the phase (settling pain comes before returning to sport).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from engine.kb import model as m
from engine.record import Record

PLAN_SIZE = 5
EVIDENCE_RANK = {"high": 0, "moderate": 1, "low": 2, "expert_opinion": 3, "": 4}
PHASE_LABEL = {"": "First", "settle": "Settle the pain", "restore": "Restore movement and strength",
               "build": "Build load", "return": "Return to sport"}
# Seed 002: a corrective muscle-imbalance programme is reviewed about every six months.
MUSCLE_BALANCE_WEEKS = 26
REFERRAL_REVIEW = {
    "emergency": m.Review(0, "The patient goes to hospital now. Plan follow-up only after the "
                             "emergency assessment, and restart exercise advice once a serious "
                             "cause has been ruled out."),
    "urgent": m.Review(1, "Check within a week that the urgent medical assessment has happened and "
                          "act on its result; no exercise programme until then."),
    "soon": m.Review(2, "Re-check the warning signs within 2 weeks (watchful waiting), sooner if "
                        "they get worse."),
}
NO_CONDITION_REVIEW = m.Review(6, "No condition to follow up: a safety-net review if the pain has "
                                  "not settled by then, sooner if new symptoms appear.")


def merge_sides(values: Iterable[Any]) -> str | None:
    """One side for a set of sided answers: left or right alone, bilateral when both or either
    answer says bilateral; a bare 'yes' (side not recorded) tells nothing."""
    sides = {v for v in values if v in m.SIDES}
    if not sides:
        return None
    if sides in ({"left"}, {"right"}):
        return sides.pop()
    return "bilateral"


def side_of(kb: m.KnowledgeBase, facts: dict[str, Any], evidence: Iterable[str]) -> str | None:
    """The side of a conclusion from the sided findings in its evidence."""
    return merge_sides(facts.get(fid) for fid in evidence
                       if fid in kb.findings and kb.findings[fid].type == "sided")


class Advice(Record):
    """One recommendation as given to this patient.

    `weight` is the certainty of the strongest premise behind it (1.0 for a referral), used
    only to rank the plan; `side` is set for exercises done for the painful side."""

    id: str
    text: str
    rules: tuple[str, ...]
    phase: str = ""
    side: str | None = None
    avoid: str = ""
    evidence: str = ""
    weight: float = 0.0
    referral: bool = False
    kind: str = "education"  # the schema's kind; the safety policy keys on it (engine.inference.safety)
    plain: str = ""  # the patient's words for the handout (the recommendation's `plain`), if any

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "kind": self.kind, "phase": self.phase or None,
                "side": self.side, "avoid": self.avoid or None}


def importance(advice: Advice) -> tuple[int, int, float, int]:
    """Sort key: referral, evidence grade, certainty of what called for it, phase."""
    return (0 if advice.referral else 1, EVIDENCE_RANK.get(advice.evidence, 4), -advice.weight,
            phase_rank(advice.phase))


def phase_rank(phase: str) -> int:
    return 0 if not phase else 1 + m.PHASES.index(phase)


def order_advice(kb: m.KnowledgeBase, advice: list[Advice]) -> tuple[Advice, ...]:
    """Drop what a listed programme already contains, then group by phase (referral and general
    advice first), keeping firing order inside a phase."""
    given = {a.id for a in advice}
    inside = {sub for a in advice if a.id in kb.recommendations
              for sub in kb.recommendations[a.id].subsumes if sub in given}
    kept = [a for a in advice if a.id not in inside]
    kept.sort(key=lambda a: (0 if a.referral else 1, phase_rank(a.phase)))
    return tuple(kept)


def build_plan(advice: Iterable[Advice]) -> tuple[Advice, ...]:
    """At most five actions, most important first. Built from the (already safety-filtered)
    recommendations: with a referral-level red flag they hold the referral and no exercise."""
    return tuple(sorted(advice, key=importance)[:PLAN_SIZE])


def build_review(kb: m.KnowledgeBase, triage: str, conditions: Iterable[Any],
                 muscle_programme: bool) -> m.Review:
    """When to see the patient again and why.

    A red flag sets the review (sooner, or none while the patient is referred). Otherwise the
    earliest review among the conditions with advice (certainty 0.25 or more, the advice rules'
    threshold); a muscle-imbalance programme is then reviewed every six months (seed 002)."""
    if triage in REFERRAL_REVIEW:
        return REFERRAL_REVIEW[triage]
    reviews = [c.conclusion.review for c in conditions
               if c.certainty >= 0.25 and c.conclusion.review is not None]
    if not reviews:
        if muscle_programme:
            return m.Review(MUSCLE_BALANCE_WEEKS, "Reassess muscle balance: a corrective "
                            "programme is reviewed about every six months (seed 002).")
        return NO_CONDITION_REVIEW
    first = min(reviews, key=lambda r: r.after_weeks)
    why = first.why
    if muscle_programme and first.after_weeks < MUSCLE_BALANCE_WEEKS:
        why += " Then reassess muscle balance about every six months (seed 002)."
    return m.Review(first.after_weeks, why)
