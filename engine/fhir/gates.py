"""Which questions only matter once another finding is present: the Questionnaire's enableWhen.

The interview never asks a question that can no longer change an open rule (`engine.interview.planner`).
Statically that is: every rule that reads finding Q also needs finding G to be present, in every
alternative of its condition (its disjunctive normal form). Then with G absent or unknown no
answer to Q can fire anything, and a form may hide Q until G is answered yes: the same gate the
interview applies, written down once for any FHIR forms tool.

Findings that any red-flag rule reads (directly, or through a conclusion a red-flag rule needs)
are never gated: the red-flag screen is always shown in full.
"""

from __future__ import annotations

from collections.abc import Iterable

from engine.authoring.rule_analysis import conjuncts
from engine.kb import model as m
from engine.kb.limits import MAX_ALTERNATIVES, alternatives

GATE_TYPES = ("boolean", "sided")


def red_flag_findings(kb: m.KnowledgeBase) -> list[str]:
    """Findings the red-flag rules depend on, flag by flag, most urgent flag first."""
    needed: dict[str, None] = {}
    flags = sorted({r.concludes for r in kb.rules if r.band == "red_flag" and r.concludes},
                   key=lambda cid: (min(m.urgency_rank(r.urgency or "soon")
                                        for r in kb.rules_concluding(cid)), cid))
    seen: set[str] = set()
    todo = list(flags)
    while todo:
        cid = todo.pop(0)
        if cid in seen:
            continue
        seen.add(cid)
        for rule in kb.rules_concluding(cid):
            for fid in rule.findings_used():
                needed.setdefault(fid, None)
            todo.extend(rule.conclusions_used())
    return [fid for fid in needed if fid in kb.findings]


def _required_present(rule: m.Rule, kb: m.KnowledgeBase) -> set[str]:
    """Findings that must be present (true, or any side) for `rule` to fire at all."""
    if alternatives(rule.when) > MAX_ALTERNATIVES:
        return set()
    common: set[str] | None = None
    for alternative in conjuncts(rule.when):
        present = set()
        for literal in alternative:
            leaf = literal.leaf
            if (literal.positive and isinstance(leaf, m.Test) and leaf.op == "eq" and leaf.value is True
                    and leaf.finding in kb.findings and kb.findings[leaf.finding].type in GATE_TYPES):
                present.add(leaf.finding)
        common = present if common is None else common & present
    return common or set()


def gates(kb: m.KnowledgeBase, order: Iterable[str]) -> dict[str, str]:
    """finding id -> the finding that must be present before it can matter.

    `order` is the questionnaire's order of findings; among several possible gates the one asked
    earliest is chosen, so a form shows the gate before the question it opens.
    """
    position = {fid: i for i, fid in enumerate(order)}
    screen = set(red_flag_findings(kb))
    readers: dict[str, list[m.Rule]] = {}
    for rule in kb.rules:
        for fid in dict.fromkeys(rule.findings_used()):
            readers.setdefault(fid, []).append(rule)
    out: dict[str, str] = {}
    for fid, rules in readers.items():
        if fid in screen or fid not in kb.findings or kb.findings[fid].category == "patient":
            continue
        common: set[str] | None = None
        for rule in rules:
            need = _required_present(rule, kb) - {fid}
            common = need if common is None else common & need
        candidates = [g for g in common or () if g in position]
        if candidates:
            gate = min(candidates, key=position.__getitem__)
            if gates_chain_ok(out, fid, gate):
                out[fid] = gate
    return out


def gates_chain_ok(table: dict[str, str], fid: str, gate: str) -> bool:
    """No cycles: following the gates from `gate` must never come back to `fid`."""
    seen = {fid}
    current: str | None = gate
    while current is not None:
        if current in seen:
            return False
        seen.add(current)
        current = table.get(current)
    return True
