"""The step-by-step consultation in the browser, driven by the interview's own planner.

HTTP has no memory between pages and the pages carry no JavaScript, so the answers so far travel
in the form itself (one hidden field, a JSON list of steps) and each request replays them into a
fresh `engine.session.Session`: the same planner, the same red-flag screen first, the same
`back` and `skip` as `imbalance interview`. Nothing is written until the clinician saves, and a
server restart in the middle loses nothing, since the page holds the whole state. The hidden
field comes back from the browser, so it is checked like any other input.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from clinic.assessing import Assessor
from engine.interview.planner import Planner
from engine.interview.session import Raised, Session
from engine.kb import model as m
from engine.kb.values import check_value

MAX_STEPS = 400


@dataclass(frozen=True)
class Step:
    """One page answered: values for the findings it settled, and those skipped (not known)."""

    values: dict[str, Any]
    unknown: tuple[str, ...] = ()


def encode(steps: list[Step]) -> str:
    return json.dumps([[s.values, list(s.unknown)] for s in steps], separators=(",", ":"))


def decode(kb: m.KnowledgeBase, text: str) -> list[Step]:
    """The steps in a posted form; ValueError when they are not ours."""
    if not text:
        return []
    try:
        raw = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError("the consultation state is damaged") from None
    if not isinstance(raw, list) or len(raw) > MAX_STEPS:
        raise ValueError("the consultation state is damaged")
    steps = []
    for item in raw:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], dict)
                and isinstance(item[1], list)):
            raise ValueError("the consultation state is damaged")
        values, unknown = item
        for fid, value in values.items():
            finding = kb.findings.get(fid)
            if finding is None or check_value(finding, value):
                raise ValueError(f"the consultation state has a bad answer for '{fid}'")
        if not all(isinstance(fid, str) and fid in kb.findings for fid in unknown):
            raise ValueError("the consultation state names an unknown finding")
        steps.append(Step(dict(values), tuple(unknown)))
    return steps


class Consultation:
    """A session rebuilt from the steps so far. Use it under the assessor's lock."""

    def __init__(self, assessor: Assessor, planner: Planner, patient: dict[str, Any],
                 steps: list[Step]) -> None:
        self.assessor = assessor
        self.steps = list(steps)
        self.session = Session.start(assessor.kb, assessor.reasoner, planner)
        self.session.patient.update({k: v for k, v in patient.items() if v is not None})
        self.raised: list[Raised] = []
        for step in steps:
            self.session.next_question()  # as the terminal does: the planner sees each page asked
            self.raised = self.session.answer_many(step.values, step.unknown)

    def answer(self, step: Step) -> list[Raised]:
        self.session.next_question()
        self.raised = self.session.answer_many(step.values, step.unknown)
        self.steps.append(step)
        return self.raised

    def back(self) -> None:
        """Drop the last page's answers: rebuilt without them, its question comes again."""
        if self.steps:
            self.steps.pop()
            fresh = Consultation(self.assessor, self.session.planner, self.session.patient, self.steps)
            self.session, self.raised = fresh.session, []

    @property
    def facts(self) -> dict[str, Any]:
        return dict(self.session.findings)

    @property
    def skipped(self) -> list[str]:
        return sorted(self.session.skipped)


def read_answer(question_findings: tuple[m.Finding, ...], checklist: bool,
                data: dict[str, list[str]]) -> tuple[Step | None, str]:
    """The posted answer to the page's question, or (None, message) when it does not fit."""
    from clinic.forms import PREFIX, _value

    def get(name: str) -> str:
        return str((data.get(name) or [""])[-1]).strip()

    values: dict[str, Any] = {}
    if checklist:  # ticked items yes (with a side), the rest no, as on the terminal
        for finding in question_findings:
            text = get(PREFIX + finding.id)
            try:
                values[finding.id] = _value(finding, text) if text else False
            except ValueError as exc:
                return None, f"{finding.label}: {exc}."
        return Step(values), ""
    finding = question_findings[0]
    text = get(PREFIX + finding.id)
    if not text:
        return None, f"{finding.label}: choose an answer, or press 'Not known' to skip it."
    try:
        values[finding.id] = _value(finding, text)
    except ValueError as exc:
        return None, f"{finding.label}: {exc}."
    return Step(values), ""
