"""Conclusions no rule can reach, and rules that read a conclusion before all its support is in."""

from __future__ import annotations

from collections.abc import Iterator

from engine.kb import model as m
from engine.lint.base import Check, Issue, LintContext, Subject, kind_word


class UnreachableConclusion(Check):
    id = "unreachable_conclusion"
    description = ("A red flag, condition or cause that no rule can reach (no rule concludes it, or "
                   "every rule that does can never fire or is disabled).")
    severity = "warning"

    def run(self, ctx: LintContext) -> Iterator[Issue]:
        for conclusion in ctx.kb.conclusions.values():
            if ctx.ceiling.get(conclusion.id, 0.0) > 0:
                continue
            what = f"{kind_word(conclusion.kind)} '{conclusion.id}'"
            producers = ctx.kb.rules_concluding(conclusion.id)
            switched_off = [(rid, rule) for rid, rule in ctx.loaded.disabled_rules.items()
                            if rule.concludes == conclusion.id]
            if producers:
                names = ", ".join(f"'{r.id}'" for r in producers)
                why = f"the rules concluding it can never fire ({names})"
            elif switched_off:
                names = ", ".join(f"'{rid}'" for rid, _ in switched_off)
                why = f"every rule concluding it is disabled by a layer ({names})"
            else:
                why = "no rule concludes it"
            yield self.issue(Subject("conclusion", conclusion.id), conclusion.location,
                             f"{what} can never be reached: {why}",
                             f"add a rule with '{conclusion.kind}: {conclusion.id}', or remove it")


class BandOrder(Check):
    id = "band_order"
    description = ("A rule reads 'concluded: X' but X is concluded in a later band, so the rule fires "
                   "before all of X's support is in.")
    severity = "warning"

    def run(self, ctx: LintContext) -> Iterator[Issue]:
        for rule in ctx.kb.rules:
            here = m.BANDS.index(rule.band)
            for leaf in m.leaves(rule.when):
                if not isinstance(leaf, m.Concluded):
                    continue
                late = [p for p in ctx.kb.rules_concluding(leaf.conclusion)
                        if m.BANDS.index(p.band) > here]
                if late:
                    band = max((p.band for p in late), key=m.BANDS.index)
                    yield self.issue(
                        Subject("rule", rule.id), leaf.location,
                        f"rule '{rule.id}' (band {rule.band}) reads '{leaf.conclusion}', which rule "
                        f"'{late[0].id}' concludes in the later band '{band}'; it fires before "
                        "that support is in", f"move rule '{rule.id}' to band '{band}'", "concluded")
