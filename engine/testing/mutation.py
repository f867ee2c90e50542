"""Mutation testing of the knowledge base's own case tests: would they notice a broken rule?

Rule coverage says a rule fired in some test, not that a wrong certainty or a dropped premise
would be caught. So we break the knowledge base on purpose, one small change at a time (a
*mutant*), run the case tests against it, and count the mutants some test catches (*killed*).
The mutants a clinician's slip could produce:

- `drop_premise`: one item of an `all`/`any`/`at_least` group left out;
- `negate`: a comparison turned round (`fever: true` -> `false`, `gt` -> `le`, a `not:` removed);
- `threshold`: a number moved a step up or down (`age: {gt: 50}` -> `gt: 55` / `gt: 45`);
- `certainty`: a rule's certainty halved or doubled (at most 1);
- `remove_rule`: a rule left out altogether.

A mutant is data (rule id, operator, where in the condition, the new value), applied to the
loaded model with `engine.record.replace`, never to the YAML text, so it stays a valid knowledge
base and its `path:line` is the line an author would edit. Tests that fail on the unmutated
knowledge base, and `todo` tests, do not count. Mutants run on the batch worker pool.

Written here rather than with a Python mutation tool (mutmut, cosmic-ray): those mutate code,
and our rules are data the code never executes as Python.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from engine.errors import ImbalanceError, Location
from engine.inference.batch import default_jobs, run_pool
from engine.inference.premises import Evaluator
from engine.inference.reasoner import Reasoner
from engine.kb import model as m
from engine.record import replace
from engine.testing.casetests import case_of, check

OPERATORS = ("drop_premise", "negate", "threshold", "certainty", "remove_rule")
NEGATED_OP = {"eq": "ne", "ne": "eq", "lt": "ge", "ge": "lt", "le": "gt", "gt": "le"}
Path = tuple[int, ...]  # where a node sits in a rule's condition: child indexes from the root


@dataclass(frozen=True)
class Mutant:
    """One small change to one rule, and where an author would see it."""

    rule: str
    operator: str
    detail: str  # in words: "drop premise 'runner = true'"
    location: Location
    path: Path = ()
    value: Any = None  # the new node (negate, threshold), certainty, or None

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "operator": self.operator, "detail": self.detail,
                "path": self.location.path, "line": self.location.line}


@dataclass(frozen=True)
class Verdict:
    mutant: Mutant
    status: str  # killed | survived | invalid
    killed_by: str = ""  # the first test that failed

    def to_dict(self) -> dict[str, Any]:
        return {**self.mutant.to_dict(), "status": self.status, "killed_by": self.killed_by}


@dataclass(frozen=True)
class MutationReport:
    verdicts: tuple[Verdict, ...]

    def count(self, status: str) -> int:
        return sum(1 for v in self.verdicts if v.status == status)

    @property
    def score(self) -> float:
        """Killed share of the valid mutants, 0..1 (1.0 when there are none)."""
        valid = self.count("killed") + self.count("survived")
        return self.count("killed") / valid if valid else 1.0

    def by_operator(self) -> dict[str, tuple[int, int]]:
        """operator -> (killed, valid)."""
        out: dict[str, tuple[int, int]] = {}
        for v in self.verdicts:
            if v.status == "invalid":
                continue
            killed, total = out.get(v.mutant.operator, (0, 0))
            out[v.mutant.operator] = (killed + (v.status == "killed"), total + 1)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"mutants": len(self.verdicts), "killed": self.count("killed"),
                "survived": self.count("survived"), "invalid": self.count("invalid"),
                "score": round(self.score, 4),
                "by_operator": {op: {"killed": k, "mutants": n}
                                for op, (k, n) in self.by_operator().items()},
                "surviving": [v.to_dict() for v in self.verdicts if v.status == "survived"]}


# --- making mutants --------------------------------------------------------------------------


def describe(cond: m.Cond) -> str:
    """A condition in one short line, as the author wrote it."""
    if isinstance(cond, m.Test):
        value = cond.value
        shown = str(value).lower() if isinstance(value, bool) else str(value)
        return f"{cond.finding} = {shown}" if cond.op == "eq" else f"{cond.finding} {cond.op} {shown}"
    if isinstance(cond, m.Concluded):
        low = f" >= {cond.min_certainty:g}" if cond.min_certainty else ""
        return f"concluded {cond.conclusion}{low}"
    if isinstance(cond, m.Not):
        return f"not ({describe(cond.item)})"
    if isinstance(cond, m.AtLeast):
        return f"at least {cond.count} of {len(cond.items)}"
    word = "all" if isinstance(cond, m.All) else "any"
    return f"{word} of {len(cond.items)}"


def nodes(cond: m.Cond, path: Path = ()) -> Iterator[tuple[Path, m.Cond]]:
    """Every node of a condition with its path, root first."""
    yield path, cond
    if isinstance(cond, m.Not):
        yield from nodes(cond.item, (*path, 0))
    elif isinstance(cond, (m.All, m.AnyOf, m.AtLeast)):
        for index, item in enumerate(cond.items):
            yield from nodes(item, (*path, index))


def replace_at(cond: m.Cond, path: Path, new: m.Cond | None) -> m.Cond:
    """`cond` with the node at `path` replaced by `new`, or left out of its group when None."""
    if not path:
        assert new is not None, "the root of a condition cannot be left out"
        return new
    head, rest = path[0], path[1:]
    if isinstance(cond, m.Not):
        inner = replace_at(cond.item, rest, new)
        return replace(cond, item=inner)
    assert isinstance(cond, (m.All, m.AnyOf, m.AtLeast))
    items = list(cond.items)
    if not rest and new is None:
        del items[head]
        if isinstance(cond, m.AtLeast):
            return replace(cond, items=tuple(items), count=min(cond.count, len(items)))
        return replace(cond, items=tuple(items))
    items[head] = replace_at(items[head], rest, new)
    return replace(cond, items=tuple(items))


def mutants_of(kb: m.KnowledgeBase, rule: m.Rule) -> list[Mutant]:
    """Every mutant of one rule, in a stable order."""
    out: list[Mutant] = []
    for path, node in nodes(rule.when):
        if isinstance(node, (m.All, m.AnyOf, m.AtLeast)) and len(node.items) >= 2:
            for index, item in enumerate(node.items):
                out.append(Mutant(rule.id, "drop_premise", f"drop premise '{describe(item)}'",
                                  _where(item, rule), (*path, index)))
        if isinstance(node, m.Not):
            out.append(Mutant(rule.id, "negate", f"'{describe(node)}' -> '{describe(node.item)}'",
                              _where(node, rule), path, node.item))
        if isinstance(node, m.Test):
            out.extend(_test_mutants(kb, rule, path, node))
    if rule.concludes:
        at = rule.certainty_at or rule.location
        half = round(rule.certainty / 2, 4)
        out.append(Mutant(rule.id, "certainty", f"certainty {rule.certainty:g} -> {half:g}", at,
                          value=half))
        double = min(1.0, round(rule.certainty * 2, 4))
        if double != rule.certainty:
            out.append(Mutant(rule.id, "certainty", f"certainty {rule.certainty:g} -> {double:g}",
                              at, value=double))
    out.append(Mutant(rule.id, "remove_rule", "rule removed", rule.location))
    return out


def _where(node: m.Cond, rule: m.Rule) -> Location:
    return node.location if node.location.line else rule.location


def _test_mutants(kb: m.KnowledgeBase, rule: m.Rule, path: Path, test: m.Test) -> list[Mutant]:
    finding = kb.findings.get(test.finding)
    out: list[Mutant] = []
    negated: m.Test | None = None
    if test.op == "eq" and isinstance(test.value, bool):
        negated = replace(test, value=not test.value)
    elif test.op in NEGATED_OP:
        negated = replace(test, op=NEGATED_OP[test.op])
    if negated is not None:
        out.append(Mutant(rule.id, "negate", f"'{describe(test)}' -> '{describe(negated)}'",
                          _where(test, rule), path, negated))
    if (test.op in ("lt", "le", "gt", "ge") and isinstance(test.value, (int, float))
            and not isinstance(test.value, bool) and finding is not None):
        step = _step(test.value, finding)
        for moved in (test.value + step, test.value - step):
            low = finding.minimum if finding.minimum is not None else -math.inf
            high = finding.maximum if finding.maximum is not None else math.inf
            if low <= moved <= high:
                new = replace(test, value=moved)
                out.append(Mutant(rule.id, "threshold", f"'{describe(test)}' -> '{describe(new)}'",
                                  _where(test, rule), path, new))
    return out


def _step(value: float, finding: m.Finding) -> float:
    """A step an author could slip by: one for a count, else a tenth of the value (at least 1
    for whole numbers, so `ge: 6` weeks moves to 7 and 5)."""
    if finding.integer:
        return 1
    step = abs(value) / 10
    if float(value).is_integer():
        return max(1, round(step))
    return round(step, 4) or 0.1


def all_mutants(kb: m.KnowledgeBase, operators: tuple[str, ...] = OPERATORS,
                rule_filter: str = "") -> list[Mutant]:
    return [mut for rule in kb.rules if rule_filter in rule.id for mut in mutants_of(kb, rule)
            if mut.operator in operators]


def apply(kb: m.KnowledgeBase, mutant: Mutant) -> m.KnowledgeBase:
    """The knowledge base with the mutant's change made (a new object; `kb` is untouched)."""
    rules = list(kb.rules)
    index = next(i for i, r in enumerate(rules) if r.id == mutant.rule)
    rule = rules[index]
    if mutant.operator == "remove_rule":
        del rules[index]
    elif mutant.operator == "certainty":
        rules[index] = replace(rule, certainty=mutant.value)
    elif mutant.operator == "drop_premise":
        rules[index] = replace(rule, when=replace_at(rule.when, mutant.path, None))
    else:  # negate, threshold: a new node in place of the old
        rules[index] = replace(rule, when=replace_at(rule.when, mutant.path, mutant.value))
    return replace(kb, rules=tuple(rules))


# --- running them ------------------------------------------------------------------------------

_STATE: dict[str, Any] = {}


@dataclass(frozen=True)
class Baseline:
    """One counted test as it ran on the unmutated KB: what a mutant has to change."""

    test: m.CaseTest
    facts: dict[str, Any]
    fired: frozenset[str]
    concluded: dict[str, float]


def prepare(kb: m.KnowledgeBase) -> list[Baseline]:
    """The tests that count (pass on the unmutated KB, not todo), with their runs."""
    reasoner = Reasoner(kb)
    switched_off = {d.rule for d in kb.disabled}
    out = []
    for test in kb.tests:
        if test.todo or set(test.expect.fires) & switched_off:
            continue
        case = case_of(test)
        result = reasoner.assess(case)
        if check(result, test.expect):
            continue
        out.append(Baseline(test, case.facts, frozenset(result.fired_rules),
                            {r.id: r.certainty for r in (*result.red_flags, *result.conditions,
                                                         *result.causes)}))
    _STATE.update(kb=kb, tests=out)
    return out


def _init(kb: m.KnowledgeBase, tests: list[Baseline]) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the pool and reports
    _STATE.update(kb=kb, tests=tests)


def judge(mutant: Mutant) -> Verdict:
    """Run the tests a mutant can affect until one fails (killed) or none does (survived).

    A mutant changes one rule, and the findings of a test never change, so it can only make a
    difference where that rule fired before or its mutated condition holds now; every other
    test would run exactly as before. A rule reading a conclusion (`concluded:`) is run against
    every test, as the order of firing could matter there."""
    kb: m.KnowledgeBase = _STATE["kb"]
    try:
        mutated = apply(kb, mutant)
        reasoner = Reasoner(mutated, short_lived=True)
    except ImbalanceError:
        return Verdict(mutant, "invalid")
    rule = mutated.rule(mutant.rule)
    evaluator = Evaluator(mutated)
    chained = rule is not None and bool(rule.conclusions_used())
    for base in _likely_first(_STATE["tests"], kb, mutant.rule):
        if not chained and mutant.rule not in base.fired and (
                rule is None or evaluator.evaluate(rule.when, base.facts, base.concluded)[0]
                is not True):
            continue
        if check(reasoner.assess(case_of(base.test)), base.test.expect):
            return Verdict(mutant, "killed", f"{base.test.location}: {base.test.name}")
    return Verdict(mutant, "survived")


def _likely_first(tests: list[Baseline], kb: m.KnowledgeBase, rule_id: str) -> list[Baseline]:
    """Tests that name the rule or its conclusion first: most mutants die in the first few."""
    rule = kb.rule(rule_id)
    target = rule.concludes if rule is not None else ""

    def rank(base: Baseline) -> int:
        exp = base.test.expect
        if rule_id in exp.fires or rule_id in exp.not_fires:
            return 0
        if target and (target in exp.absent or any(c == target for c, _, _ in exp.present)):
            return 1
        return 2

    return sorted(tests, key=rank)


def _judge_chunk(chunk: list[Mutant]) -> list[Verdict]:
    return [judge(mutant) for mutant in chunk]


def run_mutation(kb: m.KnowledgeBase, mutants: list[Mutant], jobs: int = 0) -> MutationReport:
    """Judge every mutant; `jobs` worker processes (0: one per core) share the work."""
    tests = prepare(kb)
    jobs = jobs or default_jobs()
    if jobs <= 1 or len(mutants) < 20:
        return MutationReport(tuple(judge(mutant) for mutant in mutants))
    verdicts = run_pool(mutants, _init, (kb, tests), _judge_chunk, jobs, chunk_size=8)
    return MutationReport(tuple(verdicts))
