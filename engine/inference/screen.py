"""The red-flag screen a case's presentation calls for, and which of its questions are unanswered.

Why this exists: a case that records only `low_back_pain: true` raises no red flag, and without
this it reads "ROUTINE" and nothing more. But a finding that is not listed is *unknown*, not
`false` (the contract), so a clinician must be told when the red-flag screen was never done:
silence must not read as reassurance. Every output shows this notice under the triage line.

What the screen is, derived from the knowledge base alone (never a list of ids in code):

- **Which red flags.** A red flag with no `sites:` in `kb/conclusions/red_flags.yaml` belongs to
  the general screen every musculoskeletal presentation gets, whatever the site, and with no
  site recorded at all (cauda equina, cord compression, infection, fracture, malignancy: the
  interview asks these whatever the body chart says). A red flag with `sites:` (cardiac pain
  referred to the arm or neck, an aneurysm felt in the back or groin, a hamstring avulsion)
  belongs to the screen only when the case marks one of its sites.
- **Which questions.** For each of those red-flag rules still *open* in three-valued logic
  (`engine.inference.premises.Evaluator`: unknown, not yet true nor false), the unanswered
  findings under its undecided premises: the interview's notion of a question that can still
  decide a rule (`engine.interview.survey`). Where it hurts is not itself a screening
  question: pain sites are never listed (they define the presentation), so a rule that waits
  only on a site counts as screened.
- **When it is done.** A red flag is screened once every rule for it is decided by the
  answers (answered yes or no: both are screened). A red flag already raised is screened once
  every rule that could make it *more urgent* is decided: found at SOON or URGENT, it still
  lists the questions of its more urgent rules (`raised_at` says where it stands), because an
  unasked saddle anaesthesia can turn a SOON cauda equina into an emergency; found at its most
  urgent, its own action says what to do and it is not listed. So a case that recorded the key
  negatives is not nagged, and a question whose answer could not change any red flag or its
  urgency is never listed.

Two invariants follow and are tested with hypothesis (`tests/test_screen.py`): answering every
listed question empties the list or raises that red flag; and adding an answer never adds a
question to a red flag already screened. The screen is read-only: it never changes the triage,
red flags, conditions, plan or review.

Hand-written because it is ours: the KB's rules and sites decide it; no library knows them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from engine.inference.premises import Evaluator, Truth, predicate
from engine.kb import model as m
from engine.kb.sites import site_findings
from engine.kb.values import is_present
from engine.record import Record


class Unscreened(Record):
    """One red flag of the screen not yet ruled in or out, with the questions that could; or a
    red flag found at one urgency whose more urgent rules are still open (`raised_at` set), with
    the questions that could make it more urgent."""

    red_flag: str
    urgency: str  # the most urgent level an answer could still raise it to
    findings: tuple[str, ...]  # unanswered finding ids, the most telling rule's first
    raised_at: str = ""  # the urgency it was already found at; "" when it was not found

    def to_dict(self) -> dict[str, Any]:
        return {"red_flag": self.red_flag, "urgency": self.urgency, "findings": list(self.findings),
                "raised_at": self.raised_at or None}


class Screen(Record):
    """The red-flag screen of one case: the red flags still unscreened, most urgent first."""

    unanswered: tuple[Unscreened, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.unanswered

    @property
    def findings(self) -> tuple[str, ...]:
        """Every unanswered question of the screen, each once, most urgent flag's first."""
        return tuple(dict.fromkeys(f for item in self.unanswered for f in item.findings))

    def to_dict(self) -> dict[str, Any]:
        """The JSON `screen` key (an addition to the contract's keys)."""
        return {"complete": self.complete, "unanswered": [u.to_dict() for u in self.unanswered]}

    @classmethod
    def from_dict(cls, data: Any) -> Screen | None:
        """A stored `screen` key read back (the clinic keeps results as JSON); None for a result
        saved before the key existed, or one not shaped like it."""
        if not isinstance(data, dict) or not isinstance(data.get("unanswered"), list):
            return None
        items = []
        for raw in data["unanswered"]:
            if isinstance(raw, dict) and isinstance(raw.get("findings"), list):
                items.append(Unscreened(str(raw.get("red_flag", "")), str(raw.get("urgency", "")),
                                        tuple(str(f) for f in raw["findings"]),
                                        str(raw.get("raised_at") or "")))
        return cls(tuple(items))


class _Tables:
    """Built once per KB: for each red flag its rules, most urgent and most telling first, each
    as (urgency, its rank, its compiled condition); and the sites."""

    def __init__(self, kb: m.KnowledgeBase) -> None:
        self.kb = kb
        evaluator = Evaluator(kb)
        self.sites = site_findings(kb)
        rules: dict[str, list[m.Rule]] = {}
        for rule in kb.rules:
            if rule.kind == "red_flag" and rule.concludes and not rule.against:
                rules.setdefault(rule.concludes, []).append(rule)
        self.rules: dict[str, list[tuple[str, int, Live]]] = {}
        for cid, found in rules.items():
            found.sort(key=lambda r: (m.urgency_rank(kb.flag_urgency(r)), -r.certainty, r.order))
            self.rules[cid] = [(kb.flag_urgency(r), m.urgency_rank(kb.flag_urgency(r)),
                                _live(evaluator, r.when)) for r in found]
        catalogue = list(kb.conclusions)
        self.flags = sorted(self.rules, key=catalogue.index)


_TABLES: dict[int, _Tables] = {}


def _tables(kb: m.KnowledgeBase) -> _Tables:
    found = _TABLES.get(id(kb))
    if found is None or found.kb is not kb:
        found = _TABLES[id(kb)] = _Tables(kb)
    return found


def applies(conclusion: m.Conclusion, presentation: Collection[str]) -> bool:
    """Whether a red flag is in the screen for a presentation (the pain sites marked): always
    when it names no sites, else when one of its sites is marked."""
    return not conclusion.sites or any(fid in presentation for fid in conclusion.sites)


def red_flag_screen(kb: m.KnowledgeBase, facts: Mapping[str, Any],
                    raised: Mapping[str, str] | Collection[str] = (),
                    certainty: Mapping[str, float] | None = None) -> Screen:
    """The unscreened red flags of a case: `facts` are what the rules see (findings plus age and
    sex), `raised` the red flags already found with the urgency each was found at (a plain
    collection of ids: found at their most urgent), `certainty` the conclusions reached (for a
    rule that reads one).

    A red flag found at a lower urgency than some of its rules could still give is listed with
    the questions of those rules only: a possible cauda equina syndrome found at SOON from
    bilateral sciatica is an emergency if saddle anaesthesia is present, so while that is
    unasked the flag is not screened."""
    tables = _tables(kb)
    concluded = certainty or {}
    found_at = dict(raised) if isinstance(raised, Mapping) else dict.fromkeys(raised, "emergency")
    presentation = {fid for fid in tables.sites if is_present(facts.get(fid))}
    out: list[Unscreened] = []
    for cid in tables.flags:
        now = found_at.get(cid, "")
        if not now and not applies(kb.conclusions[cid], presentation):
            continue
        ceiling = m.urgency_rank(now) if now else len(m.TRIAGE_ORDER)
        urgency = ""
        found: dict[str, None] = {}
        for level, rank, condition in tables.rules[cid]:
            if rank >= ceiling:
                continue  # it could not make the flag more urgent than it already is
            live = [f for f in condition(facts, concluded)[1] if f not in tables.sites]
            if live:
                urgency = urgency or level  # rules are sorted most urgent first
                found.update(dict.fromkeys(live))
        if found:
            out.append(Unscreened(cid, urgency, tuple(found), now))
    # most urgent first; within a level the general screen before the site-specific flags
    out.sort(key=lambda u: (m.urgency_rank(u.urgency), bool(kb.conclusions[u.red_flag].sites)))
    return Screen(tuple(out))


Found = tuple[Truth, tuple[str, ...]]  # a condition's truth and its unanswered findings
Live = Callable[[Mapping[str, Any], Mapping[str, float]], Found]
_SETTLED: tuple[str, ...] = ()


def _live(evaluator: Evaluator, cond: m.Cond) -> Live:
    """`cond` compiled, once per KB, into a function of the answers and the conclusions reached
    giving its truth and, when it is undecided, the unanswered findings under its undecided
    parts: answering them is what can still decide it (a part already true or false is settled,
    whatever its other findings say). Three-valued as `Evaluator.evaluate`, and each node is
    decided once (tests/test_screen_onepass.py checks both against the definition): the screen
    runs for every assessment, batch lines included."""
    if isinstance(cond, m.Test):
        fid = cond.finding
        finding = evaluator.kb.findings.get(fid)
        check = predicate(cond, finding.type if finding else "boolean")
        unanswered = (fid,)

        def test(facts: Mapping[str, Any], _concluded: Mapping[str, float]) -> Found:
            if fid in facts:
                return check(facts[fid]), _SETTLED
            return None, unanswered
        return test
    if isinstance(cond, m.Concluded):
        def concluded(facts: Mapping[str, Any], reached: Mapping[str, float]) -> Found:
            return evaluator.evaluate(cond, facts, reached)[0], _SETTLED
        return concluded
    if isinstance(cond, m.Not):
        inner = _live(evaluator, cond.item)

        def negated(facts: Mapping[str, Any], reached: Mapping[str, float]) -> Found:
            truth, live = inner(facts, reached)
            return (None if truth is None else not truth), live
        return negated
    items = tuple(_live(evaluator, item) for item in cond.items)
    need = cond.count if isinstance(cond, m.AtLeast) else (len(items) if isinstance(cond, m.All) else 1)

    def group(facts: Mapping[str, Any], reached: Mapping[str, float]) -> Found:
        # all: every item must hold; any: one; at_least: `count`: true once `need` hold, false
        # once too few can still hold, else undecided with the undecided items' findings
        n_true, open_items = 0, len(items)
        live: list[str] = []
        for item in items:
            truth, found = item(facts, reached)
            if truth is True:
                n_true += 1
                if n_true >= need:
                    return True, _SETTLED
            elif truth is False:
                open_items -= 1
                if open_items < need:
                    return False, _SETTLED
            else:
                live.extend(found)
        if n_true >= need or open_items < need:  # no items (a schema would not let it)
            return n_true >= need, _SETTLED
        return None, tuple(live)
    return group


__all__ = ["Screen", "Unscreened", "applies", "red_flag_screen"]
