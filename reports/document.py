"""The content of a case report as plain data, built once and rendered as HTML or markdown.

Both formats read the same `ReportDocument`, so the markdown can never say something the HTML
does not. Everything here comes from the assessment and its reasoning graph (through
`engine.explain.Explainer`); the renderers only lay it out. Sources are numbered in reading
order, the way a clinician expects a references list to work.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import networkx as nx

from engine.errors import InputError
from engine.explain.explainer import (
    CONTRADICTED,
    SATISFIED,
    UNKNOWN,
    Explainer,
    NearMiss,
    Premise,
    Support,
    WhatIf,
)
from engine.explain.graph import CONCLUSION, FINDING, FIRING, case_graph, nodes_of, premises_of
from engine.inference.assessment import Assessment, Reached
from engine.inference.plan import PHASE_LABEL, phase_rank
from engine.inference.reasoner import Reasoner
from engine.kb import model as m
from engine.kb.references import resolve_source
from engine.wording import (
    DISCLAIMER,
    TRIAGE_TEXT,
    answer_text,
    banner_headline,
    certainty_word,
    finding_phrase,
    lower_first,
    safety_notices,
    show_value,
    startback_line,
)
from reports.summary import SIDE_WORD, Summary, build_summary

TITLE = "Muscle imbalance assessment"
KIND_WORD = {"red_flag": "red flag", "condition": "condition", "cause": "cause"}
STATUS_WORD = {SATISFIED: "satisfied", UNKNOWN: "unknown", CONTRADICTED: "contradicted"}
CATEGORY_WORD = {"symptom": "Symptoms", "history": "History", "examination": "Examination",
                 "activity": "Activities", "patient": "Patient"}
PATIENT_WORD = {"id": "Patient ID", "name": "Name", "age": "Age", "sex": "Sex", "notes": "Notes"}


def report_time(now: datetime | None = None) -> str:
    """When the report was made: SOURCE_DATE_EPOCH when set (reproducible bytes), else now."""
    raw = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if raw:
        try:
            moment = datetime.fromtimestamp(int(raw), tz=timezone.utc)
        except (ValueError, OverflowError, OSError):
            raise InputError(f"SOURCE_DATE_EPOCH must be a whole number of seconds, not {raw!r}",
                             key="SOURCE_DATE_EPOCH", suggestion="unset it or use e.g. "
                             "SOURCE_DATE_EPOCH=$(date +%s)") from None
    else:
        moment = now or datetime.now(tz=timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


# --- the document --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    number: int
    id: str
    citation: str
    level: str


@dataclass(frozen=True)
class RuleRef:
    """A rule as cited in the report: id, title and its reference numbers."""

    id: str
    title: str
    refs: tuple[int, ...]
    evidence: str


@dataclass(frozen=True)
class FindingRow:
    id: str
    label: str
    value: str
    used: bool


@dataclass(frozen=True)
class FindingGroup:
    name: str
    rows: tuple[FindingRow, ...]


@dataclass(frozen=True)
class UnknownRow:
    id: str
    label: str
    question: str
    needed_for: tuple[str, ...]  # labels of what the open rules would conclude
    screening: bool  # read by an open red-flag rule


@dataclass(frozen=True)
class ConclusionItem:
    id: str
    label: str
    kind: str
    certainty: float
    percent: int
    word: str
    urgency: str
    action: str
    description: str
    evidence: tuple[str, ...]
    rules: tuple[RuleRef, ...]


@dataclass(frozen=True)
class MuscleRow:
    id: str
    label: str
    region: str
    action: str  # Stretch | Strengthen
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class AdviceItem:
    text: str
    referral: bool
    reasons: tuple[str, ...]
    refs: tuple[int, ...]
    phase_rank: int = 0  # -1 act now, 0 general advice, then the phases in order
    phase_label: str = "General advice"
    side: str = ""
    avoid: str = ""


@dataclass(frozen=True)
class HowStep:
    rule: RuleRef
    because: str
    findings: tuple[str, ...]
    used: tuple[tuple[HowItem, float], ...]
    rule_certainty: float
    premise_cf: float
    contribution: float
    certainty_after: float


@dataclass(frozen=True)
class HowItem:
    id: str
    label: str
    kind: str
    certainty: float
    word: str
    urgency: str
    steps: tuple[HowStep, ...]


@dataclass(frozen=True)
class PremiseRow:
    text: str
    status: str
    status_word: str
    note: str


@dataclass(frozen=True)
class MissRow:
    rule: RuleRef
    summary: str
    premises: tuple[PremiseRow, ...]


@dataclass(frozen=True)
class WhyNotItem:
    id: str
    label: str
    kind: str
    certainty: float
    summary: str
    misses: tuple[MissRow, ...]


@dataclass(frozen=True)
class GainRow:
    """A red flag or condition an answer would add: kind, label and a short detail."""

    kind: str
    label: str
    detail: str


@dataclass(frozen=True)
class WhatIfItem:
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


@dataclass(frozen=True)
class FiringRow:
    """One firing of the reasoning graph in words: premises -> rule -> conclusion."""

    rule: RuleRef
    premises: tuple[str, ...]
    concludes: str
    contribution: float
    red: bool


@dataclass(frozen=True)
class GraphSummary:
    findings: int
    firings: int
    conclusions: int


@dataclass(frozen=True)
class ReportDocument:
    """Every section of a case report, ready to lay out."""

    title: str
    generated: str
    case_name: str
    description: str
    patient: tuple[tuple[str, str], ...]
    patient_id: str
    triage: str
    triage_text: str
    banner: str
    red_flags: tuple[ConclusionItem, ...]
    findings: tuple[FindingGroup, ...]
    unknowns: tuple[UnknownRow, ...]
    conditions: tuple[ConclusionItem, ...]
    causes: tuple[ConclusionItem, ...]
    muscles: tuple[MuscleRow, ...]
    recommendations: tuple[AdviceItem, ...]
    graph: nx.DiGraph
    graph_summary: GraphSummary
    firings: tuple[FiringRow, ...]
    hows: tuple[HowItem, ...]
    why_nots: tuple[WhyNotItem, ...]
    what_ifs: tuple[WhatIfItem, ...]
    references: tuple[Reference, ...]
    kb_version: str
    disabled: tuple[tuple[str, str], ...]
    notices: tuple[str, ...]  # withheld advice, switched-off red-flag rules (wording.safety_notices)
    lowered: tuple[tuple[str, tuple[RuleRef, ...]], ...]  # (label, rules against) not reached
    fired_count: int
    disclaimer: str
    kb: m.KnowledgeBase
    summary: Summary
    risk_group: str = ""  # the STarT Back line once all nine items are answered


# --- building it ---------------------------------------------------------------------------------


class _Citations:
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


def build_document(result: Assessment, reasoner: Reasoner, generated: str,
                   graph: nx.DiGraph | None = None) -> ReportDocument:
    """Assemble every section of the report from one assessment and its reasoning graph."""
    kb = result.kb
    graph = graph if graph is not None else case_graph(result)
    explainer = Explainer(result, reasoner, graph)
    cite = _Citations(kb)
    facts = result.case.facts

    def item(reached: Reached) -> ConclusionItem:
        rules = tuple(cite.rule(r) for rid in reached.rules if (r := kb.rule(rid)) is not None)
        evidence = tuple(finding_phrase(kb, fid, facts.get(fid)) for fid in reached.evidence)
        return ConclusionItem(reached.id, reached.conclusion.label, reached.conclusion.kind,
                              reached.certainty, round(reached.certainty * 100),
                              certainty_word(reached.certainty), reached.urgency, reached.action,
                              reached.conclusion.description, evidence, rules)

    red_flags = tuple(item(r) for r in result.red_flags)
    conditions = tuple(item(r) for r in result.conditions)
    causes = tuple(item(r) for r in result.causes)
    recommendations = _advice(result, cite)
    firings = _firings(graph, kb, cite)
    hows = tuple(_how(support, cite) for reached in (*result.red_flags, *result.conditions, *result.causes)
                 if (support := explainer.how(reached.id)) is not None)
    why_nots = tuple(_why_not(why.conclusion, why.certainty, why.near_misses, kb, cite)
                     for why in explainer.strongest_near_misses())
    patient = result.case.patient
    return ReportDocument(
        title=TITLE,
        generated=generated,
        case_name=result.case.source,
        description=result.case.description,
        patient=tuple((PATIENT_WORD.get(k, k), _patient_value(k, v)) for k, v in patient.items()),
        patient_id=result.case.patient_id,
        triage=result.triage,
        triage_text=TRIAGE_TEXT[result.triage],
        risk_group=startback_line(result.risk_group) if result.risk_group else "",
        banner=banner_headline(result.triage),
        red_flags=red_flags,
        findings=_finding_groups(result, graph),
        unknowns=_unknowns(explainer),
        conditions=conditions,
        causes=causes,
        muscles=_muscles(result),
        recommendations=recommendations,
        graph=graph,
        graph_summary=GraphSummary(*(sum(1 for _, d in graph.nodes(data=True) if d["kind"] == kind)
                                     for kind in (FINDING, FIRING, CONCLUSION))),
        firings=firings,
        hows=hows,
        why_nots=why_nots,
        what_ifs=tuple(_what_if(w) for w in explainer.what_if()),
        references=tuple(cite.entries),
        kb_version=kb.version,
        disabled=tuple((d.rule, d.reason) for d in kb.disabled),
        notices=tuple(safety_notices(result)),
        lowered=_lowered(result, graph, cite),
        fired_count=len(result.events),
        disclaimer=DISCLAIMER,
        kb=kb,
        summary=build_summary(result),
    )


def _lowered(result: Assessment, graph: nx.DiGraph,
             cite: _Citations) -> tuple[tuple[str, tuple[RuleRef, ...]], ...]:
    """Conclusions that evidence against took to 0 or below, with the rules that lowered them:
    the report says why they are missing rather than leaving them out silently."""
    kb = result.kb
    out = []
    for node in nodes_of(graph, CONCLUSION):
        data = graph.nodes[node]
        if data["certainty"] > 0:
            continue
        against = tuple(cite.rule(e.rule) for e in result.events
                        if e.concluded == data["ref"] and e.rule.against)
        out.append((kb.conclusions[data["ref"]].label, against))
    return tuple(out)


def _patient_value(key: str, value: Any) -> str:
    if key == "age":
        return f"{show_value(value)} years"
    return str(value)


def _finding_groups(result: Assessment, graph: nx.DiGraph) -> tuple[FindingGroup, ...]:
    kb = result.kb
    groups: dict[str, list[FindingRow]] = {}
    for fid, value in result.case.findings.items():
        finding = kb.findings[fid]
        row = FindingRow(fid, finding.label, answer_text(finding, value), f"{FINDING}:{fid}" in graph)
        groups.setdefault(finding.category, []).append(row)
    order = [c for c in m.CATEGORIES if c in groups] + sorted(c for c in groups if c not in m.CATEGORIES)
    return tuple(FindingGroup(CATEGORY_WORD.get(c, c.title()), tuple(groups[c])) for c in order)


def _unknowns(explainer: Explainer) -> tuple[UnknownRow, ...]:
    kb = explainer.kb
    rows = []
    for finding, rule_ids in explainer.relevant_unknowns():
        rules = [r for rid in rule_ids if (r := kb.rule(rid)) is not None]
        needed = tuple(dict.fromkeys(kb.conclusions[r.concludes].label if r.concludes else r.title
                                     for r in rules))
        rows.append(UnknownRow(finding.id, finding.label, finding.question, needed,
                               any(r.band == "red_flag" for r in rules)))
    rows.sort(key=lambda r: (not r.screening, r.label))
    return tuple(rows)


def _muscles(result: Assessment) -> tuple[MuscleRow, ...]:
    kb = result.kb
    rows = []
    for action, chosen, attr in (("Stretch", result.stretch, "stretch"),
                                 ("Strengthen", result.strengthen, "strengthen")):
        for mid in chosen:
            muscle = kb.muscles[mid]
            reasons = tuple(dict.fromkeys(
                kb.conclusions[e.rule.concludes].label if e.rule.concludes else e.rule.title
                for e in result.events if mid in getattr(e.rule, attr)))
            rows.append(MuscleRow(mid, muscle.label, muscle.region, action, reasons))
    return tuple(rows)


def _advice(result: Assessment, cite: _Citations) -> tuple[AdviceItem, ...]:
    kb = result.kb
    out = []
    for advice in result.recommendations:
        referral = advice.kind == "referral"
        rules = [r for rid in advice.rules if (r := kb.rule(rid)) is not None]
        reasons = tuple(dict.fromkeys(kb.conclusions[r.concludes].label if r.concludes else r.title
                                      for r in rules))
        rec = kb.recommendations.get(advice.id)
        refs = cite.cite(rec.sources) if rec is not None else ()
        rank = -1 if referral else phase_rank(advice.phase)
        label = "Act now" if referral else PHASE_LABEL[advice.phase] if advice.phase else "General advice"
        out.append(AdviceItem(advice.text, referral, reasons, refs, rank, label,
                              SIDE_WORD.get(advice.side or "", ""), advice.avoid))
    return tuple(out)


def _firings(graph: nx.DiGraph, kb: m.KnowledgeBase, cite: _Citations) -> tuple[FiringRow, ...]:
    rows = []
    for node in nodes_of(graph, FIRING):
        data = graph.nodes[node]
        rule = kb.rule(data["ref"])
        if rule is None:  # pragma: no cover - the graph is built from this KB
            continue
        findings, used = premises_of(graph, node)
        premises = [finding_phrase(kb, graph.nodes[f]["ref"], graph.nodes[f]["value"]) for f in findings]
        premises += [f"{graph.nodes[u]['label']} ({graph.edges[u, node]['certainty']:.2f})" for u in used]
        targets = list(graph.successors(node))
        rows.append(FiringRow(cite.rule(rule), tuple(premises),
                              graph.nodes[targets[0]]["label"] if targets else "",
                              float(data["contribution"]), bool(data["red"])))
    return tuple(rows)


def _how(support: Support, cite: _Citations) -> HowItem:
    steps = []
    for step in support.steps:
        steps.append(HowStep(
            rule=cite.rule(step.rule), because=step.rule.because,
            findings=tuple(finding_phrase(cite.kb, fid, value) for fid, value in step.findings),
            used=tuple((_how(inner, cite), cf) for inner, cf in step.used),
            rule_certainty=step.rule.certainty, premise_cf=step.premise_cf,
            contribution=step.contribution, certainty_after=step.certainty_after))
    conclusion = support.conclusion
    return HowItem(conclusion.id, conclusion.label, conclusion.kind, support.certainty,
                   certainty_word(support.certainty), support.urgency, tuple(steps))


def _why_not(conclusion: m.Conclusion, certainty: float, misses: tuple[NearMiss, ...],
             kb: m.KnowledgeBase, cite: _Citations, limit: int = 2) -> WhyNotItem:
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


def _what_if(w: WhatIf) -> WhatIfItem:
    gains = tuple(GainRow(g.conclusion.kind, g.conclusion.label,
                          g.urgency if g.conclusion.kind == "red_flag"
                          else f"{certainty_word(g.certainty)}, {g.certainty:.2f}") for g in w.gains)
    red = any(g.conclusion.kind == "red_flag" for g in w.gains)
    return WhatIfItem(lower_first(w.finding.label), w.finding.question, w.answer, w.triage_before,
                      w.triage_after, gains, red)
