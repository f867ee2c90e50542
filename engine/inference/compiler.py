"""The only modules that know experta: compile a loaded KB into a KnowledgeEngine subclass.

`compile_kb` is a pure function of the KB. Each KB rule becomes one experta `Rule` whose
left-hand side is the rule's condition tree in disjunctive normal form: negation is pushed down
to the leaves (so an unknown finding never satisfies `not`), `any` and `at_least N of` become
alternative conjunctions. Firing order comes from salience: red flags first, then conditions,
causes and advice; inside a band, a rule that reads a conclusion fires after every rule that
can conclude it. Firings are recorded as events from the agenda's activations, not parsed from
logs. Matching runs on experta's RETE nodes laid out by `engine.inference.network`, so the cost of
a case does not grow with the number of rules it cannot reach.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from experta import Fact, KnowledgeEngine
from experta import Rule as XRule
from experta.agenda import Agenda
from experta.fact import InitialFact
from experta.factlist import FactList
from experta.strategies import DepthStrategy

from engine.errors import KBError, Problem
from engine.inference.network import CompiledRule, IndexedMatcher, Pattern
from engine.inference.premises import Evaluator, combine, predicate
from engine.kb import model as m

MAX_CLUSTER = 12  # at_least over more items would expand into too many combinations
MAX_CONJUNCTIONS = 4096  # alternatives one rule may expand into
MAX_PREMISES = 100_000  # premise verdicts an engine keeps between cases (see `_premise`)

# (truth, premise certainty, supporting finding ids, supporting conclusion ids)
_Premise = tuple[Any, float, tuple[str, ...], tuple[str, ...]]


class _PlainFact(Fact):
    """A fact of named scalar fields. experta's `Fact.__init__` freezes every value through a
    generic dispatch; ours are ids, numbers, booleans and short strings, already immutable."""

    def __init__(self, **fields: Any) -> None:
        dict.__init__(self, fields)
        # experta hashes a fact on first use by catching AttributeError; computing it here is
        # cheaper. It leaves out `__factid__`, which only makes facts differing in it collide.
        content = frozenset(fields.items())
        self._hash = hash(content)
        self._identity = (self.__class__, content)  # what `_FactList` counts duplicates by


class _FactList(FactList):
    """experta's fact list without its per-declare work our facts do not need: no schema
    validation (our facts have no declared fields), no logging, and duplicates counted by the
    identity `_PlainFact` computed once rather than a frozenset built on every declare and
    retract. Duplicates are still refused, as experta does without `duplication`."""


    last_index: int
    @staticmethod
    def _get_fact_id(fact: Any) -> Any:
        identity = getattr(fact, "_identity", None)
        return identity if identity is not None else FactList._get_fact_id(fact)

    def declare(self, fact: Any) -> Any:
        fact_id = self._get_fact_id(fact)
        if fact_id in self.reference_counter:
            return None
        idx = self.last_index
        dict.__setitem__(fact, "__factid__", idx)
        self[idx] = fact
        self.last_index = idx + 1
        self.added.append(fact)
        self.reference_counter[fact_id] = 1
        return fact


class FindingFact(_PlainFact):
    """A known finding: `id` and its `value` (unknown findings are simply not declared)."""


class ConclusionFact(_PlainFact):
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


Conjunction = tuple[Pattern, ...]


class _Patterns:
    """Turns condition trees into alternatives of patterns; equal tests share one pattern."""

    def __init__(self, kb: m.KnowledgeBase) -> None:
        self.kb = kb
        self._interned: dict[tuple[Any, ...], Pattern] = {}

    def _intern(self, key: tuple[Any, ...], make: Callable[[], Pattern]) -> Pattern:
        found = self._interned.get(key)
        if found is None:
            found = self._interned[key] = make()
        return found

    def finding(self, test: m.Test, negate: bool) -> Pattern:
        def make() -> Pattern:
            finding = self.kb.findings.get(test.finding)
            check = predicate(test, finding.type if finding else "boolean")
            value_test = _negation(check) if negate else check
            return Pattern(FindingFact, test.finding, "value", value_test)

        # repr keeps True apart from 1 and 'left' apart from left
        return self._intern(("finding", test.finding, test.op, repr(test.value), negate), make)

    def conclusion(self, leaf: m.Concluded, negated: bool) -> Pattern:
        low = leaf.min_certainty

        def make() -> Pattern:
            def reached(cf: float, low: float = low) -> bool:
                return cf >= low and cf > 0

            return Pattern(ConclusionFact, leaf.conclusion, "cf", reached, negated)

        return self._intern(("conclusion", leaf.conclusion, repr(low), negated), make)

    def alternatives(self, cond: m.Cond, negate: bool = False) -> list[Conjunction]:
        """`cond` (negated if asked) as alternatives, each a conjunction of patterns."""
        if isinstance(cond, m.Test):
            return [(self.finding(cond, negate),)]
        if isinstance(cond, m.Concluded):
            return [(self.conclusion(cond, negate),)]
        if isinstance(cond, m.Not):
            return self.alternatives(cond.item, not negate)
        parts = [self.alternatives(item, negate) for item in cond.items]
        if isinstance(cond, m.AtLeast):
            need = len(cond.items) - cond.count + 1 if negate else cond.count
            out: list[Conjunction] = []
            for combo in itertools.combinations(parts, need):
                out.extend(_product(combo))
            return _unique(out)
        if isinstance(cond, m.All) != negate:
            return _unique(_product(parts))
        return _unique([alt for part in parts for alt in part])


def _negation(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: not check(value)


def _product(parts: Iterable[list[Conjunction]]) -> list[Conjunction]:
    out: list[Conjunction] = [()]
    for alternatives in parts:
        out = [left + right for left in out for right in alternatives]
        if len(out) > MAX_CONJUNCTIONS:
            break
    return out


def _unique(alternatives: list[Conjunction]) -> list[Conjunction]:
    """Drop repeated patterns inside a conjunction and repeated conjunctions."""
    seen: set[frozenset[Pattern]] = set()
    out: list[Conjunction] = []
    for conjunction in alternatives:
        patterns = tuple(dict.fromkeys(conjunction))
        key = frozenset(patterns)
        if key not in seen:
            seen.add(key)
            out.append(patterns)
    return out


class _Depth(DepthStrategy):
    """experta's depth strategy without its `lru_cache` on `get_key`: that cache hashes whole
    activations, and activations from one case to the next are alike (same rule, facts of the
    same content), so lookups walked long chains of colliding entries comparing facts."""

    def get_key(self, activation: Any) -> tuple[int, list[int]]:
        return (activation.rule.salience,
                sorted((f["__factid__"] for f in activation.facts), reverse=True))


class InferenceEngine(KnowledgeEngine):
    """Runs compiled rules; subclasses made by `compile_kb` carry the KB and its rules."""

    __matcher__ = IndexedMatcher
    __strategy__ = _Depth
    kb: m.KnowledgeBase
    compiled_rules: tuple[CompiledRule, ...]
    read_findings: frozenset[str]

    def __init__(self) -> None:
        super().__init__()
        self._evaluator = Evaluator(self.kb)
        self._reads: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        self._premises: dict[tuple[Any, ...], _Premise] = {}
        self.begin({})

    def reset(self, **_kwargs: Any) -> None:
        """experta's reset, without searching the class for deffacts on every case."""
        self._restart(())

    def _restart(self, facts: Iterable[Fact]) -> None:
        self.agenda = Agenda()
        self.facts = _FactList()
        self.matcher.reset()
        for fact in (InitialFact(), *facts):
            self.facts.declare(fact)
        added, removed = self.get_activations()
        self.strategy.update_agenda(self.agenda, added, removed)
        self.running = False

    def begin(self, findings: dict[str, Any]) -> None:
        """Reset working memory and declare the case's known findings in one step."""
        self.findings = findings
        self.certainty: dict[str, float] = {}
        self.urgency: dict[str, str] = {}
        self.events: list[Event] = []
        self._fired: set[str] = set()
        self._conclusion_facts: dict[str, Any] = {}
        read = self.read_findings
        self._restart(FindingFact(id=fid, value=value) for fid, value in sorted(findings.items())
                      if fid in read)  # a finding no rule reads cannot match anything

    def run(self, steps: float = float("inf")) -> None:
        self.running = True
        while steps > 0 and self.running:
            added, removed = self.get_activations()
            self.strategy.update_agenda(self.agenda, added, removed)
            activation = self.agenda.get_next()
            if activation is None:
                break
            steps -= 1
            rule = activation.rule.kb_rule
            if rule.id not in self._fired:
                self._fire(rule, activation.facts)
        self.running = False

    def _premise(self, rule: m.Rule) -> _Premise:
        """The evaluator's verdict on the rule's premise (truth, certainty, supporting findings and
        conclusions). It depends only on the values of the findings and certainties the rule
        reads, so it is kept per rule and those values: random and real cases repeat them often,
        and evaluating the tree twice per firing was a tenth of the time of a case."""
        reads = self._reads.get(rule.id)
        if reads is None:
            leaves = m.leaves(rule.when)
            reads = self._reads[rule.id] = (
                tuple(dict.fromkeys(x.finding for x in leaves if isinstance(x, m.Test))),
                tuple(dict.fromkeys(x.conclusion for x in leaves if isinstance(x, m.Concluded))))
        findings, certainty = self.findings, self.certainty
        # the class is part of the key: True == 1 and 0 == False, but tests tell them apart
        key = (rule.id, tuple((v.__class__, v) for v in map(findings.get, reads[0])),
               tuple(map(certainty.get, reads[1])))
        premise = self._premises.get(key)
        if premise is None:
            truth, premise_cf = self._evaluator.evaluate(rule.when, findings, certainty)
            found, reached = self._evaluator.support(rule.when, findings, certainty)
            premise = (truth, premise_cf, tuple(found), tuple(reached))
            if len(self._premises) >= MAX_PREMISES:
                self._premises.clear()
            self._premises[key] = premise
        return premise

    def _fire(self, rule: m.Rule, facts: Iterable[Any]) -> None:
        self._fired.add(rule.id)
        truth, premise_cf, found, reached = self._premise(rule)
        if truth is not True:  # pragma: no cover - experta and the evaluator disagree
            raise RuntimeError(f"rule {rule.id} fired but its condition does not hold")
        # The activation holds one matched branch; the evaluator adds every other satisfied one
        # (both branches of an `any`), so the trace names all the evidence.
        matched: dict[str, Any] = {}
        used: dict[str, float] = {}
        for fact in facts:
            if isinstance(fact, FindingFact):
                matched[fact["id"]] = fact["value"]
            elif isinstance(fact, ConclusionFact):
                used[fact["id"]] = fact["cf"]
        for fid in found:
            matched.setdefault(fid, self.findings[fid])
        for cid in reached:
            used.setdefault(cid, self.certainty[cid])
        contribution = round(rule.signed_certainty * premise_cf, 6) if rule.concludes else 0.0
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
            # experta's modify while running: retract, then declare the new value (the matcher
            # sees both at the next agenda update); `_PlainFact`s need none of its checks
            old = self._conclusion_facts.get(rule.concludes)
            if old is not None:
                self.facts.retract(old)
            self._conclusion_facts[rule.concludes] = self.facts.declare(
                ConclusionFact(id=rule.concludes, cf=after))
        self.events.append(Event(
            len(self.events) + 1, rule, tuple(sorted(matched.items())),
            tuple(sorted(used.items())), premise_cf, contribution, after,
            self.urgency.get(rule.concludes, "") if rule.kind == "red_flag" else ""))


def compile_kb(kb: m.KnowledgeBase) -> type[InferenceEngine]:
    """Build an engine class from the KB; no state is shared with other compiled classes."""
    patterns = _Patterns(kb)
    ordered = firing_order(kb)
    lhs: list[list[Conjunction]] = []
    for rule in ordered:
        alternatives = patterns.alternatives(rule.when)
        if len(alternatives) > MAX_CONJUNCTIONS:
            raise KBError([Problem(rule.location, f"rule '{rule.id}' expands into more than "
                                   f"{MAX_CONJUNCTIONS} alternatives", "split it into several rules",
                                   code="too_complex")])
        lhs.append(alternatives)
    # Patterns shared by many rules go first so conjunctions share their first join nodes;
    # conclusions go last because they change while the engine runs, findings do not.
    use = Counter(p for alternatives in lhs for conj in alternatives for p in conj)
    rank = {p: i for i, p in enumerate(use)}

    def order(p: Pattern) -> tuple[int, int, int]:
        return (p.negated, p.fact_type is ConclusionFact, -use[p] * len(rank) + rank[p])

    total = len(ordered)
    compiled = []
    for position, (rule, alternatives) in enumerate(zip(ordered, lhs, strict=True)):
        xrule = XRule(salience=total - position)(_rhs_for(rule))
        xrule.kb_rule = rule
        compiled.append(CompiledRule(xrule, tuple(tuple(sorted(c, key=order)) for c in alternatives)))
    read = frozenset(p.key for p in use if p.fact_type is FindingFact)
    namespace: dict[str, Any] = {"kb": kb, "compiled_rules": tuple(compiled), "read_findings": read}
    return type("CompiledKnowledgeEngine", (InferenceEngine,), namespace)


def _rhs_for(rule: m.Rule) -> Callable[..., None]:
    """Each experta rule needs its own right-hand side; ours only names the KB rule, because
    `InferenceEngine.run` does the firing."""

    def rhs(*_args: Any, **_kwargs: Any) -> None:
        return None

    rhs.__name__ = rule.id
    return rhs


__all__ = ["ConclusionFact", "Event", "FindingFact", "InferenceEngine", "InitialFact",
           "compile_kb", "firing_order"]
