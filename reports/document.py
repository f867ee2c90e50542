"""The content of a case report as plain data, built once and rendered as HTML or markdown.

Both formats read the same `ReportDocument`, so the markdown can never say something the HTML
does not. Everything here comes from the assessment and its reasoning graph (through
`engine.explain.Explainer`); the renderers only lay it out. Sources are numbered in reading
order, the way a clinician expects a references list to work.

The document's parts (here and in reports/reasoning.py, summary.py, svg.py) are NamedTuples,
not frozen dataclasses: a report start defines some thirty of them, and a dataclass compiles
generated source for its __init__, __eq__, __hash__ and __repr__ at import (about 0.5 ms a
class); a NamedTuple class costs a fifth of that. They are immutable records either way.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any, NamedTuple

import networkx as nx

from engine.errors import InputError
from engine.explain.explainer import (
    Explainer,
)
from engine.explain.graph import CONCLUSION, FINDING, FIRING, case_graph, nodes_of, premises_of
from engine.inference.assessment import Assessment, Reached
from engine.inference.plan import PHASE_LABEL, phase_rank
from engine.inference.reasoner import Reasoner
from engine.kb import model as m
from engine.wording import (
    DISCLAIMER,
    TRIAGE_TEXT,
    answer_text,
    banner_headline,
    certainty_word,
    finding_phrase,
    safety_notices,
    show_value,
    startback_line,
)
from reports.reasoning import (
    Citations,
    HowItem,
    Reference,
    RuleRef,
    WhatIfItem,
    WhyNotItem,
    how_item,
    what_if_item,
    why_not_item,
)
from reports.summary import SIDE_WORD, Summary, build_summary

TITLE = "Muscle imbalance assessment"
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


class FindingRow(NamedTuple):
    id: str
    label: str
    value: str
    used: bool


class FindingGroup(NamedTuple):
    name: str
    rows: tuple[FindingRow, ...]


class UnknownRow(NamedTuple):
    id: str
    label: str
    question: str
    needed_for: tuple[str, ...]  # labels of what the open rules would conclude
    screening: bool  # read by an open red-flag rule


class ConclusionItem(NamedTuple):
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


class MuscleRow(NamedTuple):
    id: str
    label: str
    region: str
    action: str  # Stretch | Strengthen
    reasons: tuple[str, ...]


class AdviceItem(NamedTuple):
    text: str
    referral: bool
    reasons: tuple[str, ...]
    refs: tuple[int, ...]
    phase_rank: int = 0  # -1 act now, 0 general advice, then the phases in order
    phase_label: str = "General advice"
    side: str = ""
    avoid: str = ""


class FiringRow(NamedTuple):
    """One firing of the reasoning graph in words: premises -> rule -> conclusion."""

    rule: RuleRef
    premises: tuple[str, ...]
    concludes: str
    contribution: float
    red: bool


class GraphSummary(NamedTuple):
    findings: int
    firings: int
    conclusions: int


class ReportDocument(NamedTuple):
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


def build_document(result: Assessment, reasoner: Reasoner, generated: str,
                   graph: nx.DiGraph | None = None) -> ReportDocument:
    """Assemble every section of the report from one assessment and its reasoning graph."""
    kb = result.kb
    graph = graph if graph is not None else case_graph(result)
    explainer = Explainer(result, reasoner, graph)
    cite = Citations(kb)
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
    reached_all = (*result.red_flags, *result.conditions, *result.causes)
    hows = tuple(how_item(support, cite) for reached in reached_all
                 if (support := explainer.how(reached.id)) is not None)
    why_nots = tuple(why_not_item(why.conclusion, why.certainty, why.near_misses, kb, cite)
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
        what_ifs=tuple(what_if_item(w) for w in explainer.what_if()),
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
             cite: Citations) -> tuple[tuple[str, tuple[RuleRef, ...]], ...]:
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


def _advice(result: Assessment, cite: Citations) -> tuple[AdviceItem, ...]:
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


def _firings(graph: nx.DiGraph, kb: m.KnowledgeBase, cite: Citations) -> tuple[FiringRow, ...]:
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


