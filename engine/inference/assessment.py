"""The outcome of one case: ranked conclusions, advice, and the firing trace behind them.

`Assessment.to_dict` is the contract's JSON; every other output format starts from the same
object, so the terminal, markdown and HTML never disagree.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from engine.cases.case import Case
from engine.inference.compiler import Event
from engine.inference.plan import Advice, build_plan, build_review, order_advice, side_of
from engine.inference.safety import Withheld, apply_policy
from engine.inference.screen import Screen, red_flag_screen
from engine.inference.startback import risk_group
from engine.kb import model as m
from engine.record import Record, field


class Reached(Record):
    """A conclusion with its combined certainty and what supports it."""

    conclusion: m.Conclusion
    certainty: float
    evidence: tuple[str, ...]
    rules: tuple[str, ...]
    urgency: str = ""
    side: str | None = None

    @property
    def id(self) -> str:
        return self.conclusion.id

    @property
    def action(self) -> str:
        return self.conclusion.action_for(self.urgency)


class Assessment(Record):
    case: Case
    kb: m.KnowledgeBase
    triage: str
    red_flags: tuple[Reached, ...]
    conditions: tuple[Reached, ...]
    causes: tuple[Reached, ...]
    stretch: tuple[str, ...]
    strengthen: tuple[str, ...]
    recommendations: tuple[Advice, ...]
    events: tuple[Event, ...]
    withheld: Withheld = field(default_factory=Withheld)  # what the safety policy held back, and why

    @property
    def disabled_red_flag_rules(self) -> tuple[m.Disabled, ...]:
        """Red-flag rules a layer switched off: every output announces them."""
        return tuple(d for d in self.kb.disabled if d.red_flag)

    @property
    def fired_rules(self) -> list[str]:
        return [event.rule.id for event in self.events]

    @property
    def risk_group(self) -> dict[str, Any] | None:
        """The STarT Back group and scores (contract `risk_group`), or None until all nine
        items are answered."""
        return risk_group(self.case.findings)

    @cached_property
    def plan(self) -> tuple[Advice, ...]:
        """The few actions that matter most, from `recommendations` (so from whatever the
        safety policy left in them)."""
        return build_plan(self.recommendations)

    @cached_property
    def review(self) -> m.Review:
        return build_review(self.kb, self.triage, self.conditions,
                            bool(self.stretch or self.strengthen))

    @cached_property
    def screen(self) -> Screen:
        """The red-flag screen this presentation calls for and what of it is unanswered
        (`engine.inference.screen`): read-only, so it never changes the triage or the flags."""
        found_at = {r.id: r.urgency for r in self.red_flags}
        return red_flag_screen(self.kb, self.case.facts, found_at,
                               {r.id: r.certainty for r in (*self.red_flags, *self.conditions,
                                                           *self.causes)})

    @property
    def avoid(self) -> tuple[str, ...]:
        """What to avoid meanwhile, from the advice given (each once)."""
        return tuple(dict.fromkeys(a.avoid for a in self.recommendations if a.avoid))

    def reached(self, conclusion_id: str) -> Reached | None:
        for item in (*self.red_flags, *self.conditions, *self.causes):
            if item.id == conclusion_id:
                return item
        return None

    def to_dict(self) -> dict[str, Any]:
        """The contract's JSON object (extra keys are allowed; contract keys never change)."""

        def item(r: Reached, red: bool = False, sided: bool = False) -> dict[str, Any]:
            out: dict[str, Any] = {"id": r.id}
            if red:
                out["urgency"] = r.urgency
            out.update(certainty=round(r.certainty, 4), evidence=list(r.evidence),
                       rules=list(r.rules), label=r.conclusion.label)
            if red:
                out["action"] = r.action
            if sided:
                out["side"] = r.side
            return out

        return {
            "triage": self.triage,
            "red_flags": [item(r, red=True) for r in self.red_flags],
            "conditions": [item(r, sided=True) for r in self.conditions],
            "causes": [item(r) for r in self.causes],
            "muscles": {"stretch": list(self.stretch), "strengthen": list(self.strengthen)},
            "recommendations": [a.to_dict() for a in self.recommendations],
            "fired_rules": self.fired_rules,
            "patient_id": self.case.patient_id,
            "kb_version": self.kb.version,
            "plan": [a.to_dict() for a in self.plan],
            "review": {"after_weeks": _weeks(self.review.after_weeks), "why": self.review.why},
            "avoid": list(self.avoid),
            "withheld": self.withheld.to_dict(),
            "disabled_red_flag_rules": [
                {"rule": d.rule, "red_flag": d.red_flag, "reason": d.reason,
                 "where": str(d.location)} for d in self.disabled_red_flag_rules],
            "risk_group": self.risk_group,
            "screen": self.screen.to_dict(),
        }


def _weeks(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def build_assessment(case: Case, kb: m.KnowledgeBase, events: list[Event],
                     certainty: dict[str, float], urgency: dict[str, str]) -> Assessment:
    """Rank what the engine concluded and gather muscles and advice from the fired rules."""
    by_conclusion: dict[str, list[Event]] = {}
    for event in events:
        if event.concluded:
            by_conclusion.setdefault(event.concluded, []).append(event)

    evidence_cache: dict[str, tuple[str, ...]] = {}

    def evidence_of(cid: str) -> tuple[str, ...]:
        """The findings behind a red flag or condition, through the conclusions it used. A cause
        names only the findings its own rules matched, and a condition it used by its id, so
        "overuse" is not credited with every sign of the IT band syndrome (issue 14)."""
        if cid in evidence_cache:
            return evidence_cache[cid]
        evidence_cache[cid] = ()
        own = kb.conclusions[cid].kind == "cause"
        seen: dict[str, None] = {}
        for event in by_conclusion.get(cid, ()):
            if event.rule.against:
                continue  # a negative test is evidence against, never part of "because"
            for fid, _ in event.matched:
                seen.setdefault(fid, None)
            for used, _ in event.used:
                for fid in ((used,) if own else evidence_of(used)):
                    seen.setdefault(fid, None)
        evidence_cache[cid] = tuple(seen)
        return evidence_cache[cid]

    reached: dict[str, list[Reached]] = {"red_flag": [], "condition": [], "cause": []}
    for cid, cf in certainty.items():
        if cf <= 0:
            continue  # lowered to nothing (or below) by evidence against: not reached
        conclusion = kb.conclusions[cid]
        rules = tuple(dict.fromkeys(e.rule.id for e in by_conclusion[cid]))
        evidence = evidence_of(cid)
        reached[conclusion.kind].append(Reached(conclusion, cf, evidence, rules,
                                                urgency.get(cid, ""),
                                                side_of(kb, case.facts, evidence)))
    red = sorted(reached["red_flag"], key=lambda r: (m.urgency_rank(r.urgency), -r.certainty, r.id))
    conditions = sorted(reached["condition"], key=lambda r: (-r.certainty, r.id))
    causes = sorted(reached["cause"], key=lambda r: (-r.certainty, r.id))
    triage = red[0].urgency if red else "routine"

    stretch: dict[str, None] = {}
    strengthen: dict[str, None] = {}
    # each red flag's action is its referral; the schema reserves these ids (engine.references)
    recommendations = [Advice(referral_id(flag.id), f"{flag.conclusion.label}: {flag.action}",
                              flag.rules, weight=1.0, referral=True, evidence="high",
                              kind="referral")
                       for flag in red]
    advice: dict[str, list[Event]] = {}
    for event in events:
        for mid in event.rule.stretch:
            stretch.setdefault(mid, None)
        for mid in event.rule.strengthen:
            strengthen.setdefault(mid, None)
        for rid in event.rule.recommend:
            advice.setdefault(rid, []).append(event)
    for rid, fired in advice.items():
        rec = kb.recommendations[rid]
        recommendations.append(Advice(
            rid, rec.text, tuple(dict.fromkeys(e.rule.id for e in fired)), rec.phase,
            _advice_side(kb, case, fired, evidence_of) if rec.sided else None, rec.avoid,
            rec.evidence, max(e.premise_cf for e in fired), kind=rec.kind, plain=rec.plain))
    # the safety policy is the one gate: the plan is built from what it leaves
    given, kept_stretch, kept_strengthen, withheld = apply_policy(
        red, recommendations, tuple(stretch), tuple(strengthen))
    return Assessment(case, kb, triage, tuple(red), tuple(conditions), tuple(causes),
                      kept_stretch, kept_strengthen, order_advice(kb, list(given)),
                      tuple(events), withheld)


def _advice_side(kb: m.KnowledgeBase, case: Case, fired: list[Event],
                 evidence_of: Any) -> str | None:
    """The side an exercise is for: the sided findings its rules matched or the conclusions they
    read were reached from."""
    found: list[str] = []
    for event in fired:
        found.extend(fid for fid, _ in event.matched)
        for used, _ in event.used:
            found.extend(evidence_of(used))
    return side_of(kb, case.facts, found)


def referral_id(red_flag: str) -> str:
    """The id of the referral the engine adds for a red flag (its `action`)."""
    return f"act_now_{red_flag}"
