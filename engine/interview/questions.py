"""What the planner answers with: the next question, why a finding is asked, and the weights.

Plain data, no logic: `engine.interview.planner` (built once per KB) and
`engine.interview.survey` (one consultation's state) both speak it, and so do the console, the
clinic's consultation page and the interview's words in `reports/`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.kb import model as m

INF = float("inf")

# How much an open rule matters, by what it would add: a red flag by its urgency, then
# conditions, causes, and advice-only rules. An explicit table so the ranking can be read.
STAKE_WEIGHT: dict[str, float] = {
    "emergency": 4.0,
    "urgent": 3.0,
    "soon": 2.0,
    "condition": 1.0,
    "cause": 0.6,
    "advice": 0.3,
}
# What a question costs to answer: an examination test takes the clinician's time, a question
# to the patient hardly any. A score is value per unit of effort, so gates asked of the patient
# (is there knee pain?) come before the tests that only matter once the gate is open.
QUESTION_COST: dict[str, float] = {
    "symptom": 1.0,
    "history": 1.0,
    "patient": 1.0,
    "activity": 1.0,
    "examination": 1.5,
}
CORE_KINDS = ("red_flag", "condition")  # what a default interview settles before it stops
ADVICE_GAIN = 0.5  # an advice-only rule adds muscles or recommendations, not certainty
DOWNSTREAM_SHARE = 0.5  # a rule also matters for the open rules that read its conclusion

SCREEN = "screen"
GOAL = "goal"
PATIENT = "patient"  # the patient details asked first at the console (age, sex)


@dataclass(frozen=True)
class Question:
    """The next question: which finding, in which phase, and for which rules."""

    finding: m.Finding
    phase: str  # SCREEN or GOAL
    topic: str  # in the screen: the red flag being screened for
    flag: str  # and its conclusion id
    score: float
    rules: tuple[str, ...]  # open rules whose outcome this answer can change
    remaining: int  # findings that could still matter, this one included (an upper bound)
    members: tuple[m.Finding, ...] = ()  # a checklist's members asked together (lead included)
    checklist: m.Checklist | None = None

    @property
    def findings(self) -> tuple[m.Finding, ...]:
        """What one answer to this question settles: the checklist's members, or the finding."""
        return self.members or (self.finding,)


@dataclass(frozen=True)
class Dependent:
    """An open rule that depends on a finding, and what the answer would do to it."""

    rule: m.Rule
    conclusion: m.Conclusion | None
    certainty_now: float  # the conclusion's certainty before this answer
    stake: float
    fires_on: tuple[Any, ...]  # answers that make the rule fire at once
    rules_out_on: tuple[Any, ...]  # answers that rule it out
    also_needs: tuple[str, ...]  # other unanswered findings it still depends on


@dataclass(frozen=True)
class Why:
    """Why a finding is asked: the open rules it can decide and those already settled."""

    finding: m.Finding
    phase: str
    open: tuple[Dependent, ...]
    settled: tuple[m.Rule, ...]


@dataclass(frozen=True)
class Probe:
    value: Any
    weight: float


__all__ = ["ADVICE_GAIN", "CORE_KINDS", "DOWNSTREAM_SHARE", "GOAL", "INF", "PATIENT", "QUESTION_COST",
           "SCREEN", "STAKE_WEIGHT", "Dependent", "Probe", "Question", "Why"]
