"""A case that tells a mutant from the real rule: what `kb test --mutate --suggest` proposes.

A surviving mutant says "no test would notice this slip"; the fix is a case test where the
slip changes the outcome. Finding one by hand means reading the rule and working out a patient
for whom, say, dropping one premise makes a difference. This module does that reading: it
builds findings that make a condition true (or false) with as little as possible (only the
premises the rule names; everything else stays unknown), tries a few such patients, and keeps
the first one whose assessment differs between the knowledge base and the mutant.

The draft it returns is the *case*, with what the current knowledge base does for it; whether
that is clinically right is for the author to judge before the test is kept (the test records a
claim, such as "without saddle numbness this rule must not fire", not a snapshot).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.cases.case import Case
from engine.inference.assessment import Assessment
from engine.inference.reasoner import Reasoner
from engine.kb import model as m
from engine.testing.mutation import Mutant, apply

Assignment = dict[str, Any]
MAX_CHAIN = 4  # `concluded:` premises followed this deep when building a patient


@dataclass(frozen=True)
class Killer:
    """A patient whose outcome differs under the mutant, and how."""

    mutant: Mutant
    findings: Assignment
    patient: Assignment
    original: Assessment
    mutated: Assessment


def _merge(a: Assignment | None, b: Assignment | None) -> Assignment | None:
    if a is None or b is None:
        return None
    out = dict(a)
    for key, value in b.items():
        if key in out and out[key] != value:
            return None
        out[key] = value
    return out


class Builder:
    """Findings that make a condition hold (`want=True`) or fail (`want=False`)."""

    def __init__(self, kb: m.KnowledgeBase, choice: int = 0) -> None:
        self.kb = kb
        self.choice = choice  # which alternative of an `any:` to take (mod its length)

    def build(self, cond: m.Cond, want: bool, depth: int = 0) -> Assignment | None:
        if isinstance(cond, m.Test):
            value = self._value(cond, want)
            return None if value is _NONE else {cond.finding: value}
        if isinstance(cond, m.Concluded):
            return self._concluded(cond, want, depth)
        if isinstance(cond, m.Not):
            return self.build(cond.item, not want, depth)
        items = list(cond.items)
        if isinstance(cond, m.AtLeast):
            need = cond.count if want else len(items) - cond.count + 1
            return self._several(items, want, need, depth)
        if isinstance(cond, m.All):
            return self._several(items, want, len(items) if want else 1, depth)
        return self._several(items, want, 1 if want else len(items), depth)

    def _several(self, items: list[m.Cond], want: bool, need: int, depth: int) -> Assignment | None:
        start = self.choice % len(items)
        order = items[start:] + items[:start]
        out: Assignment = {}
        got = 0
        for item in order:
            part = _merge(out, self.build(item, want, depth))
            if part is not None:
                out = part
                got += 1
                if got == need:
                    return out
        return None

    def _concluded(self, cond: m.Concluded, want: bool, depth: int) -> Assignment | None:
        if not want:
            return {}  # nothing concluded it: false (no rule concluding it fires)
        if depth >= MAX_CHAIN:
            return None
        rules = sorted((r for r in self.kb.rules if r.concludes == cond.conclusion and not r.against
                        and r.certainty >= cond.min_certainty), key=lambda r: -r.certainty)
        for rule in rules:
            found = self.build(rule.when, True, depth + 1)
            if found is not None:
                return found
        return None

    def _value(self, test: m.Test, want: bool) -> Any:
        finding = self.kb.findings.get(test.finding)
        op, value = test.op, test.value
        ftype = finding.type if finding else "boolean"
        if op == "in":
            if want:
                return value[0]
            others = [v for v in self._domain(finding) if v not in value]
            return others[0] if others else _NONE
        if op in ("eq", "ne"):
            equal = want if op == "eq" else not want
            if equal:
                return "left" if ftype == "sided" and value is True else value
            if isinstance(value, bool):
                return not value
            others = [v for v in self._domain(finding) if v != value and v != "bilateral"]
            return others[0] if others else _NONE
        step = 1 if finding is None or finding.integer or float(value).is_integer() else 0.1
        low = finding.minimum if finding and finding.minimum is not None else -1e9
        high = finding.maximum if finding and finding.maximum is not None else 1e9
        # the value nearest the threshold on the wanted side: boundaries are where slips hide
        table = {("gt", True): value + step, ("ge", True): value, ("lt", True): value - step,
                 ("le", True): value, ("gt", False): value, ("ge", False): value - step,
                 ("lt", False): value, ("le", False): value + step}
        chosen = table[(op, want)]
        if not low <= chosen <= high:
            return _NONE
        return int(chosen) if float(chosen).is_integer() else round(chosen, 4)

    def _domain(self, finding: m.Finding | None) -> list[Any]:
        if finding is None:
            return []
        if finding.type == "enum":
            return list(finding.values)
        if finding.type == "sided":
            return [False, "left", "right", "bilateral"]
        return [True, False]


_NONE = object()


def _case(findings: Assignment, kb: m.KnowledgeBase) -> Case:
    patient: dict[str, Any] = {k: findings[k] for k in ("age", "sex") if k in findings}
    rest = {k: v for k, v in findings.items() if k not in patient}
    return Case("<suggested>", patient, rest)


def observable(result: Assessment) -> tuple[Any, ...]:
    """What a case test can see: triage, reached conclusions and certainties, rules fired,
    advice and muscles."""
    reached = tuple(sorted((r.id, round(r.certainty, 3)) for r in (
        *result.red_flags, *result.conditions, *result.causes)))
    return (result.triage, reached, tuple(sorted(result.fired_rules)),
            tuple(sorted(a.id for a in result.recommendations)), result.stretch, result.strengthen)


def _dropped(rule: m.Rule, mutant: Mutant) -> m.Cond | None:
    if mutant.operator != "drop_premise" or not mutant.path:
        return None
    node: m.Cond = rule.when
    for index in mutant.path:
        if isinstance(node, m.Not):
            node = node.item
        elif isinstance(node, (m.All, m.AnyOf, m.AtLeast)):
            node = node.items[index]
    return node


def find_killer(kb: m.KnowledgeBase, mutant: Mutant, reasoner: Reasoner | None = None,
                tries: int = 6) -> Killer | None:
    """The first small patient whose outcome differs between `kb` and the mutant, or None
    (the mutant may be equivalent: no patient can tell them apart)."""
    original = reasoner or Reasoner(kb)
    mutated_kb = apply(kb, mutant)
    mutated = Reasoner(mutated_kb, short_lived=True)
    rule = kb.rule(mutant.rule)
    after = mutated_kb.rule(mutant.rule)
    conditions = [c for c in (rule.when if rule else None, after.when if after else None) if c]
    dropped = _dropped(rule, mutant) if rule is not None else None
    seen: list[Assignment] = []
    for choice in range(tries):
        builder = Builder(kb, choice)
        candidates = [builder.build(cond, want) for cond in conditions for want in (True, False)]
        if dropped is not None and after is not None:
            # the premise left out, made false while the rest holds: only the mutant fires
            candidates.insert(0, _merge(builder.build(after.when, True),
                                        builder.build(dropped, False)))
        for findings in candidates:
            if findings is None or findings in seen:
                continue
            seen.append(findings)
            case = _case(findings, kb)
            before, now = original.assess(case), mutated.assess(case)
            if observable(before) != observable(now):
                return Killer(mutant, dict(case.findings), dict(case.patient), before, now)
    return None


def draft(kb: m.KnowledgeBase, killer: Killer) -> dict[str, Any]:
    """A case test that kills the mutant: the case, and the expectations that differ, as the
    knowledge base answers now (the author confirms they are clinically right)."""
    mut = killer.mutant
    before, now = killer.original, killer.mutated
    rule = kb.rule(mut.rule)
    title = rule.title if rule else mut.rule
    expect: dict[str, Any] = {"triage": before.triage}
    fired_before, fired_now = set(before.fired_rules), set(now.fired_rules)
    if mut.rule in fired_before and mut.rule not in fired_now:
        expect["fires"] = [mut.rule]
        name = f"{title}: fires with {_shown(killer)}"
    elif mut.rule in fired_now and mut.rule not in fired_before:
        expect["not_fires"] = [mut.rule]
        name = f"{title}: not with {_shown(killer)}"
    else:
        name = f"{title}: {mut.detail.split(' -> ')[0]} with {_shown(killer)}"
    reached_before = {r.id: r.certainty for r in (*before.red_flags, *before.conditions,
                                                  *before.causes)}
    reached_now = {r.id: r.certainty for r in (*now.red_flags, *now.conditions, *now.causes)}
    present: dict[str, Any] = {}
    absent = []
    for cid in sorted(set(reached_before) | set(reached_now)):
        old, new = reached_before.get(cid), reached_now.get(cid)
        if old is None:
            absent.append(cid)
        elif new is None or abs(old - new) > 0.005:
            low, high = max(0.0, round(old - 0.02, 2)), min(1.0, round(old + 0.02, 2))
            present[cid] = {"min": low, "max": high}
    if present:
        expect["present"] = present
    if absent:
        expect["absent"] = absent
    recs_before = {a.id for a in before.recommendations}
    recs_now = {a.id for a in now.recommendations}
    if recs_before - recs_now:
        expect["recommends"] = sorted(recs_before - recs_now)
    if recs_now - recs_before:
        expect["not_recommends"] = sorted(recs_now - recs_before)
    out: dict[str, Any] = {"name": name}
    if killer.patient:
        out["patient"] = dict(killer.patient)
    out["findings"] = dict(killer.findings)
    out["expect"] = expect
    return out


def _shown(killer: Killer) -> str:
    parts = [f"{k} {v}" if not isinstance(v, bool) else (k if v else f"no {k}")
             for k, v in {**killer.patient, **killer.findings}.items()]
    text = ", ".join(parts)
    return text if len(text) <= 90 else text[:87] + "..."


def to_yaml(tests: list[dict[str, Any]]) -> str:
    """Case tests in the house style: flow mappings for findings and bounds, one key a line."""
    import json

    def scalar(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(value)
        text = str(value)
        plain = text.replace("_", "").replace(" ", "").isalnum() and not text[0].isdigit()
        return text if plain and text not in ("yes", "no", "on", "off", "null", "true", "false") \
            else json.dumps(text)

    def flow(mapping: dict[str, Any]) -> str:
        return "{" + ", ".join(f"{k}: {scalar(v)}" for k, v in mapping.items()) + "}"

    lines = ["tests:"]
    for test in tests:
        lines.append(f"  - name: {json.dumps(test['name'])}")
        if "patient" in test:
            lines.append(f"    patient: {flow(test['patient'])}")
        lines.append(f"    findings: {flow(test['findings'])}")
        lines.append("    expect:")
        for key, value in test["expect"].items():
            if isinstance(value, list):
                lines.append(f"      {key}: [{', '.join(value)}]")
            elif isinstance(value, dict):
                lines.append(f"      {key}:")
                lines += [f"        {cid}: {flow(bounds)}" for cid, bounds in value.items()]
            else:
                lines.append(f"      {key}: {scalar(value)}")
    return "\n".join(lines) + "\n"
