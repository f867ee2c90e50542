"""The reasoning sections of a case report (HOW, WHY NOT, WHAT IF) as plain data, and the
numbered citations every section shares.

Split from `reports.document` so that module holds the report's shape and this one the
explanation's: both formats (HTML, markdown) and `imbalance explain` read these items, built
from `engine.explain.Explainer`. Sources are numbered in the order the reader meets them, the
way a clinician expects a references list to work.
"""

from __future__ import annotations

from typing import NamedTuple

from engine.explain.explainer import CONTRADICTED, SATISFIED, UNKNOWN, NearMiss, Premise, Support, WhatIf
from engine.kb import model as m
from engine.kb.references import resolve_source
from engine.wording import answer_text, certainty_word, finding_phrase, lower_first

KIND_WORD = {"red_flag": "red flag", "condition": "condition", "cause": "cause"}
STATUS_WORD = {SATISFIED: "satisfied", UNKNOWN: "unknown", CONTRADICTED: "contradicted"}


class Reference(NamedTuple):
    number: int
    id: str
    citation: str
    level: str


class RuleRef(NamedTuple):
    """A rule as cited in the report: id, title and its reference numbers."""

    id: str
    title: str
    refs: tuple[int, ...]
    evidence: str


class Citations:
    """Numbers sources in the order the reader meets them."""

    def __init__(self, kb: m.KnowledgeBase) -> None:
        self.kb = kb
        self.numbers: dict[str, int] = {}
        self.entries: list[Reference] = []

    def cite(self, refs: tuple[str, ...]) -> tuple[int, ...]:
        out: list[int] = []
        for ref in refs:
            source = resolve_source(self.kb, ref)
            key = source.id if source else ref
            if key not in self.numbers:
                self.numbers[key] = len(self.entries) + 1
                self.entries.append(Reference(self.numbers[key], key, source.citation if source else ref,
                                              source.level if source else ""))
            if self.numbers[key] not in out:
                out.append(self.numbers[key])
        return tuple(out)

    def rule(self, rule: m.Rule) -> RuleRef:
        return RuleRef(rule.id, rule.title, self.cite(rule.sources), rule.evidence)


class HowStep(NamedTuple):
    rule: RuleRef
    because: str
    findings: tuple[str, ...]
    used: tuple[tuple[HowItem, float], ...]
    rule_certainty: float
    premise_cf: float
    contribution: float
    certainty_after: float


class HowItem(NamedTuple):
    id: str
    label: str
    kind: str
    certainty: float
    word: str
    urgency: str
    steps: tuple[HowStep, ...]


class PremiseRow(NamedTuple):
    text: str
    status: str
    status_word: str
    note: str


class MissRow(NamedTuple):
    rule: RuleRef
    summary: str
    premises: tuple[PremiseRow, ...]


class WhyNotItem(NamedTuple):
    id: str
    label: str
    kind: str
    certainty: float
    summary: str
    misses: tuple[MissRow, ...]


class GainRow(NamedTuple):
    """A red flag or condition an answer would add: kind, label and a short detail."""

    kind: str
    label: str
    detail: str


class WhatIfItem(NamedTuple):
    finding: str
    question: str
    answer: str
    triage_before: str
    triage_after: str
    gains: tuple[GainRow, ...]
    red: bool

    @property
    def raises_triage(self) -> bool:
        return m.urgency_rank(self.triage_after) < m.urgency_rank(self.triage_before)

    @property
    def changes(self) -> tuple[str, ...]:
        """The changes in words: 'triage routine → urgent', 'adds red flag X (urgent)'."""
        out = [f"triage {self.triage_before} → {self.triage_after}"] if self.raises_triage else []
        out += [f"adds {KIND_WORD[g.kind]} {g.label} ({g.detail})" for g in self.gains]
        return tuple(out)


def how_item(support: Support, cite: Citations) -> HowItem:
    steps = []
    for step in support.steps:
        steps.append(HowStep(
            rule=cite.rule(step.rule), because=step.rule.because,
            findings=tuple(finding_phrase(cite.kb, fid, value) for fid, value in step.findings),
            used=tuple((how_item(inner, cite), cf) for inner, cf in step.used),
            rule_certainty=step.rule.certainty, premise_cf=step.premise_cf,
            contribution=step.contribution, certainty_after=step.certainty_after))
    conclusion = support.conclusion
    return HowItem(conclusion.id, conclusion.label, conclusion.kind, support.certainty,
                   certainty_word(support.certainty), support.urgency, tuple(steps))


def why_not_item(conclusion: m.Conclusion, certainty: float, misses: tuple[NearMiss, ...],
             kb: m.KnowledgeBase, cite: Citations, limit: int = 2) -> WhyNotItem:
    rows = []
    # the nearest rule, then any other rule that is still open and already partly met
    shown = [*misses[:1], *(m for m in misses[1:] if not m.blocked and m.count(SATISFIED))][:limit]
    for miss in shown:
        premises = []
        for premise in miss.premises:
            note = premise_note(kb, premise)
            premises.append(PremiseRow(premise.text, premise.status, STATUS_WORD[premise.status], note))
        rows.append(MissRow(cite.rule(miss.rule), miss_summary(miss), tuple(premises)))
    summary = (f"reached only weakly ({certainty:.2f}, {certainty_word(certainty)})" if certainty > 0
               else "not reached")
    return WhyNotItem(conclusion.id, conclusion.label, conclusion.kind, certainty, summary, tuple(rows))


def miss_summary(miss: NearMiss) -> str:
    """'2 of 3 premises satisfied, 1 unknown'."""
    total = len(miss.premises)
    parts = [f"{miss.count(SATISFIED)} of {total} premise{'s' if total != 1 else ''} satisfied"]
    if miss.count(UNKNOWN):
        parts.append(f"{miss.count(UNKNOWN)} unknown")
    if miss.count(CONTRADICTED):
        parts.append(f"{miss.count(CONTRADICTED)} contradicted")
    return ", ".join(parts)


def premise_note(kb: m.KnowledgeBase, premise: Premise) -> str:
    """What the case said about a premise: 'answer: yes', 'not asked', or per finding."""
    read = [fid for fid, _ in premise.given] + list(premise.unknown)
    if len(read) == 1:
        if premise.unknown:
            return "not asked"
        return f"answer: {answer_text(kb.findings.get(read[0]), premise.given[0][1])}"
    parts = [f"{kb.findings[fid].label if fid in kb.findings else fid}: "
             f"{answer_text(kb.findings.get(fid), value)}" for fid, value in premise.given]
    if premise.unknown:
        parts.append("not asked: " + ", ".join(kb.findings[f].label if f in kb.findings else f
                                                 for f in premise.unknown))
    return "; ".join(parts)


def what_if_item(w: WhatIf) -> WhatIfItem:
    gains = tuple(GainRow(g.conclusion.kind, g.conclusion.label,
                          g.urgency if g.conclusion.kind == "red_flag"
                          else f"{certainty_word(g.certainty)}, {g.certainty:.2f}") for g in w.gains)
    red = any(g.conclusion.kind == "red_flag" for g in w.gains)
    return WhatIfItem(lower_first(w.finding.label), w.finding.question, w.answer, w.triage_before,
                      w.triage_after, gains, red)
