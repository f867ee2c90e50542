"""What a change to the knowledge base does to a caseload: `imbalance kb diff`.

An author changes a rule and wants to know, before shipping, which patients would now be told
something different. We assess every case twice, once with the base knowledge base (say the
last release) and once with the current one, and keep the cases whose triage, red flags,
conditions (id or certainty band), plan or risk group changed, each change with the rules
responsible. The caseload runs through the batch machinery (`engine.inference.batch`: its item
reader, its case checks and its worker pool), so 100,000 cases stream in bounded memory; this
module adds only the comparison, `diff_item`, a pure function of one item once `prepare` has
run in the process.

A case only the current vocabulary can read (it uses a new finding) is reported as a change
("base cannot read it"), not as a failure: that is exactly what a new finding does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from engine.errors import ImbalanceError, InputError, Location
from engine.inference import batch
from engine.inference.assessment import Assessment
from engine.inference.reasoner import Reasoner
from engine.kb import model as m
from engine.record import Record, fields

ASPECTS = ("triage", "red_flag", "condition", "plan", "risk_group", "readable")


@dataclass(frozen=True)
class Change:
    """One way one case came out differently: `before` and `after` in words."""

    aspect: str  # one of ASPECTS
    what: str  # the red flag or condition id; '' for triage, plan, risk group
    before: str
    after: str
    rules: tuple[str, ...] = ()
    kind: str = ""  # added | removed | band | urgency | less_urgent | more_urgent | changed

    def to_dict(self) -> dict[str, Any]:
        return {"aspect": self.aspect, "id": self.what, "change": self.kind,
                "before": self.before, "after": self.after, "rules": list(self.rules)}


@dataclass(frozen=True)
class CaseDiff:
    """The changes in one case (none when it came out the same), or the error that stopped it."""

    id: str
    name: str
    changes: tuple[Change, ...] = ()
    error: str = ""

    @property
    def less_urgent(self) -> bool:
        return any(c.kind == "less_urgent" for c in self.changes)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "case": self.name}
        if self.error:
            out["error"] = self.error
        else:
            out["less_urgent"] = self.less_urgent
            out["changes"] = [c.to_dict() for c in self.changes]
        return out


@dataclass
class Summary:
    """Counts over the whole caseload: what changed how often, and which rules were behind it."""

    cases: int = 0
    changed: int = 0
    errors: int = 0
    kinds: Counter[tuple[str, str]] = field(default_factory=Counter)  # (aspect, kind) -> cases
    rules: Counter[str] = field(default_factory=Counter)  # rule id -> cases it changed
    less_urgent: int = 0

    def add(self, diff: CaseDiff) -> None:
        self.cases += 1
        if diff.error:
            self.errors += 1
            return
        if not diff.changes:
            return
        self.changed += 1
        self.less_urgent += diff.less_urgent
        for aspect, kind in {(c.aspect, c.kind) for c in diff.changes}:
            self.kinds[(aspect, kind)] += 1
        for rule in {r for c in diff.changes for r in c.rules}:
            self.rules[rule] += 1

    def to_dict(self) -> dict[str, Any]:
        return {"cases": self.cases, "changed": self.changed, "errors": self.errors,
                "less_urgent": self.less_urgent,
                "changes": [{"aspect": a, "change": k, "cases": n}
                            for (a, k), n in sorted(self.kinds.items(), key=_aspect_order)],
                "rules": [{"id": r, "cases": n} for r, n in self.rules.most_common()]}


def _aspect_order(item: tuple[tuple[str, str], int]) -> tuple[int, str]:
    (aspect, kind), _ = item
    return ASPECTS.index(aspect), kind


# --- the rules that changed between the two knowledge bases ------------------------------------


def _plain(value: Any) -> Any:
    """A rule (or part of one) without where it is written, so moving a rule is no change."""
    if isinstance(value, Location):
        return None
    if isinstance(value, Record):
        return (type(value).__name__,
                tuple(_plain(getattr(value, name)) for name in fields(value)
                      if name not in ("location", "order", "layer", "lint_off", "lines",
                                     "status", "reviewed_by", "reviewed_on")))
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value


def changed_rules(base: m.KnowledgeBase, current: m.KnowledgeBase) -> frozenset[str]:
    """Ids of the rules added, removed or edited (premises, certainty, advice, ...)."""
    before = {r.id: _plain(r) for r in base.rules}
    after = {r.id: _plain(r) for r in current.rules}
    return frozenset(rid for rid in before.keys() | after.keys() if before.get(rid) != after.get(rid))


# --- one case -----------------------------------------------------------------------------------

_STATE: dict[str, Any] = {}


def prepare(base_dirs: tuple[str, ...], kb_dirs: tuple[str, ...]) -> tuple[m.KnowledgeBase,
                                                                            m.KnowledgeBase]:
    """Load and compile both knowledge bases once per process (forked workers inherit them).

    `base_dirs[0]` is a whole knowledge base (a `kb/` folder), any further ones layers on it;
    the current one is the shipped `kb/` plus `kb_dirs`. A broken base is bad input."""
    key = (base_dirs, kb_dirs)
    if _STATE.get("key") != key:
        from engine.kb.loader import load_kb, load_layers

        loaded = load_layers(base_dirs)
        if loaded.errors:
            first = loaded.errors[0]
            raise InputError(f"the base knowledge base does not load: {first.render()}",
                             key="--base", suggestion=f"{len(loaded.errors)} error(s); run "
                             "'imbalance kb lint' in that checkout")
        base = loaded.kb
        current = load_kb(kb_dirs)
        _STATE.update(key=key, base=Reasoner(base), current=Reasoner(current),
                      changed=changed_rules(base, current))
    return _STATE["base"].kb, _STATE["current"].kb


def _worker_init(base_dirs: tuple[str, ...], kb_dirs: tuple[str, ...]) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    prepare(base_dirs, kb_dirs)


def diff_item(item: batch.Item) -> CaseDiff:
    """Assess one case with both knowledge bases and say what changed; never raises for a case."""
    if item.error:
        return CaseDiff(item.id, item.name, error=item.error)
    base: Reasoner = _STATE["base"]
    current: Reasoner = _STATE["current"]
    try:
        now = current.assess(batch.case_of_item(item, current.kb))
    except ImbalanceError as exc:
        return CaseDiff(item.id, item.name, error=exc.render())
    try:
        then = base.assess(batch.case_of_item(item, base.kb))
    except ImbalanceError as exc:
        return CaseDiff(item.id, item.name, (Change("readable", "", f"not readable: {exc.render()}",
                                                    "readable", (), "changed"),))
    return CaseDiff(item.id, item.name, tuple(compare(then, now, _STATE["changed"])))


def _diff_chunk(chunk: list[batch.Item]) -> list[CaseDiff]:
    return [diff_item(item) for item in chunk]


def run_diff(items: Iterable[batch.Item], base_dirs: tuple[str, ...], kb_dirs: tuple[str, ...],
             jobs: int) -> Iterator[CaseDiff]:
    """Every case's diff, in input order, in `jobs` worker processes (the batch pool)."""
    prepare(base_dirs, kb_dirs)  # a broken knowledge base stops here, before any worker
    if jobs <= 1:
        for item in items:
            yield diff_item(item)
        return
    yield from batch.run_pool(items, _worker_init, (base_dirs, kb_dirs), _diff_chunk, jobs)


# --- comparing two assessments of one case -------------------------------------------------------


def compare(then: Assessment, now: Assessment, changed: frozenset[str]) -> list[Change]:
    """The changes from `then` (base) to `now` (current), each with the rules responsible: those
    that fired in one run only, or fired and were edited, filtered to the ones that conclude the
    changed item where any do."""
    fired_then, fired_now = then.fired_rules, now.fired_rules
    seen_then, seen_now = set(fired_then), set(fired_now)
    suspects = [rid for rid in dict.fromkeys([*fired_then, *fired_now])
                if rid in changed or (rid in seen_then) != (rid in seen_now)]
    suspects += sorted(rid for rid in changed if rid not in seen_then and rid not in seen_now
                       and (then.kb.rule(rid) is None) != (now.kb.rule(rid) is None))

    def concludes(rid: str) -> set[str]:
        return {r.concludes for r in (then.kb.rule(rid), now.kb.rule(rid)) if r is not None}

    def advises(rid: str) -> bool:
        return any(r is not None and (r.recommend or r.concludes)
                   for r in (then.kb.rule(rid), now.kb.rule(rid)))

    def responsible(ids: set[str]) -> tuple[str, ...]:
        fired = [rid for rid in suspects if concludes(rid) & ids]
        return tuple(fired or suspects)

    out: list[Change] = []
    if then.triage != now.triage:
        worse = m.urgency_rank(now.triage) < m.urgency_rank(then.triage)
        flags = {r.id for r in (*then.red_flags, *now.red_flags)}
        out.append(Change("triage", "", then.triage, now.triage, responsible(flags),
                          "more_urgent" if worse else "less_urgent"))
    flags_then = {r.id: r.urgency for r in then.red_flags}
    flags_now = {r.id: r.urgency for r in now.red_flags}
    for fid in dict.fromkeys([*flags_then, *flags_now]):
        before, after = flags_then.get(fid, ""), flags_now.get(fid, "")
        if before != after:
            kind = "added" if not before else "removed" if not after else "urgency"
            out.append(Change("red_flag", fid, before or "absent", after or "absent",
                              responsible({fid}), kind))
    conds_then = {r.id: r.certainty for r in then.conditions}
    conds_now = {r.id: r.certainty for r in now.conditions}
    for cid in dict.fromkeys([*conds_then, *conds_now]):
        before_cf, after_cf = conds_then.get(cid), conds_now.get(cid)
        if before_cf is None or after_cf is None:
            kind = "added" if before_cf is None else "removed"
        elif m.certainty_band(before_cf) != m.certainty_band(after_cf):
            kind = "band"
        else:
            continue
        out.append(Change("condition", cid, _band(before_cf), _band(after_cf), responsible({cid}),
                          kind))
    plan_then = [a.id for a in then.plan]
    plan_now = [a.id for a in now.plan]
    if plan_then != plan_now:
        rules = tuple(rid for rid in suspects if advises(rid)) or tuple(suspects)
        out.append(Change("plan", "", ", ".join(plan_then) or "nothing",
                          ", ".join(plan_now) or "nothing", rules, "changed"))
    risk_then, risk_now = _risk(then), _risk(now)
    if risk_then != risk_now:
        out.append(Change("risk_group", "", risk_then, risk_now, (), "changed"))
    return out


def _band(cf: float | None) -> str:
    return "absent" if cf is None else f"{m.certainty_band(cf)} ({cf:.2f})"


def _risk(result: Assessment) -> str:
    group = getattr(result, "risk_group", None)
    if isinstance(group, dict):
        return str(group.get("id", "none"))
    return "none"


__all__ = [
    "CaseDiff",
    "Change",
    "Summary",
    "changed_rules",
    "compare",
    "diff_item",
    "prepare",
    "run_diff",
]
