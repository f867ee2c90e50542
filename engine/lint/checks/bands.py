"""Priority bands and red flags: red flags fire first and always say what to do now.

Bands order firing (red_flag, condition, cause, advice). A red-flag rule outside the red_flag
band could be outranked by ordinary conclusions; a red flag raised at an urgency for which it
has no action shows the wrong instruction (the most urgent one written).
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.kb import model as m
from engine.lint.base import Check, Issue, LintContext, Subject, kind_word


class RedFlagBand(Check):
    id = "red_flag_band"
    description = ("A red-flag rule sits outside the red_flag band, or a rule in the red_flag band "
                   "does not conclude a red flag.")
    severity = "error"

    def run(self, ctx: LintContext) -> Iterator[Issue]:
        for rule in ctx.kb.rules:
            if rule.kind == "red_flag" and rule.band != "red_flag":
                yield self.issue(Subject("rule", rule.id), rule.location,
                                 f"red-flag rule '{rule.id}' is in band '{rule.band}'; red flags "
                                 "must be judged before everything else", "write 'band: red_flag'",
                                 "band")
            elif rule.band == "red_flag" and rule.kind != "red_flag":
                what = (f"concludes {kind_word(rule.kind)} '{rule.concludes}'" if rule.kind
                        else "concludes no red flag")
                yield self.issue(Subject("rule", rule.id), rule.location,
                                 f"rule '{rule.id}' is in band 'red_flag' but {what}",
                                 f"write 'band: {rule.kind or 'advice'}'", "band")


class RedFlagAction(Check):
    id = "red_flag_action"
    description = ("A red-flag rule raises an urgency for which its red flag has no action, so the "
                   "instruction for another urgency would be shown.")
    severity = "warning"

    def run(self, ctx: LintContext) -> Iterator[Issue]:
        for rule in ctx.kb.rules:
            flag = ctx.kb.conclusions.get(rule.concludes)
            if rule.kind != "red_flag" or flag is None or flag.kind != "red_flag":
                continue
            urgency = rule.urgency or flag.urgency
            written = [level for level, _ in flag.actions]
            if urgency in written or not written:
                continue
            shown = next((level for level in m.URGENCIES if level in written), written[0])
            yield self.issue(Subject("rule", rule.id), rule.location,
                             f"rule '{rule.id}' raises '{flag.id}' as {urgency}, but '{flag.id}' has "
                             f"no action for {urgency}; the {shown} action would be shown",
                             f"add '{urgency}: ...' under 'action' of red flag '{flag.id}' at "
                             f"{flag.location}", "urgency")


class BandMismatch(Check):
    id = "band_mismatch"
    description = "A rule concluding a condition or cause sits in another band than its kind."
    severity = "warning"

    def run(self, ctx: LintContext) -> Iterator[Issue]:
        for rule in ctx.kb.rules:
            if rule.kind in ("condition", "cause") and rule.band != rule.kind:
                yield self.issue(Subject("rule", rule.id), rule.location,
                                 f"rule '{rule.id}' concludes {rule.kind} '{rule.concludes}' but is in "
                                 f"band '{rule.band}'", f"write 'band: {rule.kind}'", "band")
