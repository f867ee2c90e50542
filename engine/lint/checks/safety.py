"""Safety warnings about layers: a clinic may switch off a shipped red-flag rule (with a reason,
which the loader requires), but never quietly. Lint warns, and every output of `assess`, `report`
and `batch` announces it (engine.assessment, engine.wording.safety_notices). The warning has no
subject, so `lint:` on an entry cannot silence it."""

from __future__ import annotations

from collections.abc import Iterator

from engine.authoring.rule_analysis import as_literal, premises
from engine.inference.safety import REFERRAL_URGENCIES
from engine.kb import model as m
from engine.lint.base import Check, Issue, LintContext, Subject


class DisabledRedFlagRule(Check):
    id = "disabled_red_flag_rule"
    description = ("A layer switches off a red-flag rule: allowed with a reason, always warned about "
                   "and announced in every output.")
    severity = "warning"

    def run(self, ctx: LintContext) -> Iterator[Issue]:
        for off in ctx.kb.disabled:
            if not off.red_flag:
                continue
            yield self.issue(None, off.location,
                             f"red-flag rule '{off.rule}' ({off.red_flag}) is switched off: "
                             f"{off.reason}",
                             "keep red-flag rules on; if the clinic screens this flag another way, "
                             "add that rule in your layer", "rule")


class WithheldAdvice(Check):
    id = "withheld_advice"
    description = ("An advice rule that fires only with a red flag calling for referral gives "
                   "exercise or other advice the safety policy always withholds.")
    severity = "warning"

    def run(self, ctx: LintContext) -> Iterator[Issue]:
        kb = ctx.kb
        always_refer = {cid for cid, c in kb.conclusions.items() if c.kind == "red_flag" and all(
            (r.urgency or c.urgency) in REFERRAL_URGENCIES for r in kb.rules_concluding(cid))}
        for rule in kb.rules:
            literals = [lit for lit in map(as_literal, premises(rule.when)) if lit is not None]
            flags = [lit.leaf.conclusion for lit in literals if lit.positive and isinstance(
                lit.leaf, m.Concluded) and lit.leaf.conclusion in always_refer]
            if not flags:
                continue
            given = [*(f"stretch {x}" for x in rule.stretch),
                     *(f"strengthen {x}" for x in rule.strengthen),
                     *(x for x in rule.recommend if x in kb.recommendations
                       and kb.recommendations[x].kind not in m.REFERRAL_KINDS)]
            if given:
                yield self.issue(Subject("rule", rule.id), rule.location,
                                 f"rule '{rule.id}' fires only with red flag '{flags[0]}', which "
                                 f"calls for referral, so the safety policy always withholds "
                                 f"{', '.join(given)}",
                                 "give only referral or safety_net advice here", "then")
