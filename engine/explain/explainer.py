"""HOW, WHY NOT and WHAT IF for one assessed case, derived from its reasoning graph.

- HOW walks the graph backwards from a conclusion: the firings that concluded it, the findings
  and earlier conclusions each matched, each firing's contribution and the sources it cites.
- WHY NOT takes the rules that could conclude something but did not fire and marks each of
  their premises satisfied, unknown (not asked) or contradicted with `engine.inference.premises.Evaluator`,
  so a premise means here exactly what it means to the engine. Nearest rule first.
- WHAT IF answers each relevant unknown finding (bounded to what near-miss rules read), checks
  with the Evaluator whether any unfired rule would then hold, and only then re-runs the case on
  the one shared `Reasoner` to see whether the triage changes or a red flag or condition appears.

Everything is plain frozen data, so the terminal, JSON, markdown and HTML render the same facts.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from engine.explain.graph import (
    CONCLUSION,
    case_graph,
    node_id,
    premises_of,
    ref_of,
    supporting_firings,
)
from engine.explain.imagined import answers_to_imagine
from engine.inference.assessment import Assessment
from engine.inference.premises import Evaluator, Truth, ceiling, concluded_truth
from engine.inference.reasoner import Reasoner
from engine.kb import model as m
from engine.record import Record
from engine.wording import cond_phrase

SATISFIED = "satisfied"
UNKNOWN = "unknown"
CONTRADICTED = "contradicted"
STATUS_OF: dict[Truth, str] = {True: SATISFIED, None: UNKNOWN, False: CONTRADICTED}

WEAK_BELOW = 0.35  # a conclusion reached with less support than this also gets a WHY NOT


def premises(rule: m.Rule) -> tuple[m.Cond, ...]:
    """The top-level premises of a rule: the items of its `all`, or the one condition."""
    return rule.when.items if isinstance(rule.when, m.All) else (rule.when,)


# --- HOW -----------------------------------------------------------------------------------------


class Step(Record):
    """One firing that supports a conclusion, with what it matched and what it added."""

    rule: m.Rule
    index: int
    findings: tuple[tuple[str, Any], ...]
    used: tuple[tuple[Support, float], ...]
    premise_cf: float
    contribution: float
    certainty_after: float


class Support(Record):
    """HOW one conclusion was reached: its combined certainty and the firings behind it."""

    conclusion: m.Conclusion
    certainty: float
    urgency: str
    steps: tuple[Step, ...]

    def rules(self) -> list[m.Rule]:
        """Every rule in the chain, depth first, each once."""
        seen: dict[str, m.Rule] = {}

        def walk(support: Support) -> None:
            for step in support.steps:
                seen.setdefault(step.rule.id, step.rule)
                for inner, _ in step.used:
                    walk(inner)

        walk(self)
        return list(seen.values())


# --- WHY NOT -------------------------------------------------------------------------------------


class Premise(Record):
    """One premise of an unfired rule and whether the case satisfies it."""

    text: str
    status: str
    unknown: tuple[str, ...]  # finding ids it reads that were not asked
    given: tuple[tuple[str, Any], ...]  # finding ids it reads that were answered, with values


class NearMiss(Record):
    """A rule that could conclude something but did not fire, premise by premise."""

    rule: m.Rule
    premises: tuple[Premise, ...]

    def count(self, status: str) -> int:
        return sum(1 for p in self.premises if p.status == status)

    @property
    def blocked(self) -> bool:
        """A contradicted premise: no further answer alone would make this rule fire."""
        return self.count(CONTRADICTED) > 0

    def distance(self) -> tuple[int, int, int, int]:
        """Sort key, nearest first: fewest contradicted, fewest unknown, most satisfied."""
        return (self.count(CONTRADICTED), self.count(UNKNOWN), -self.count(SATISFIED), self.rule.order)


class WhyNot(Record):
    """Why a conclusion was not reached (or only weakly): its unfired rules, nearest first."""

    conclusion: m.Conclusion
    certainty: float
    near_misses: tuple[NearMiss, ...]

    @property
    def reached(self) -> bool:
        return self.certainty > 0


# --- WHAT IF -------------------------------------------------------------------------------------


class Gain(Record):
    """A red flag or condition that an answer would add, with the certainty it would get."""

    conclusion: m.Conclusion
    certainty: float
    urgency: str = ""


class WhatIf(Record):
    """Answering `finding` with `value` would change the triage and/or add red flags or conditions."""

    finding: m.Finding
    value: Any
    answer: str  # the answer in words, e.g. 'yes', 'over 10 percent'
    triage_before: str
    triage_after: str
    gains: tuple[Gain, ...]
    rules: tuple[str, ...]  # rules that would newly fire

    @property
    def changes_triage(self) -> bool:
        return self.triage_after != self.triage_before


# --- the explainer -------------------------------------------------------------------------------


class Explainer:
    """Answers HOW / WHY NOT / WHAT IF for one assessed case, from its reasoning graph."""

    def __init__(self, result: Assessment, reasoner: Reasoner, graph: nx.DiGraph | None = None) -> None:
        self.result = result
        self.kb = result.kb
        self.reasoner = reasoner
        self.graph = graph if graph is not None else case_graph(result)
        self.facts = result.case.facts
        self.evaluator = Evaluator(self.kb)
        self.certainty: dict[str, float] = {
            ref_of(n): d["certainty"] for n, d in self.graph.nodes(data=True) if d["kind"] == CONCLUSION}
        self.fired = {event.rule.id for event in result.events}
        self._reach: dict[tuple[str, float], Truth] = {}
        self._misses: dict[str, NearMiss] = {}

    # HOW
    def how(self, conclusion_id: str) -> Support | None:
        """The support for a reached conclusion, or None when it was not reached."""
        support = self.weighed(conclusion_id)
        return support if support is not None and support.certainty > 0 else None

    def weighed(self, conclusion_id: str) -> Support | None:
        """Every firing for and against a conclusion, even when evidence against took it to 0
        or below (then it is not reached, and WHY NOT shows this as the reason)."""
        node = node_id(CONCLUSION, conclusion_id)
        if node not in self.graph:
            return None
        data = self.graph.nodes[node]
        steps = []
        for firing in supporting_firings(self.graph, conclusion_id):
            fdata = self.graph.nodes[firing]
            finding_nodes, used_nodes = premises_of(self.graph, firing)
            findings = tuple((ref_of(f), self.graph.nodes[f]["value"]) for f in finding_nodes)
            used = []
            for used_node in used_nodes:
                inner = self.weighed(ref_of(used_node))
                if inner is not None:
                    used.append((inner, float(self.graph.edges[used_node, firing]["certainty"])))
            rule = self.kb.rule(fdata["ref"])
            assert rule is not None, "the graph is built from this KB's rules"
            steps.append(Step(rule, fdata["index"], findings, tuple(used), fdata["premise_cf"],
                              fdata["contribution"], fdata["certainty_after"]))
        return Support(self.kb.conclusions[conclusion_id], data["certainty"], data.get("urgency", ""),
                       tuple(steps))

    # WHY NOT
    def near_miss(self, rule: m.Rule) -> NearMiss:
        """Each top-level premise of `rule`, marked satisfied, unknown or contradicted."""
        found = self._misses.get(rule.id)
        if found is None:
            marked = []
            for cond in premises(rule):
                tests = [leaf for leaf in m.leaves(cond) if isinstance(leaf, m.Test)]
                unknown = tuple(dict.fromkeys(t.finding for t in tests if t.finding not in self.facts))
                given = tuple(dict.fromkeys((t.finding, self.facts[t.finding])
                                            for t in tests if t.finding in self.facts))
                marked.append(Premise(cond_phrase(self.kb, cond), STATUS_OF[self._truth(cond)], unknown,
                                      given))
            found = self._misses[rule.id] = NearMiss(rule, tuple(marked))
        return found

    def why_not(self, conclusion_id: str) -> WhyNot:
        """The unfired rules that could conclude `conclusion_id`, nearest first."""
        rules = [r for r in self.kb.rules_concluding(conclusion_id)
                 if r.id not in self.fired and not r.against]  # evidence against cannot reach it
        misses = sorted((self.near_miss(r) for r in rules), key=NearMiss.distance)
        return WhyNot(self.kb.conclusions[conclusion_id], self.certainty.get(conclusion_id, 0.0),
                      tuple(misses))

    def strongest_near_misses(self, limit: int = 5) -> list[WhyNot]:
        """Conclusions not reached (or weakly reached) whose nearest rule already has a premise
        satisfied and none contradicted: the report's WHY NOT section. Red flags first, then
        nearest first."""
        found: list[tuple[tuple[int, int, int, int], WhyNot]] = []
        for cid in self.kb.conclusions:
            if self.certainty.get(cid, 0.0) >= WEAK_BELOW:
                continue
            why = self.why_not(cid)
            nearest = [n for n in why.near_misses if n.count(SATISFIED) and not n.blocked]
            if nearest:
                found.append((nearest[0].distance(), why))
        found.sort(key=lambda item: (item[1].conclusion.kind != "red_flag", item[0], item[1].conclusion.id))
        return [why for _, why in found[:limit]]

    def relevant_rules(self, screening: bool = False) -> list[NearMiss]:
        """Near misses: unfired rules still open (nothing contradicted) that the case already
        partly meets. With `screening`, also every open red-flag rule, met or not: a red flag
        that nobody asked about is worth a question even when nothing points to it yet."""
        out = []
        for rule in self.kb.rules:
            if rule.id in self.fired:
                continue
            miss = self.near_miss(rule)
            if not miss.blocked and (miss.count(SATISFIED) or (screening and rule.band == "red_flag")):
                out.append(miss)
        return sorted(out, key=NearMiss.distance)

    def relevant_unknowns(self, screening: bool = False) -> list[tuple[m.Finding, tuple[str, ...]]]:
        """Unknown findings that near-miss rules read (see `relevant_rules`), with their rule ids."""
        needed: dict[str, list[str]] = {}
        for miss in self.relevant_rules(screening):
            for premise in miss.premises:
                if premise.status != UNKNOWN:
                    continue  # already decided: answering its other findings changes nothing
                for fid in premise.unknown:
                    needed.setdefault(fid, [])
                    if miss.rule.id not in needed[fid]:
                        needed[fid].append(miss.rule.id)
        return [(self.kb.findings[fid], tuple(rules)) for fid, rules in needed.items()
                if fid in self.kb.findings]

    # WHAT IF
    def what_if(self) -> list[WhatIf]:
        """Answers to unknown findings that would change the triage or add a red flag or a
        condition, most consequential first. Candidates are the findings near-miss rules read
        plus the unasked questions of open red-flag rules (`relevant_unknowns(screening=True)`)."""
        readers: dict[str, list[m.Rule]] = {}
        for rule in self.kb.rules:
            if rule.id not in self.fired:
                for fid in dict.fromkeys(rule.findings_used()):
                    readers.setdefault(fid, []).append(rule)
        before = self.result.triage
        known = {r.id for r in (*self.result.red_flags, *self.result.conditions)}
        out: list[WhatIf] = []
        for finding, rule_ids in self.relevant_unknowns(screening=True):
            for value, answer in answers_to_imagine(self.kb, finding, rule_ids):
                trial = {**self.facts, finding.id: value}
                if not any(self.evaluator.evaluate(r.when, trial, self.certainty)[0] is True
                           for r in readers.get(finding.id, ())):
                    continue  # no unfired rule would hold, so nothing can change
                engine = self.reasoner.run(trial)
                certainty, urgency = dict(engine.certainty), dict(engine.urgency)
                newly = tuple(e.rule.id for e in engine.events if e.rule.id not in self.fired)
                after = min(urgency.values(), key=m.urgency_rank) if urgency else "routine"
                gains = tuple(
                    Gain(self.kb.conclusions[cid], cf, urgency.get(cid, ""))
                    for cid, cf in certainty.items()
                    if cf > 0 and cid not in known
                    and self.kb.conclusions[cid].kind in ("red_flag", "condition"))
                if after != before or gains:
                    out.append(WhatIf(finding, value, answer, before, after,
                                      tuple(sorted(gains, key=_gain_order)), newly))
        return sorted(out, key=_what_if_order)

    # three-valued truth with `concluded:` read as "could still be reached"
    def _truth(self, cond: m.Cond) -> Truth:
        if not any(isinstance(leaf, m.Concluded) for leaf in m.leaves(cond)):
            return self.evaluator.evaluate(cond, self.facts, self.certainty)[0]
        if isinstance(cond, m.Concluded):
            return self._reachable(cond)
        if isinstance(cond, m.Not):
            inner = self._truth(cond.item)
            return None if inner is None else not inner
        assert isinstance(cond, (m.All, m.AnyOf, m.AtLeast))  # a lone Test returned above
        truths = [self._truth(item) for item in cond.items]
        if isinstance(cond, m.All):
            return False if False in truths else (None if None in truths else True)
        if isinstance(cond, m.AnyOf):
            return True if True in truths else (None if None in truths else False)
        n_true, n_unknown = truths.count(True), truths.count(None)
        if n_true >= cond.count:
            return True
        return False if n_true + n_unknown < cond.count else None

    def _reachable(self, leaf: m.Concluded) -> Truth:
        """`engine.inference.premises.concluded_truth`, the interview's answer too: reached
        strongly enough, or still reachable that strongly by the rules that have not fired."""
        cf = self.certainty.get(leaf.conclusion, 0.0)
        if concluded_truth(leaf, cf, cf):
            return True
        key = (leaf.conclusion, leaf.min_certainty)
        if key in self._reach:
            return self._reach[key]
        self._reach[key] = concluded_truth(leaf, cf, cf)  # guards against cycles while we look
        open_rules = [rule for rule in self.kb.rules_concluding(leaf.conclusion)
                      if rule.id not in self.fired and self._truth(rule.when) is not False]
        self._reach[key] = concluded_truth(leaf, cf, ceiling(cf, open_rules))
        return self._reach[key]


def _what_if_order(w: WhatIf) -> tuple[int, int, float, str, str]:
    """Triage changes first (most urgent first), then new red flags, then stronger gains."""
    triage = m.urgency_rank(w.triage_after) if w.changes_triage else len(m.TRIAGE_ORDER)
    red = 0 if any(g.conclusion.kind == "red_flag" for g in w.gains) else 1
    strongest = max((g.certainty for g in w.gains), default=0.0)
    return (triage, red, -strongest, w.finding.label, w.answer)


def _gain_order(gain: Gain) -> tuple[int, int, float, str]:
    kind_rank = 0 if gain.conclusion.kind == "red_flag" else 1
    return (kind_rank, m.urgency_rank(gain.urgency or "routine"), -gain.certainty, gain.conclusion.id)


def explainer_for(result: Assessment, reasoner: Reasoner) -> Explainer:
    """An explainer over the case's reasoning graph (built once, shared by every section)."""
    return Explainer(result, reasoner)


__all__ = [
    "CONTRADICTED",
    "SATISFIED",
    "UNKNOWN",
    "Explainer",
    "Gain",
    "NearMiss",
    "Premise",
    "Step",
    "Support",
    "WhatIf",
    "WhyNot",
    "explainer_for",
    "premises",
]
