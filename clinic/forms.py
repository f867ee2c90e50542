"""The intake form, generated from the KB's vocabulary, and reading it back into findings.

Every finding starts as *not asked*, which the case-file contract keeps apart from *no*: an
unanswered question is simply left out of the findings. Findings that the KB groups into a
checklist (a red-flag screen, the body chart, a test battery) are shown as one tick group, as a
clinician would tick them on paper; the group has its own "asked" switch, so unticked items
become *no* only when the clinician says the whole group was asked. Sided findings take left,
right or both; numbers carry their unit and range. Reading the form never raises: every problem
becomes a message keyed by the field's name, and the form is shown again with it marked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from engine.interview.answers import parse_answer
from engine.kb import model as m

CATEGORY_ORDER = ("symptom", "history", "examination", "activity")
CATEGORY_LABELS = {"symptom": "Symptoms", "history": "History", "examination": "Examination and posture",
                   "activity": "Activity and training"}
SIDES = (("left", "Left"), ("right", "Right"), ("bilateral", "Both sides"), ("yes", "Yes, side not known"))
PREFIX = "f."
GROUP_PREFIX = "asked."


@dataclass(frozen=True)
class Group:
    """A tick group (a checklist) or the loose findings of a category."""

    id: str
    label: str
    question: str
    findings: tuple[m.Finding, ...]
    checklist: bool


@dataclass(frozen=True)
class Section:
    category: str
    label: str
    groups: tuple[Group, ...]


def _label_for(category: str) -> str:
    return CATEGORY_LABELS.get(category, category.replace("_", " ").capitalize())


_CACHE: dict[int, tuple[m.KnowledgeBase, tuple[Section, ...]]] = {}


def _build(kb: m.KnowledgeBase) -> tuple[Section, ...]:
    in_checklist: dict[str, str] = {}
    for checklist in kb.checklists.values():
        for fid in checklist.findings:
            in_checklist.setdefault(fid, checklist.id)
    categories = [c for c in CATEGORY_ORDER if any(f.category == c for f in kb.findings.values())]
    categories += sorted({f.category for f in kb.findings.values()} - {*categories, "patient"})
    sections = []
    for category in categories:
        groups: list[Group] = []
        for checklist in kb.checklists.values():
            members = tuple(kb.findings[fid] for fid in checklist.findings
                            if in_checklist[fid] == checklist.id and fid in kb.findings)
            if members and kb.findings[members[0].id].category == category:
                groups.append(Group(checklist.id, checklist.label, checklist.question, members, True))
        loose = tuple(f for f in kb.findings.values() if f.category == category and f.id not in in_checklist)
        if loose:
            label = f"Other {_label_for(category).lower()}"
            groups.append(Group(f"other_{category}", label, "", loose, False))
        sections.append(Section(category, _label_for(category), tuple(groups)))
    return tuple(sections)


def sections(kb: m.KnowledgeBase) -> tuple[Section, ...]:
    """The form's layout: categories in clinical order, tick groups first in each."""
    cached = _CACHE.get(id(kb))
    if cached is None or cached[0] is not kb:
        cached = _CACHE[id(kb)] = (kb, _build(kb))
    return cached[1]


@dataclass
class Intake:
    """What the form holds: the raw text of each field (to show it again), and what it means."""

    raw: dict[str, str] = field(default_factory=dict)
    findings: dict[str, Any] = field(default_factory=dict)
    age: int | None = None
    seen_on: dt.date | None = None
    notes: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def _value(finding: m.Finding, text: str) -> Any:
    """The finding's value for a field's text; ValueError with a hint when it does not fit."""
    if finding.type == "sided" and text == "yes":
        return True
    return parse_answer(finding, text)


def read_intake(kb: m.KnowledgeBase, data: dict[str, list[str]]) -> Intake:
    """Read a posted intake form; fills `errors` instead of raising."""
    def get(name: str) -> str:
        values = data.get(name) or [""]
        return str(values[-1]).strip()

    intake = Intake(notes=get("notes")[:5000])
    for name in ("age", "seen_on"):
        intake.raw[name] = get(name)
    if intake.raw["age"]:
        try:
            intake.age = int(_value(kb.findings["age"], intake.raw["age"]))
        except (ValueError, KeyError):
            intake.errors["age"] = "Age: give a whole number of years from 0 to 120, or leave it empty."
    try:
        seen = intake.raw["seen_on"]
        intake.seen_on = dt.date.fromisoformat(seen) if seen else dt.date.today()
    except ValueError:
        intake.errors["seen_on"] = "Date seen: give a date as YYYY-MM-DD, e.g. 2026-11-29."
    for section in sections(kb):
        for group in section.groups:
            asked = get(GROUP_PREFIX + group.id) == "yes" if group.checklist else False
            if group.checklist:
                intake.raw[GROUP_PREFIX + group.id] = "yes" if asked else ""
            for finding in group.findings:
                name = PREFIX + finding.id
                text = get(name)
                intake.raw[name] = text
                if text == "":
                    if asked:
                        intake.findings[finding.id] = False
                    continue
                try:
                    intake.findings[finding.id] = _value(finding, text)
                except ValueError as exc:
                    intake.errors[name] = f"{finding.label}: {exc}."
    return intake
