"""Rules subsumed by another rule with the same conclusion.

Rule B is subsumed by rule A when both conclude the same thing, every premise of A is implied by
a premise of B (so whenever B fires, A fires too), and B is not more certain than A. A more
specific rule that is not more certain is almost always a slip: either it should say more
(a higher certainty), or it repeats A. Implication between leaves uses the engine's predicates:
`age: {gt: 60}` implies `age: {gt: 50}`, `leg_pain_below_knee: left` implies `... : true`.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.authoring.rule_analysis import Space, as_literal, premises, shape
from engine.kb import model as m
from engine.lint.base import Check, Issue, LintContext, Subject


def implies(stronger: m.Cond, weaker: m.Cond, space: Space) -> bool:
    """Whenever `stronger` holds, `weaker` holds (a sound, not complete, judgement)."""
    if shape(stronger) == shape(weaker):
        return True
    strong_lit, weak_lit = as_literal(stronger), as_literal(weaker)
    if strong_lit is not None and weak_lit is not None:
        return space.implies(strong_lit, weak_lit)
    if isinstance(stronger, m.AnyOf):
        return all(implies(item, weaker, space) for item in stronger.items)
    if isinstance(weaker, m.AnyOf):
        return any(implies(stronger, item, space) for item in weaker.items)
    return False


def rule_implies(specific: m.Rule, general: m.Rule, space: Space) -> bool:
    """Every premise of `general` follows from some premise of `specific`."""
    mine = premises(specific.when)
    return all(any(implies(q, p, space) for q in mine) for p in premises(general.when))


class Subsumed(Check):
    id = "subsumed"
    description = ("A rule is subsumed by another rule with the same conclusion: its premises include "
                   "all of the other's and its certainty is not higher.")
    severity = "warning"

    def run(self, ctx: LintContext) -> Iterator[Issue]:
        space = Space(ctx.kb)
        groups: dict[str, list[m.Rule]] = {}
        for rule in ctx.kb.rules:
            if rule.concludes and ctx.can_fire(rule):
                groups.setdefault(rule.concludes, []).append(rule)
        for rules in groups.values():
            for specific in rules:
                for general in rules:
                    if general is specific or specific.certainty > general.certainty:
                        continue
                    if not rule_implies(specific, general, space):
                        continue
                    same = rule_implies(general, specific, space)
                    if same and specific.certainty == general.certainty and \
                            specific.order < general.order:
                        continue  # the later of two identical rules is the one reported
                    yield self._issue(specific, general, same)
                    break

    def _issue(self, specific: m.Rule, general: m.Rule, same: bool) -> Issue:
        if same:
            message = (f"rule '{specific.id}' repeats rule '{general.id}' ({general.location}): the "
                       f"same premises conclude '{specific.concludes}'")
            if specific.certainty != general.certainty:
                message += f" with certainty {specific.certainty:g} (vs {general.certainty:g})"
            hint = "merge the two rules into one"
        else:
            message = (f"rule '{specific.id}' is subsumed by rule '{general.id}' ({general.location}):"
                       f" it also concludes '{specific.concludes}', whenever it fires '{general.id}' "
                       f"fires too, and its certainty {specific.certainty:g} is not higher than "
                       f"{general.certainty:g}")
            hint = (f"raise its certainty above {general.certainty:g} or merge the two; if it "
                    f"deliberately adds support on top of '{general.id}', say so with "
                    "'lint: {subsumed: why}'")
        return self.issue(Subject("rule", specific.id), specific.location, message, hint, "when")
