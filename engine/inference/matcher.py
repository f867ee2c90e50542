"""How our compiled engines match: experta's `Matcher` interface over an index of rules by the
findings and conclusions their premises read.

experta's own `ReteMatcher` (and the indexed RETE layout this module replaced) turns every rule
into alternative conjunctions of patterns and keeps partial matches in join memories. Our rules
bind no variables: a rule is activated exactly when its premise holds on the facts in working
memory, and a premise is a pure function of the values of the few facts it names. So matching
needs no join network:

- each fact change (a finding declared, a conclusion's certainty replaced) marks only the rules
  that read that finding or conclusion (`readers`, built once per KB);
- at the next agenda update each marked rule's compiled premise (`engine.inference.closures`)
  is called once, and an activation is added when it turns true, removed when it stops holding;
- `reset()` forgets only this case's state, so nothing per case grows with the size of the KB.

The engine, its working memory (experta's `FactList` of facts), the agenda and the conflict
strategy stay experta's; this module is the `__matcher__` the engine class names.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Iterable, Sequence
from operator import attrgetter
from typing import Any

from experta.abstract import Matcher, Strategy
from experta.activation import Activation
from experta.fact import Fact, InitialFact
from experta.rule import Rule

from engine.inference.closures import Premise
from engine.inference.facts import CaseFact, ConclusionFact
from engine.kb import model as m


class CompiledRule:
    """One KB rule as the matcher sees it: its experta rule (salience, identity), its premise as
    a closure, and the finding and conclusion ids the premise reads. Slotted: its fields sit in
    the object itself, so a firing reads one small object, not an object and its dict. A plain
    class, not a dataclass: made only by the compiler, compared by identity, and defining it
    costs every command's start nothing (engine.record says why that matters)."""

    __slots__ = (
        "concludes",
        "conclusions",
        "findings",
        "index",
        "kb_rule",
        "level",
        "premise",
        "red_flag",
        "signed_certainty",
        "xrule",
    )

    def __init__(self, index: int, xrule: Rule, kb_rule: m.Rule, premise: Premise,
                 findings: tuple[str, ...], conclusions: tuple[str, ...], concludes: str = "",
                 signed_certainty: float = 0.0, level: str = "", red_flag: bool = False) -> None:
        self.index = index
        self.xrule = xrule
        self.kb_rule = kb_rule
        self.premise = premise
        self.findings = findings
        self.conclusions = conclusions
        self.concludes = concludes  # the conclusion it adds to, if any
        self.signed_certainty = signed_certainty  # certainty factor at full premise (<0: against)
        self.level = level  # the urgency it sets on its conclusion (red flags), else ""
        self.red_flag = red_flag  # a red-flag rule: its firing records the urgency reached

    def __repr__(self) -> str:
        return f"CompiledRule({self.index}, {self.kb_rule.id!r})"


class RuleIndex:
    """Which rules each finding and conclusion can affect, and which hold with nothing known."""

    def __init__(self, rules: Sequence[CompiledRule]) -> None:
        self.rules = tuple(rules)
        findings: dict[str, list[int]] = {}
        conclusions: dict[str, list[int]] = {}
        for rule in self.rules:
            for fid in rule.findings:
                findings.setdefault(fid, []).append(rule.index)
            for cid in rule.conclusions:
                conclusions.setdefault(cid, []).append(rule.index)
        self.finding_readers = {fid: tuple(found) for fid, found in findings.items()}
        self.conclusion_readers = {cid: tuple(found) for cid, found in conclusions.items()}
        # Kleene logic is monotone in what is known: a premise that does not hold with nothing
        # known can only come to hold when a finding or conclusion it reads arrives, and that
        # marks it. The ones that hold already are marked by the initial fact.
        self.initially = tuple(r.index for r in self.rules if r.premise({}, {}) > 0)
        self.finding_ids = frozenset(self.finding_readers)
        # The same, by premise closure instead of rule position, for the matcher's hot loop: a
        # case then marks, dedupes and evaluates the closures themselves (hashed by address),
        # and touches no int objects on the way. Positions past 256 are separate int objects,
        # one more scattered object per rule evaluated, which at 10x rules was a good part of
        # the memory a stream of cases spreads over (bench/RESULTS.md, growth).
        premise = tuple(r.premise for r in self.rules)
        if len(set(premise)) != len(premise):  # pragma: no cover - compile_premise makes new ones
            raise ValueError("two rules share one premise closure")
        self.finding_premises = {fid: tuple(premise[i] for i in readers)
                                 for fid, readers in self.finding_readers.items()}
        self.conclusion_premises = {cid: tuple(premise[i] for i in readers)
                                    for cid, readers in self.conclusion_readers.items()}
        self.initial_premises = tuple(premise[i] for i in self.initially)


class _Activation(Activation):
    """experta's activation of one compiled rule. Its hash is the rule's position (experta's
    builds a frozenset of the facts on every call), equality is identity (one activation per
    rule at a time), and its `facts`, which only tracing and debugging read, are looked up in
    working memory when asked for rather than gathered for every activation. Its fields are
    slots: the agenda reads `key` and the run loop `compiled` on every firing, from the object
    itself rather than a dict beside it."""

    __slots__ = ("_matcher", "compiled", "context", "key", "rule", "strength")

    def __init__(self, compiled: CompiledRule, matcher: IndexedMatcher) -> None:
        self.rule = compiled.xrule
        self.key = compiled.xrule.salience
        self.context: dict[str, Any] = {}
        self.compiled = compiled
        self._matcher = matcher
        # the premise's certainty as the matcher last evaluated it: every change to a fact the
        # premise reads re-evaluates it before the next firing, so when the activation fires
        # this is its current value and the firing need not evaluate the premise again
        self.strength = 0.0

    @property
    def facts(self) -> set[Fact]:
        return set(self._matcher.facts_of(self.compiled))

    def __hash__(self) -> int:
        return self.compiled.index

    __eq__ = object.__eq__


_salience = attrgetter("key")


class SalienceStrategy(Strategy):
    """experta's depth strategy for rules of unique salience: the agenda is kept sorted by
    salience (the last activation fires next). With one activation at most per rule and no two
    rules of equal salience, the depth strategy's tie-break on fact recency never applies, so
    this orders the agenda exactly as it does, without building a key per activation."""

    def _update_agenda(self, agenda: Any, added: Iterable[Any], removed: Iterable[Any]) -> None:
        activations: list[Any] = agenda.activations
        for act in removed:
            activations.remove(act)
        if isinstance(added, list) and len(added) > 4:
            # a case's first update adds dozens: one sort beats an insert each
            activations.extend(added)
            activations.sort(key=_salience)
            return
        for act in added:
            insort(activations, act, key=_salience)


class IndexedMatcher(Matcher):
    """Marks the rules a fact change can affect and re-evaluates only those (module docstring)."""

    def __init__(self, engine: Any) -> None:
        super().__init__(engine)
        self.index: RuleIndex = engine.rule_index
        # one activation object per rule, made once: a rule has at most one at a time
        self._activations = tuple(_Activation(rule, self) for rule in self.index.rules)
        self._activation_of = {act.compiled.premise: act for act in self._activations}
        self.reset()

    def reset(self) -> None:
        self.findings: dict[str, Any] = {}
        self.certainty: dict[str, float] = {}
        self._finding_facts: dict[str, Fact] = {}  # findings declared one by one
        self._case: Fact | None = None  # the case fact; `findings` is then its own dict
        self._conclusion_facts: dict[str, Fact] = {}
        # rules by their premise closure (RuleIndex.finding_premises says why)
        self._active: dict[Premise, _Activation] = {}
        self._retired: set[Premise] = set()
        self._marked: set[Premise] = set()
        self.evaluations = 0  # premises evaluated since the last reset (the work of this case)

    def retire(self, rule_index: int) -> None:
        """A rule fired: it never activates again in this case (a KB rule fires at most once)."""
        premise = self.index.rules[rule_index].premise
        self._retired.add(premise)
        self._active.pop(premise, None)

    def changes(self, adding: Iterable[Fact] | None = None,
                deleting: Iterable[Fact] | None = None) -> tuple[list[Any], list[Any]]:
        finding_readers = self.index.finding_premises
        conclusion_readers = self.index.conclusion_premises
        marked = self._marked
        if deleting:
            for fact in deleting:
                key = dict.__getitem__(fact, "id")
                cls = fact.__class__
                if cls is ConclusionFact:
                    if self._conclusion_facts.get(key) is fact:
                        del self._conclusion_facts[key]
                        del self.certainty[key]
                        marked.update(conclusion_readers.get(key, ()))
                elif cls is CaseFact:
                    if self._case is fact:
                        for fid in self.findings:
                            marked.update(finding_readers.get(fid, ()))
                        self.findings, self._case, self._finding_facts = {}, None, {}
                elif self._finding_facts.get(key) is fact:
                    self._forget_finding(key)
        if adding:
            for fact in adding:
                cls = fact.__class__
                if cls is ConclusionFact:
                    cid = dict.__getitem__(fact, "id")
                    self._conclusion_facts[cid] = fact
                    self.certainty[cid] = dict.__getitem__(fact, "cf")
                    marked.update(conclusion_readers.get(cid, ()))
                elif cls is CaseFact:
                    # the case's findings dict is read in place: it never changes during a run
                    self._case = fact
                    self.findings = findings = dict.__getitem__(fact, "findings")
                    for fid in findings:
                        readers = finding_readers.get(fid)
                        if readers:
                            marked.update(readers)
                elif cls is InitialFact:
                    marked.update(self.index.initial_premises)
                else:
                    fid = dict.__getitem__(fact, "id")
                    self._finding_facts[fid] = fact
                    self.findings[fid] = dict.__getitem__(fact, "value")
                    marked.update(finding_readers.get(fid, ()))
        added: list[Any] = []
        removed: list[Any] = []
        if marked:
            active, activation_of = self._active, self._activation_of
            findings, certainty = self.findings, self.certainty
            marked -= self._retired
            for premise in marked:
                strength = premise(findings, certainty)
                if strength > 0:
                    act = activation_of[premise]
                    act.strength = strength
                    if premise not in active:
                        active[premise] = act
                        added.append(act)
                elif premise in active:
                    removed.append(active.pop(premise))
            self.evaluations += len(marked)
            marked.clear()
        return added, removed

    def _forget_finding(self, fid: str) -> None:
        if self._finding_facts.pop(fid, None) is not None:
            del self.findings[fid]
            self._marked.update(self.index.finding_premises.get(fid, ()))

    def facts_of(self, rule: CompiledRule) -> tuple[Fact, ...]:
        """The facts in working memory that the rule's premise reads (each once)."""
        case = self._case
        found = [self._finding_facts.get(fid) or (case if fid in self.findings else None)
                 for fid in rule.findings]
        found += [self._conclusion_facts.get(cid) for cid in rule.conclusions]
        return tuple({id(f): f for f in found if f is not None}.values())


__all__ = ["CompiledRule", "IndexedMatcher", "RuleIndex", "SalienceStrategy"]
