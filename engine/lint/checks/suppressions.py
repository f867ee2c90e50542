"""Checks on the `lint:` mappings themselves: a switched-off check must exist, be switchable, and
still have something to silence (a stale suppression hides the next real problem)."""

from __future__ import annotations

from collections.abc import Iterator

from engine.kb.suggest import did_you_mean
from engine.lint.base import CHECKS, Check, Issue, LintContext


class BadSuppression(Check):
    id = "bad_suppression"
    description = "A 'lint:' mapping names a check that does not exist or cannot be switched off."
    severity = "error"
    after_others = True

    def run(self, ctx: LintContext) -> Iterator[Issue]:
        switchable = [cid for cid, check in CHECKS.items() if check.switchable()]
        for subject, item in ctx.subjects():
            for check_id, _reason in item.lint_off:
                check = CHECKS.get(check_id)
                if check is None:
                    yield self.issue(subject, item.location,
                                     f"{subject} switches off unknown lint check '{check_id}'",
                                     did_you_mean(check_id, switchable) or
                                     "run 'imbalance kb lint --list-checks' for the ids", check_id)
                elif not check.switchable():
                    yield self.issue(subject, item.location,
                                     f"{subject} switches off check '{check_id}', which cannot be "
                                     "switched off", "fix the problem instead", check_id)


class UnusedSuppression(Check):
    id = "unused_suppression"
    description = "A 'lint:' mapping switches off a check that finds nothing on that entry."
    severity = "warning"
    after_others = True

    def run(self, ctx: LintContext) -> Iterator[Issue]:
        raised = {(issue.subject, issue.check) for issue in ctx.raised}
        for subject, item in ctx.subjects():
            for check_id, _reason in item.lint_off:
                check = CHECKS.get(check_id)
                if check is None or not check.switchable() or (subject, check_id) in raised:
                    continue
                yield self.issue(subject, item.location,
                                 f"{subject} switches off '{check_id}', but that check finds nothing "
                                 "here", f"remove '{check_id}' from its 'lint:' mapping", check_id)
