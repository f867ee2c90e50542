"""The plain-Python reference: the same rules run to a fixpoint with no engine at all.

What an inference engine costs on top of the rules themselves. This reference has what any
fast forward chainer for rules without variables needs, and nothing else: the premises as
closures (the same `engine.inference.closures` the engine calls, so the comparison isolates
the engine's own machinery: experta's working memory, agenda, activations and our matcher),
an index from each finding and conclusion to the rules that read it, and a heap by firing
priority with lazy deletion (a popped rule is evaluated again and skipped if it no longer
holds). Certainties combine and round as the engine does (`combine`, `round_cf`).

`bench/run.py` times it next to experta and CLIPS on the same cases; the target is experta
within 1.5x of it. The test suite checks that it reaches the same results as the engine.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.inference.closures import Premise, compile_premise
from engine.inference.compiler import firing_order
from engine.inference.premises import combine, round_cf
from engine.kb import model as m


@dataclass(frozen=True)
class FixpointResult:
    certainty: dict[str, float]
    urgency: dict[str, str]
    fired: tuple[str, ...]


class Fixpoint:
    """The KB's rules in firing order, their premises, and who reads what."""

    def __init__(self, kb: m.KnowledgeBase) -> None:
        self.kb = kb
        ordered = firing_order(kb)
        self.rules = ordered
        shared: dict[Any, Any] = {}  # leaf data made once, as the engine's compiler does
        self.premises: list[Premise] = [compile_premise(r.when, kb, shared) for r in ordered]
        finding_readers: dict[str, list[int]] = {}
        conclusion_readers: dict[str, list[int]] = {}
        for i, rule in enumerate(ordered):
            for leaf in m.leaves(rule.when):
                if isinstance(leaf, m.Test):
                    finding_readers.setdefault(leaf.finding, []).append(i)
                else:
                    conclusion_readers.setdefault(leaf.conclusion, []).append(i)
        self.finding_readers = {k: tuple(dict.fromkeys(v)) for k, v in finding_readers.items()}
        self.conclusion_readers = {k: tuple(dict.fromkeys(v)) for k, v in conclusion_readers.items()}
        self.initially = tuple(i for i, p in enumerate(self.premises) if p({}, {}) > 0)
        self.levels = [
            (r.urgency or kb.conclusions[r.concludes].urgency)
            if r.concludes and (r.urgency or r.kind == "red_flag") else "" for r in ordered]

    def run(self, facts: Mapping[str, Any]) -> FixpointResult:
        rules, premises = self.rules, self.premises
        findings = {fid: v for fid, v in facts.items() if fid in self.finding_readers}
        certainty: dict[str, float] = {}
        urgency: dict[str, str] = {}
        fired: list[str] = []
        done: set[int] = set()
        marked = set(self.initially)
        for fid in findings:
            marked.update(self.finding_readers[fid])
        heap = [i for i in marked if premises[i](findings, certainty) > 0]
        heapq.heapify(heap)
        while heap:
            i = heapq.heappop(heap)
            if i in done:
                continue
            premise_cf = premises[i](findings, certainty)
            if premise_cf <= 0:
                continue  # stopped holding since it was pushed
            done.add(i)
            rule = rules[i]
            fired.append(rule.id)
            cid = rule.concludes
            if not cid:
                continue
            contribution = round_cf(rule.signed_certainty * premise_cf)
            certainty[cid] = round_cf(combine(certainty.get(cid, 0.0), contribution))
            level = self.levels[i]
            if level and (cid not in urgency
                          or m.urgency_rank(level) < m.urgency_rank(urgency[cid])):
                urgency[cid] = level
            for j in self.conclusion_readers.get(cid, ()):
                if j not in done and premises[j](findings, certainty) > 0:
                    heapq.heappush(heap, j)
        return FixpointResult(certainty, urgency, tuple(fired))


__all__ = ["Fixpoint", "FixpointResult"]
