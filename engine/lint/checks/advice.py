"""Advice that contradicts itself: one rule telling the patient to stretch and to strengthen the
same muscle is almost always a slip between the two lists."""

from __future__ import annotations

from collections.abc import Iterator

from engine.lint.base import Check, Issue, LintContext, Subject


class StretchAndStrengthen(Check):
    id = "stretch_and_strengthen"
    description = "One rule both stretches and strengthens the same muscle."
    severity = "warning"

    def run(self, ctx: LintContext) -> Iterator[Issue]:
        for rule in ctx.kb.rules:
            both = [mid for mid in rule.stretch if mid in rule.strengthen]
            for mid in dict.fromkeys(both):
                yield self.issue(Subject("rule", rule.id), rule.location,
                                 f"rule '{rule.id}' both stretches and strengthens '{mid}'",
                                 "keep it in one list; if both are meant, say why with "
                                 "'lint: {stretch_and_strengthen: ...}'", "strengthen")
