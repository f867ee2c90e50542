"""A rule's life: reviewed often enough, and not relied on once deprecated.

Rules carry `status` (experimental, stable, deprecated), `reviewed_by` and `reviewed_on`, as
Sigma rules carry status and dates: clinical evidence moves, and a rule nobody has looked at
for years is a risk to patients. The review interval is `[lint] review_interval_days` in
`imbalance.toml` (default two years, the longest NICE leaves a guideline unchecked) or
`kb lint --review-days N`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from engine.lint.base import Check, Issue, LintContext, Subject


class OverdueReview(Check):
    id = "overdue_review"
    description = "A rule whose last review (reviewed_on) is older than the review interval."
    severity = "warning"

    def run(self, ctx: LintContext) -> Iterator[Issue]:
        for rule in ctx.kb.rules:
            if not rule.reviewed_on or rule.status == "deprecated":
                continue
            age = (ctx.today - dt.date.fromisoformat(rule.reviewed_on)).days
            if age > ctx.review_days:
                who = f" by {rule.reviewed_by}" if rule.reviewed_by else ""
                yield self.issue(Subject("rule", rule.id), rule.where("reviewed_on"),
                                 f"rule '{rule.id}' was last reviewed{who} on {rule.reviewed_on}, "
                                 f"{age} days ago (the interval is {ctx.review_days} days)",
                                 "check it against current guidance, then update 'reviewed_on' "
                                 "and 'reviewed_by'", "reviewed_on")


class DeprecatedInUse(Check):
    id = "deprecated_in_use"
    description = ("A deprecated rule still relied on: a case test expects it to fire, or another "
                   "rule reads a conclusion only it reaches.")
    severity = "warning"

    def run(self, ctx: LintContext) -> Iterator[Issue]:
        kb = ctx.kb
        for rule in kb.rules:
            if rule.status != "deprecated":
                continue
            subject = Subject("rule", rule.id)
            for test in kb.tests:
                if rule.id in test.expect.fires:
                    yield self.issue(subject, test.where("expect.fires"),
                                     f"deprecated rule '{rule.id}' is still expected to fire by "
                                     f"case test '{test.name}'",
                                     "test its replacement instead, or switch the rule off", "fires")
            if not rule.concludes:
                continue
            others = [r for r in kb.rules if r.concludes == rule.concludes and r.id != rule.id
                      and r.status != "deprecated" and not r.against]
            if others:
                continue
            for reader in kb.rules:
                if rule.concludes in reader.conclusions_used() and reader.status != "deprecated":
                    yield self.issue(subject, reader.location,
                                     f"rule '{reader.id}' reads '{rule.concludes}', which only "
                                     f"deprecated rule '{rule.id}' concludes",
                                     "give it a replacement rule before the deprecated one goes",
                                     "concluded")
