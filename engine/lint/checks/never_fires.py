"""Rules, and parts of rules, that can never hold for any patient.

A contradiction (`fever: true` and `fever: false` in one `all`), an impossible comparison
(`age: {gt: 60, lt: 40}`, `pain_duration_weeks: {gt: 200}` on a 0..104 range) or a
`concluded:` premise no rule can satisfy makes a rule dead weight that looks like knowledge.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.authoring.rule_analysis import Literal, can_hold
from engine.kb import model as m
from engine.kb.limits import alternatives
from engine.lint.base import Check, Issue, LintContext, Subject


def explain_clash(clash: tuple[Literal, ...], ctx: LintContext) -> str:
    """Why these literals cannot hold together, in the author's own terms."""
    if len(clash) == 1:
        lit = clash[0]
        leaf = lit.leaf
        if isinstance(leaf, m.Concluded):
            return _why_not_concluded(leaf, lit.positive, ctx)
        finding = ctx.kb.findings.get(leaf.finding)
        takes = f"; '{leaf.finding}' takes {finding.accepts()}" if finding else ""
        return f"'{lit.describe()}' can never hold{takes}"
    *first, last = clash
    earlier = ", ".join(f"'{lit.describe()}' (line {lit.location.line})" for lit in first)
    return f"{earlier} and '{last.describe()}' cannot both hold"


def _why_not_concluded(leaf: m.Concluded, positive: bool, ctx: LintContext) -> str:
    if not positive:
        return f"'not concluded: {leaf.conclusion}' can never hold"
    top = ctx.ceiling.get(leaf.conclusion, 0.0)
    producers = [r for r in ctx.kb.rules if r.concludes == leaf.conclusion]
    if top <= 0 and not producers:
        off = [rid for rid, rule in ctx.loaded.disabled_rules.items()
               if rule.concludes == leaf.conclusion]
        if off:
            names = ", ".join(f"'{rid}'" for rid in off)
            return f"'{leaf.conclusion}' is concluded only by rules a layer disabled ({names})"
        return f"no rule concludes '{leaf.conclusion}'"
    if top <= 0:
        names = ", ".join(f"'{r.id}'" for r in producers)
        return f"'{leaf.conclusion}' is concluded only by rules that can never fire ({names})"
    return (f"'{leaf.conclusion}' reaches at most certainty {top:.2f}, below min_certainty "
            f"{leaf.min_certainty:g}")


def clash_location(rule: m.Rule, clash: tuple[Literal, ...]) -> m.Location:
    return clash[-1].location if clash else rule.location


class NeverFires(Check):
    id = "never_fires"
    description = ("A rule can never fire: contradictory premises, an impossible comparison, or a "
                   "'concluded:' premise no rule can satisfy.")
    severity = "error"

    def run(self, ctx: LintContext) -> Iterator[Issue]:
        for rule in ctx.kb.rules:
            possible, clash = ctx.firing[rule.id]
            if possible:
                continue
            why = explain_clash(clash, ctx)
            count = alternatives(rule.when)
            if count > 1:
                why = f"none of its {count} alternatives can hold; the first fails: {why}"
            yield self.issue(Subject("rule", rule.id), clash_location(rule, clash),
                             f"rule '{rule.id}' can never fire: {why}",
                             "every premise of a rule must be able to hold at the same time", "when")


class DeadBranch(Check):
    id = "dead_branch"
    description = "One alternative of an 'any:' can never hold, so it only looks like knowledge."
    severity = "warning"

    def run(self, ctx: LintContext) -> Iterator[Issue]:
        for rule in ctx.kb.rules:
            if not ctx.can_fire(rule):
                continue  # never_fires already says so
            for node in _positive_any_nodes(rule.when):
                for item in node.items:
                    narrowed = _substitute(rule.when, node, item)
                    possible, clash = can_hold(narrowed, ctx.space)
                    if possible:
                        continue
                    yield self.issue(
                        Subject("rule", rule.id), item.location,
                        f"this alternative of 'any' in rule '{rule.id}' can never hold: "
                        f"{explain_clash(clash, ctx)}", "remove it or correct its values", "any")


def _positive_any_nodes(cond: m.Cond, negated: bool = False) -> Iterator[m.AnyOf]:
    if isinstance(cond, m.Not):
        yield from _positive_any_nodes(cond.item, not negated)
        return
    if isinstance(cond, (m.Test, m.Concluded)):
        return
    if isinstance(cond, m.AnyOf) and not negated and len(cond.items) > 1:
        yield cond
    for item in cond.items:
        yield from _positive_any_nodes(item, negated)


def _substitute(cond: m.Cond, target: m.Cond, replacement: m.Cond) -> m.Cond:
    """The condition with the node `target` (by identity) replaced."""
    if cond is target:
        return replacement
    if isinstance(cond, m.Not):
        return m.Not(_substitute(cond.item, target, replacement), cond.location)
    if isinstance(cond, (m.Test, m.Concluded)):
        return cond
    items = tuple(_substitute(item, target, replacement) for item in cond.items)
    if isinstance(cond, m.AtLeast):
        return m.AtLeast(cond.count, items, cond.location)
    return type(cond)(items, cond.location)
