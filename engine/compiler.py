"""The only module that knows experta: compile a loaded KB into a KnowledgeEngine subclass.

`compile_kb` is a pure function of the KB. Each KB rule becomes one experta `Rule` whose
left-hand side is built from the rule's condition tree (negation pushed down to the leaves so
that an unknown finding never satisfies `not`; `at_least N of` expanded into its combinations).
Firing order comes from salience: red flags first, then conditions, causes and advice; inside a
band, a rule that reads a conclusion fires after every rule that can conclude it. Firings are
recorded as events from the agenda's activations, not parsed from logs.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any

from experta import AND, NOT, OR, Fact, KnowledgeEngine, P
from experta import Rule as XRule
from experta.fact import InitialFact

from engine import model as m
from engine.logic import Evaluator, combine, predicate

MAX_CLUSTER = 12  # at_least over more items would expand into too many combinations


class FindingFact(Fact):
    """A known finding: `id` and its `value` (unknown findings are simply not declared)."""


class ConclusionFact(Fact):
    """A conclusion reached so far, with its combined certainty `cf`."""


class Event:
    """One rule firing, as recorded from the activation that caused it."""

    __slots__ = ("certainty_after", "concluded", "contribution", "index", "matched", "premise_cf",
                 "rule", "urgency", "used")

    def __init__(self, index: int, rule: m.Rule, matched: tuple[tuple[str, Any], ...],
                 used: tuple[tuple[str, float], ...], premise_cf: float, contribution: float,
                 certainty_after: float, urgency: str) -> None:
        self.index = index
        self.rule = rule
        self.matched = matched
        self.used = used
        self.premise_cf = premise_cf
        self.contribution = contribution
        self.certainty_after = certainty_after
        self.urgency = urgency
        self.concluded = rule.concludes


def firing_order(kb: m.KnowledgeBase) -> list[m.Rule]:
    """Rules in the order they take priority: band, then dependency stratum, then file order.

    Strata count only producers in the rule's own band: bands already fire in order, so a
    dependency on an earlier band must not push a rule behind its neighbours in file order
    (advice is listed in the order its rules fire)."""
    producers: dict[str, list[m.Rule]] = {}
    for rule in kb.rules:
        if rule.concludes:
            producers.setdefault(rule.concludes, []).append(rule)
    memo: dict[str, int] = {}

    def stratum(rule: m.Rule, seen: frozenset[str] = frozenset()) -> int:
        if rule.id in memo:
            return memo[rule.id]
        level = 0
        for used in rule.conclusions_used():
            for producer in producers.get(used, ()):
                if producer.band == rule.band and producer.id not in seen:
                    level = max(level, 1 + stratum(producer, seen | {rule.id}))
        memo[rule.id] = level
        return level

    return sorted(kb.rules, key=lambda r: (m.BANDS.index(r.band), stratum(r), r.order))


class _Patterns:
    """Turns condition trees into experta conditional elements."""

    def __init__(self, kb: m.KnowledgeBase) -> None:
        self.kb = kb

    def finding_pattern(self, test: m.Test, negate: bool) -> Any:
        finding = self.kb.findings.get(test.finding)
        check = predicate(test, finding.type if finding else "boolean")
        if negate:
            return FindingFact(id=test.finding, value=P(lambda v, c=check: not c(v)))
        if test.op == "eq" and isinstance(test.value, bool) and finding and finding.type == "boolean":
            return FindingFact(id=test.finding, value=test.value)
        return FindingFact(id=test.finding, value=P(check))

    def conclusion_pattern(self, leaf: m.Concluded) -> Any:
        low = leaf.min_certainty
        return ConclusionFact(id=leaf.conclusion, cf=P(lambda cf, low=low: cf >= low and cf > 0))

    def build(self, cond: m.Cond, negate: bool = False) -> Any:
        if isinstance(cond, m.Test):
            return self.finding_pattern(cond, negate)
        if isinstance(cond, m.Concluded):
            pattern = self.conclusion_pattern(cond)
            return NOT(pattern) if negate else pattern
        if isinstance(cond, m.Not):
            return self.build(cond.item, not negate)
        if isinstance(cond, m.AtLeast):
            need = len(cond.items) - cond.count + 1 if negate else cond.count
            parts = [self.build(item, negate) for item in cond.items]
            combos = [AND(*combo) if len(combo) > 1 else combo[0]
                      for combo in itertools.combinations(parts, need)]
            return OR(*combos) if len(combos) > 1 else combos[0]
        parts = [self.build(item, negate) for item in cond.items]
        if len(parts) == 1:
            return parts[0]
        conjunctive = isinstance(cond, m.All) != negate
        return AND(*parts) if conjunctive else OR(*parts)


def _lhs(patterns: _Patterns, rule: m.Rule) -> tuple[Any, ...]:
    ce = patterns.build(rule.when)
    if isinstance(ce, AND):
        return tuple(ce)
    return (ce,)


class InferenceEngine(KnowledgeEngine):
    """Runs compiled rules; subclasses made by `compile_kb` carry the KB and its rules."""

    kb: m.KnowledgeBase

    def __init__(self) -> None:
        super().__init__()
        self._evaluator = Evaluator(self.kb)
        self.begin({})

    def begin(self, findings: dict[str, Any]) -> None:
        """Reset working memory and declare the case's known findings."""
        self.findings = findings
        self.certainty: dict[str, float] = {}
        self.urgency: dict[str, str] = {}
        self.events: list[Event] = []
        self._fired: set[str] = set()
        self._conclusion_facts: dict[str, Any] = {}
        self.reset()
        facts = [FindingFact(id=fid, value=value) for fid, value in sorted(findings.items())]
        if facts:
            self.declare(*facts)

    def run(self, steps: float = float("inf")) -> None:
        self.running = True
        while steps > 0 and self.running:
            added, removed = self.get_activations()
            self.strategy.update_agenda(self.agenda, added, removed)
            activation = self.agenda.get_next()
            if activation is None:
                break
            steps -= 1
            rule = activation.rule._wrapped.kb_rule
            if rule.id not in self._fired:
                self._fire(rule, activation.facts)
        self.running = False

    def _fire(self, rule: m.Rule, facts: Iterable[Any]) -> None:
        self._fired.add(rule.id)
        truth, premise_cf = self._evaluator.evaluate(rule.when, self.findings, self.certainty)
        if truth is not True:  # pragma: no cover - experta and the evaluator disagree
            raise RuntimeError(f"rule {rule.id} fired but its condition does not hold")
        matched: list[tuple[str, Any]] = []
        used: list[tuple[str, float]] = []
        for fact in facts:
            if isinstance(fact, FindingFact):
                matched.append((fact["id"], fact["value"]))
            elif isinstance(fact, ConclusionFact):
                used.append((fact["id"], fact["cf"]))
        contribution = round(rule.certainty * premise_cf, 6) if rule.concludes else 0.0
        after = 0.0
        if rule.concludes:
            before = self.certainty.get(rule.concludes, 0.0)
            after = round(combine(before, contribution), 6)
            self.certainty[rule.concludes] = after
            if rule.urgency or rule.kind == "red_flag":
                level = rule.urgency or self.kb.conclusions[rule.concludes].urgency
                current = self.urgency.get(rule.concludes)
                if current is None or m.urgency_rank(level) < m.urgency_rank(current):
                    self.urgency[rule.concludes] = level
            old = self._conclusion_facts.get(rule.concludes)
            if old is None:
                self._conclusion_facts[rule.concludes] = self.declare(
                    ConclusionFact(id=rule.concludes, cf=after))
            else:
                self._conclusion_facts[rule.concludes] = self.modify(old, cf=after)
        self.events.append(Event(
            len(self.events) + 1, rule, tuple(sorted(matched, key=lambda kv: kv[0])),
            tuple(sorted(used)), premise_cf, contribution, after,
            self.urgency.get(rule.concludes, "") if rule.kind == "red_flag" else ""))


def compile_kb(kb: m.KnowledgeBase) -> type[InferenceEngine]:
    """Build an engine class from the KB; no state is shared with other compiled classes."""
    patterns = _Patterns(kb)
    ordered = firing_order(kb)
    namespace: dict[str, Any] = {"kb": kb}
    total = len(ordered)
    for position, rule in enumerate(ordered):
        rhs = _rhs_for(rule)
        namespace[f"rule__{rule.id}"] = XRule(*_lhs(patterns, rule), salience=total - position)(rhs)
    return type("CompiledKnowledgeEngine", (InferenceEngine,), namespace)


def _rhs_for(rule: m.Rule) -> Callable[..., None]:
    """Each experta rule needs its own right-hand side; ours only carries the KB rule back to
    `InferenceEngine.run`, which does the firing (experta copies Rule objects, not this)."""

    def rhs(*_args: Any, **_kwargs: Any) -> None:
        return None

    rhs.__name__ = rule.id
    rhs.kb_rule = rule  # type: ignore[attr-defined]
    return rhs


__all__ = ["ConclusionFact", "Event", "FindingFact", "InferenceEngine", "InitialFact",
           "compile_kb", "firing_order"]
