"""Where knowledge comes from: every rule cites a source and an evidence level, and claims no
more certainty of evidence than its sources give."""

from __future__ import annotations

from collections.abc import Iterator

from engine.kb import model as m
from engine.kb.references import resolve_source
from engine.lint.base import Check, Issue, LintContext, Subject

LEVELS = ", ".join(m.EVIDENCE_LEVELS)


class NoSource(Check):
    id = "no_source"
    description = "A rule cites no source."
    severity = "error"

    def run(self, ctx: LintContext) -> Iterator[Issue]:
        for rule in ctx.kb.rules:
            if not rule.sources:
                yield self.issue(Subject("rule", rule.id), rule.location,
                                 f"rule '{rule.id}' cites no source",
                                 "add 'sources: [id]' naming an entry of a sources file "
                                 "(or a seed's file name)", "sources")


class NoEvidence(Check):
    id = "no_evidence"
    description = "A rule gives no evidence level."
    severity = "error"

    def run(self, ctx: LintContext) -> Iterator[Issue]:
        for rule in ctx.kb.rules:
            if not rule.evidence:
                yield self.issue(Subject("rule", rule.id), rule.location,
                                 f"rule '{rule.id}' gives no evidence level",
                                 f"add 'evidence: ' with one of {LEVELS}", "evidence")


class EvidenceLevel(Check):
    id = "evidence_level"
    description = ("A rule or recommendation claims a stronger evidence level than the strongest "
                   "of its sources.")
    severity = "warning"

    def run(self, ctx: LintContext) -> Iterator[Issue]:
        kb = ctx.kb
        items: list[tuple[Subject, m.Location, tuple[str, ...], str]] = [
            (Subject("rule", r.id), r.location, r.sources, r.evidence) for r in kb.rules]
        items += [(Subject("recommendation", r.id), r.location, r.sources, r.evidence)
                  for r in kb.recommendations.values()]
        for subject, where, refs, claimed in items:
            sources = [s for s in (resolve_source(kb, ref) for ref in refs) if s is not None]
            if not claimed or not sources:
                continue
            best = min(sources, key=lambda s: m.EVIDENCE_LEVELS.index(s.level))
            if m.EVIDENCE_LEVELS.index(claimed) < m.EVIDENCE_LEVELS.index(best.level):
                yield self.issue(subject, where,
                                 f"{subject} claims evidence '{claimed}' but its strongest source, "
                                 f"'{best.id}', is '{best.level}'",
                                 f"lower it to 'evidence: {best.level}' or cite a stronger source",
                                 "evidence")
