"""Compile a loaded KB into an experta `KnowledgeEngine` subclass (one of the modules that know
experta, with `facts.py` and `matcher.py`).

`compile_kb` is a pure function of the KB. Each KB rule becomes one experta `Rule` (its salience
and identity on the agenda) and one premise closure (`engine.inference.closures`): a rule is
activated when its premise holds on the facts in working memory, so an unknown finding never
satisfies `not`. Firing order comes from salience: red flags first, then conditions, causes and
advice; inside a band, a rule that reads a conclusion fires after every rule that can conclude
it. Matching is experta's `Matcher` interface over an index from the findings and conclusions
each premise reads to the rule (`engine.inference.matcher`), so the cost of a case follows the
rules its facts reach, not the number of rules.

Firings are recorded as events from the agenda's activations. An event's evidence (every
finding and conclusion that makes the premise true, through every satisfied branch) is worked
out only when something reads it: `assess` needs it for `evidence`, a bare engine run (the
benchmark against CLIPS, `kb test` of firing order) does not.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from experta import KnowledgeEngine
from experta import Rule as XRule
from experta.agenda import Agenda
from experta.fact import InitialFact

from engine.inference.closures import compile_premise_reads
from engine.inference.facts import CaseFact, ConclusionFact, FindingFact, LeanFactList
from engine.inference.matcher import CompiledRule, IndexedMatcher, RuleIndex, SalienceStrategy
from engine.inference.premises import Evaluator, combine, round_cf
from engine.kb import model as m


class Event:
    """One rule firing, as recorded from the activation that caused it.

    `matched` (findings with their values) and `used` (conclusions with the certainty they had
    when the rule fired) are computed on first access from the case's findings and a snapshot of
    the certainties the rule reads, so a run that never looks at them never pays for them."""

    __slots__ = ("_evaluator", "_findings", "_matched", "_seen", "_used", "certainty_after",
                 "concluded", "contribution", "index", "premise_cf", "rule", "urgency")

    def __init__(self, index: int, rule: m.Rule, premise_cf: float, contribution: float,
                 certainty_after: float, urgency: str, findings: dict[str, Any],
                 seen: dict[str, float], evaluator: Evaluator) -> None:
        self.index = index
        self.rule = rule
        self.premise_cf = premise_cf
        self.contribution = contribution
        self.certainty_after = certainty_after
        self.urgency = urgency
        self.concluded = rule.concludes
        self._findings = findings
        self._seen = seen
        self._evaluator = evaluator
        self._matched: tuple[tuple[str, Any], ...] | None = None
        self._used: tuple[tuple[str, float], ...] = ()

    def _support(self) -> None:
        found, reached = self._evaluator.support(self.rule.when, self._findings, self._seen)
        self._matched = tuple(sorted((fid, self._findings[fid]) for fid in found))
        self._used = tuple(sorted((cid, self._seen[cid]) for cid in reached))

    @property
    def matched(self) -> tuple[tuple[str, Any], ...]:
        """The known findings behind the premise, every satisfied branch (sorted by id)."""
        if self._matched is None:
            self._support()
        return self._matched  # type: ignore[return-value]

    @property
    def used(self) -> tuple[tuple[str, float], ...]:
        """The conclusions the premise relied on, with their certainty at firing time."""
        if self._matched is None:
            self._support()
        return self._used


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


class InferenceEngine(KnowledgeEngine):
    """Runs compiled rules; subclasses made by `compile_kb` carry the KB and its rules."""

    __matcher__ = IndexedMatcher
    __strategy__ = SalienceStrategy
    kb: m.KnowledgeBase
    rule_index: RuleIndex
    read_findings: frozenset[str]
    matcher: IndexedMatcher

    def __init__(self) -> None:
        super().__init__()
        self._evaluator = Evaluator(self.kb)
        self.agenda = Agenda()
        self.facts = LeanFactList()
        self._initial = InitialFact()  # declared again at every reset, as experta's reset does
        self.begin({})

    def reset(self, **_kwargs: Any) -> None:
        """experta's reset, without searching the class for deffacts on every case."""
        self._restart(())

    def _restart(self, facts: Iterable[Any]) -> None:
        """experta's reset: empty agenda and working memory, the initial fact and the given
        facts declared, the agenda brought up to date. The agenda and fact list are emptied and
        reused rather than made anew: the engine runs one case after another, and making them
        (a `Counter`, an `OrderedDict`, an experta `Fact`) was a fixed cost on every case."""
        self.agenda.activations.clear()
        working = self.facts
        working.clear_for_reuse()
        self.matcher.reset()
        working.declare(self._initial)
        for fact in facts:
            working.declare(fact)
        adding, working.added = working.added, []
        added, _removed = self.matcher.changes(adding, ())
        self.strategy._update_agenda(self.agenda, added, ())
        self.running = False

    def begin(self, findings: dict[str, Any]) -> None:
        """Reset working memory and declare the case's known findings in one step."""
        self.findings = findings
        self.certainty: dict[str, float] = {}
        self.urgency: dict[str, str] = {}
        self._log: list[tuple[CompiledRule, float, float, float, str, dict[str, float]]] = []
        self._events: list[Event] | None = None
        self._conclusion_facts: dict[str, Any] = {}
        self._restart((CaseFact(id="case", findings=dict(findings)),))

    def run(self, steps: float = float("inf")) -> None:
        """experta's run loop (agenda updated from the matcher's news, then the next activation
        fires), with experta's `get_activations` and `update_agenda` inlined: they add two calls
        and a logging check per firing, which on a case of a dozen firings is measurable."""
        self.running = True
        matcher, update, agenda, facts = (self.matcher, self.strategy._update_agenda,
                                          self.agenda, self.facts)
        retired, active, queue = matcher._retired, matcher._active, agenda.activations
        while steps > 0 and self.running:
            if facts.added or facts.removed:
                adding, deleting = facts.added, facts.removed
                facts.added, facts.removed = [], []
                added, removed = matcher.changes(adding, deleting)
                if added or removed:
                    update(agenda, added, removed)
            if not queue:  # agenda.get_next(), inlined: the last activation fires next
                break
            activation = queue.pop()
            steps -= 1
            compiled = activation.compiled
            premise = compiled.premise  # a KB rule fires at most once (matcher.retire, inlined)
            retired.add(premise)
            active.pop(premise, None)
            self._fire(compiled, activation.strength)
        self.running = False

    def _fire(self, compiled: CompiledRule, premise_cf: float) -> None:
        """Fire a rule whose premise holds with certainty `premise_cf` (the matcher's current
        value for it: see `_Activation.strength`)."""
        certainty = self.certainty
        if premise_cf <= 0:  # pragma: no cover - the matcher activated a rule that does not hold
            raise RuntimeError(f"rule {compiled.kb_rule.id} fired but its condition does not hold")
        seen = ({cid: certainty[cid] for cid in compiled.conclusions if cid in certainty}
                if compiled.conclusions else {})
        contribution = after = 0.0
        urgency = ""
        concludes = compiled.concludes
        if concludes:
            contribution = round_cf(compiled.signed_certainty * premise_cf)
            after = certainty[concludes] = round_cf(combine(certainty.get(concludes, 0.0),
                                                            contribution))
            level = compiled.level
            if level:
                current = self.urgency.get(concludes)
                if current is None or m.urgency_rank(level) < m.urgency_rank(current):
                    self.urgency[concludes] = level
                if compiled.red_flag:
                    urgency = self.urgency[concludes]
            # experta's modify: retract, then declare the new value (the matcher sees both at
            # the next agenda update); our facts need none of its checks
            old = self._conclusion_facts.get(concludes)
            new = ConclusionFact(id=concludes, cf=after)
            self._conclusion_facts[concludes] = (self.facts.declare(new) if old is None
                                                 else self.facts.replace(old, new))
        self._log.append((compiled, premise_cf, contribution, after, urgency, seen))

    @property
    def events(self) -> list[Event]:
        """The firings of the last run, in order. The run logs each as a tuple; the events are
        made when first asked for (a run that only needs certainties never makes them)."""
        if self._events is None or len(self._events) != len(self._log):
            findings, evaluator = self.findings, self._evaluator
            self._events = [Event(n, compiled.kb_rule, premise_cf, contribution, after, urgency,
                                  findings, seen, evaluator)
                            for n, (compiled, premise_cf, contribution, after, urgency, seen)
                            in enumerate(self._log, 1)]
        return self._events

    @property
    def fired(self) -> list[str]:
        """The ids of the rules fired in the last run, in firing order."""
        return [entry[0].kb_rule.id for entry in self._log]


@contextmanager
def _no_gc() -> Iterator[None]:
    """Compiling allocates many small objects and frees almost none; the cyclic collector would
    otherwise walk them again and again (it was most of the compile time of a 30x KB)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_engine(kb: m.KnowledgeBase) -> InferenceEngine:
    """A ready engine for the KB: compiled and instantiated with the collector off, then every
    object made so far (the KB, the closures, the index) moved out of the collector's view with
    `gc.freeze()`. They live as long as the process; without the freeze each full collection a
    run triggers would walk all of them again (ten thousand closures at 30x rules)."""
    with _no_gc():
        engine = compile_kb(kb)()
        gc.freeze()  # before the collector is back on, so its first pass has nothing to walk
    return engine


def compile_kb(kb: m.KnowledgeBase) -> type[InferenceEngine]:
    """Build an engine class from the KB; no state is shared with other compiled classes."""
    with _no_gc():
        ordered = firing_order(kb)
        total = len(ordered)
        compiled = []
        shared: dict[Any, Any] = {}  # leaf data made once for the whole KB (closures._Builder)
        for position, rule in enumerate(ordered):
            premise, finding_ids, conclusion_ids = compile_premise_reads(rule.when, kb, shared)
            level = ""
            if rule.concludes and (rule.urgency or rule.kind == "red_flag"):
                level = rule.urgency or kb.conclusions[rule.concludes].urgency
            compiled.append(CompiledRule(
                position, _xrule(rule, total - position), rule, premise, finding_ids,
                conclusion_ids, sys.intern(rule.concludes), rule.signed_certainty, level,
                rule.kind == "red_flag"))
        index = RuleIndex(compiled)
        namespace: dict[str, Any] = {"kb": kb, "rule_index": index,
                                     "read_findings": index.finding_ids}
        return type("CompiledKnowledgeEngine", (InferenceEngine,), namespace)


def _xrule(rule: m.Rule, salience: int) -> XRule:
    """The experta rule that stands for a KB rule on the agenda. Its right-hand side only names
    the KB rule, because `InferenceEngine.run` does the firing; it is attached as experta's
    decorator would attach it, without the signature inspection the decorator does for rules
    that bind variables (ours bind none)."""

    def rhs(*_args: Any, **_kwargs: Any) -> None:
        return None

    rhs.__name__ = rule.id
    xrule = XRule(salience=salience)
    xrule._wrapped = rhs
    xrule.kb_rule = rule
    return xrule


__all__ = ["CaseFact", "ConclusionFact", "Event", "FindingFact", "InferenceEngine", "InitialFact",
           "build_engine", "compile_kb", "firing_order"]
