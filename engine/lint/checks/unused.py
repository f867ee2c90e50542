"""Vocabulary nobody uses: findings no rule reads, muscles, recommendations and sources no rule
(or recommendation) names. Rules a clinic layer disabled still count as users: the entries are
part of the shipped design, not dead weight."""

from __future__ import annotations

from collections.abc import Iterator

from engine.lint.base import Check, Issue, LintContext, Subject


class UnusedFinding(Check):
    id = "unused_finding"
    description = "A finding no rule uses (patient details such as age and sex are exempt)."
    severity = "warning"

    def run(self, ctx: LintContext) -> Iterator[Issue]:
        used = {fid for rule in ctx.all_rules for fid in rule.findings_used()}
        for finding in ctx.kb.findings.values():
            if finding.id not in used and finding.category != "patient":
                yield self.issue(Subject("finding", finding.id), finding.location,
                                 f"finding '{finding.id}' is used by no rule",
                                 "use it in a rule's 'when', or remove it")


class UnusedMuscle(Check):
    id = "unused_muscle"
    description = "A muscle no rule stretches or strengthens."
    severity = "warning"

    def run(self, ctx: LintContext) -> Iterator[Issue]:
        used = {mid for rule in ctx.all_rules for mid in (*rule.stretch, *rule.strengthen)}
        for muscle in ctx.kb.muscles.values():
            if muscle.id not in used:
                yield self.issue(Subject("muscle", muscle.id), muscle.location,
                                 f"muscle '{muscle.id}' is stretched or strengthened by no rule",
                                 "name it under a rule's 'stretch' or 'strengthen', or remove it")


class UnusedRecommendation(Check):
    id = "unused_recommendation"
    description = "A recommendation no rule recommends."
    severity = "warning"

    def run(self, ctx: LintContext) -> Iterator[Issue]:
        used = {rid for rule in ctx.all_rules for rid in rule.recommend}
        for rec in ctx.kb.recommendations.values():
            if rec.id not in used:
                yield self.issue(Subject("recommendation", rec.id), rec.location,
                                 f"recommendation '{rec.id}' is recommended by no rule",
                                 "name it under a rule's 'recommend', or remove it")


class UnusedSource(Check):
    id = "unused_source"
    description = "A source no rule or recommendation cites."
    severity = "warning"

    def run(self, ctx: LintContext) -> Iterator[Issue]:
        cited = {ref for rule in ctx.all_rules for ref in rule.sources}
        cited |= {ref for rec in ctx.kb.recommendations.values() for ref in rec.sources}
        for source in ctx.kb.sources.values():
            if source.id not in cited and not (source.file and source.file in cited):
                yield self.issue(Subject("source", source.id), source.location,
                                 f"source '{source.id}' is cited by no rule or recommendation",
                                 "cite it under a rule's 'sources', or remove it")
