"""One consultation's state for the planner: which rules are open, what could still decide
them, what is at stake, and so which question comes next.

Built afresh from the answers after every answer (`Planner.survey`); the three-valued logic is
`engine.inference.premises`, the site gating `engine.interview.relevance`, the per-KB tables
`engine.interview.planner`. See the planner's docstring for the order of questions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from engine.inference.premises import Evaluator, Truth, ceiling, concluded_truth
from engine.interview.questions import (
    ADVICE_GAIN,
    DOWNSTREAM_SHARE,
    GOAL,
    INF,
    QUESTION_COST,
    SCREEN,
    STAKE_WEIGHT,
    Dependent,
    Question,
    Why,
)
from engine.interview.relevance import out_of_site
from engine.kb import model as m

if TYPE_CHECKING:
    from engine.interview.planner import Planner


class _OpenWorld(Evaluator):
    """Three-valued evaluation where a conclusion that is not reached yet, but that a still open
    rule could reach with enough certainty, is *unknown* rather than false."""

    def __init__(self, kb: m.KnowledgeBase, survey: Survey) -> None:
        super().__init__(kb)
        self.survey = survey

    def evaluate(self, cond: m.Cond, findings: Mapping[str, Any],
                 concluded: Mapping[str, float]) -> tuple[Truth, float]:
        if isinstance(cond, m.Concluded):
            truth, cf = super().evaluate(cond, findings, concluded)
            if truth is True:
                return truth, cf
            current = concluded.get(cond.conclusion, 0.0)
            return concluded_truth(cond, current, self.survey.ceiling(cond.conclusion)), 0.0
        return super().evaluate(cond, findings, concluded)


@dataclass
class _RuleView:
    rule: m.Rule
    truth: Truth
    candidates: tuple[str, ...] = ()  # unanswered findings that can still decide it
    need_true: float = INF
    need_false: float = INF


@dataclass
class Survey:
    """Open rules and the questions that could still decide them, for one set of answers."""

    planner: Planner
    answers: dict[str, Any]
    asked: frozenset[str]
    certainty: dict[str, float]
    urgency: dict[str, str]
    _views: dict[str, _RuleView] = field(default_factory=dict, repr=False)
    _ceilings: dict[str, float] = field(default_factory=dict, repr=False)
    _stakes: dict[str, float] = field(default_factory=dict, repr=False)
    _truths: dict[int, Truth] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.kb = self.planner.kb
        self.evaluator = _OpenWorld(self.kb, self)
        for rule in self.planner.rules:
            self.view(rule)
        self.open = [v for v in (self._views[r.id] for r in self.planner.rules) if v.truth is None]
        self.out_of_site = (out_of_site(self.kb, self.answers, self.asked, self.planner.sites)
                            if self.planner.by_site else frozenset())
        scope = self.planner.scope(self.out_of_site)
        self.candidates: dict[str, list[_RuleView]] = {}
        for view in self.open:
            if view.rule.id not in scope:
                continue
            for fid in view.candidates:
                self.candidates.setdefault(fid, []).append(view)

    # --- what each rule still needs -----------------------------------------------------

    def truth(self, cond: m.Cond, findings: Mapping[str, Any] | None = None) -> Truth:
        if findings is None or findings is self.answers:  # the common case: remember it
            key = id(cond)
            if key not in self._truths:
                self._truths[key] = self.evaluator.evaluate(cond, self.answers, self.certainty)[0]
            return self._truths[key]
        return self.evaluator.evaluate(cond, findings, self.certainty)[0]

    def view(self, rule: m.Rule) -> _RuleView:
        found = self._views.get(rule.id)
        if found is not None:
            return found
        self._views[rule.id] = _RuleView(rule, False)  # the loader refuses cycles; belt and braces
        truth = self.truth(rule.when)
        view = _RuleView(rule, truth)
        if truth is None:  # open; it stays open for good when it can no longer become true
            view.candidates = tuple(dict.fromkeys(self._live(rule.when, self.answers)))
            view.need_true = self.need(rule.when, True, self.answers)
            view.need_false = self.need(rule.when, False, self.answers)
        self._views[rule.id] = view
        return view

    def ceiling(self, conclusion: str) -> float:
        """The most certainty `conclusion` can still reach: what it has, plus every rule that
        concludes it and can still fire, firing at full strength."""
        if conclusion not in self._ceilings:
            self._ceilings[conclusion] = 0.0  # guards against cycles while we look
            open_rules = [rule for rule in self.planner.producers.get(conclusion, ())
                          if self.can_fire(self.view(rule))]
            self._ceilings[conclusion] = ceiling(self.certainty.get(conclusion, 0.0), open_rules)
        return self._ceilings[conclusion]

    @staticmethod
    def can_fire(view: _RuleView) -> bool:
        """Open, and not resting on a question that was skipped."""
        return view.truth is None and view.need_true < INF

    def _live(self, cond: m.Cond, findings: Mapping[str, Any], want: bool = True) -> Iterable[str]:
        """Unanswered findings that could still help make `cond` come out as `want`; a branch
        already decided, or resting on skipped questions, can never help."""
        if self.truth(cond, findings) is not None or self.need(cond, want, findings) == INF:
            return
        if isinstance(cond, m.Test):
            yield cond.finding
        elif isinstance(cond, m.Not):
            yield from self._live(cond.item, findings, not want)
        elif isinstance(cond, (m.All, m.AnyOf, m.AtLeast)):
            for item in cond.items:
                yield from self._live(item, findings, want)

    def need(self, cond: m.Cond, want: bool, findings: Mapping[str, Any]) -> float:
        """How many more findings must turn out as wanted for `cond` to become `want`
        (infinite when it cannot: decided the other way, or resting on skipped questions)."""
        truth = self.truth(cond, findings)
        if truth is not None:
            return 0 if truth is want else INF
        if isinstance(cond, m.Test):
            return INF if cond.finding in self.asked else 1
        if isinstance(cond, m.Concluded):
            return 1
        if isinstance(cond, m.Not):
            return self.need(cond.item, not want, findings)
        parts = sorted(self.need(item, want, findings) for item in cond.items)
        if isinstance(cond, m.AtLeast):
            count = cond.count if want else len(parts) - cond.count + 1
            return sum(parts[:count])
        conjunctive = isinstance(cond, m.All) == want
        return sum(parts) if conjunctive else parts[0]

    # --- what is at stake ---------------------------------------------------------------

    def stake(self, rule: m.Rule) -> float:
        """How much firing this rule would change: its certainty times what its conclusion
        still lacks, weighted by band (red flags by urgency), plus a share of the open rules
        that read its conclusion."""
        if rule.id in self._stakes:
            return self._stakes[rule.id]
        self._stakes[rule.id] = 0.0
        if rule.concludes:
            now = max(self.certainty.get(rule.concludes, 0.0), 0.0)
            # evidence against can take away what the conclusion has; support can add what it lacks
            gain = rule.certainty * (now if rule.against else 1.0 - now)
            weight = STAKE_WEIGHT[self.level(rule)]
            downstream = sum(self.stake(reader) for reader in self.planner.consumers.get(
                rule.concludes, ()) if self.can_fire(self.view(reader)))
            value = gain * weight + DOWNSTREAM_SHARE * downstream
        else:
            value = ADVICE_GAIN * STAKE_WEIGHT["advice"]
        self._stakes[rule.id] = value
        return value

    def level(self, rule: m.Rule) -> str:
        """The row of STAKE_WEIGHT a rule belongs to."""
        if rule.kind == "red_flag":
            return self.kb.flag_urgency(rule)
        return rule.kind or "advice"

    def raises_flag(self, rule: m.Rule) -> bool:
        """Could firing this open red-flag rule change the red flags or their urgency?"""
        if rule.kind != "red_flag":
            return False
        current = self.urgency.get(rule.concludes)
        return current is None or m.urgency_rank(self.level(rule)) < m.urgency_rank(current)

    def progress(self, view: _RuleView, fid: str, value: Any) -> float:
        """How far answering `fid = value` takes a rule towards being decided (1 = decided)."""
        findings = {**self.answers, fid: value}
        if self.truth(view.rule.when, findings) is not None:
            return 1.0
        best = 0.0
        for want, before in ((True, view.need_true), (False, view.need_false)):
            if before not in (0, INF):
                after = self.need(view.rule.when, want, findings)
                best = max(best, (before - after) / before)
        return best

    def score(self, fid: str, views: Iterable[_RuleView] | None = None) -> float:
        """Expected progress over the answers `fid` can take, weighted by the stakes."""
        probes = self.planner.probes.get(fid, ())
        total = 0.0
        for view in self.candidates.get(fid, ()) if views is None else views:
            stake = self.stake(view.rule)
            if stake > 0:
                total += stake * sum(p.weight * self.progress(view, fid, p.value) for p in probes)
        return total / QUESTION_COST.get(self.kb.findings[fid].category, 1.0)

    # --- the public answers -------------------------------------------------------------

    @property
    def done(self) -> bool:
        """True when no unanswered question could change any conclusion or the triage."""
        return not self.candidates

    @property
    def remaining(self) -> int:
        """Findings that could still matter; answers only ever shrink this set."""
        return len(self.candidates)

    def screen_groups(self) -> list[tuple[str, list[str]]]:
        """Red flags still worth screening for, most urgent first, each with its questions."""
        groups: dict[str, tuple[tuple[int, int], list[str]]] = {}
        for view in self.open:
            if not view.candidates or not self.raises_flag(view.rule):
                continue
            cid = view.rule.concludes
            key = (m.urgency_rank(self.level(view.rule)), self.planner.catalogue.get(cid, 0))
            old = groups.get(cid)
            members = old[1] if old else []
            members.extend(f for f in view.candidates if f not in members)
            groups[cid] = (min(key, old[0]) if old else key, members)
        ordered = sorted(groups.items(), key=lambda item: item[1][0])
        return [(cid, members) for cid, (_, members) in ordered]

    def next_question(self, screening: str = "") -> Question | None:
        """The red-flag screen first, then the most useful goal-directed question. The screen
        finishes the flag it is on (`screening`) before the next, so related questions stay
        together even when an answer lowers that flag's urgency. The best finding comes with
        the members of its checklist that can still matter."""
        if self.done:
            return None
        opening = self.opening()
        if opening is not None:
            return opening
        groups = self.screen_groups()
        current = [members for cid, members in groups if cid == screening]
        pool = current[0] if current else groups[0][1] if groups else list(self.candidates)
        ranked = sorted(pool, key=lambda f: (-round(self.score(f), 9), self.planner.first_use[f]))
        lead = ranked[0]
        question = self.question(lead, screening if current else "")
        home = self.planner.home.get(lead)
        if home is None:
            return question
        members = [f for f in home.findings if f == lead or f in self.candidates]
        return self.together(question, members, home)

    def opening(self) -> Question | None:
        """A checklist marked `first` (the body chart) before anything else, while none of its
        members has been asked and one of them can still change a red flag: a clinician charts
        where the symptoms are before the screen, and the screen is then asked whatever was
        charted. All of its members are shown, so every site of the complaint is recorded
        before the sites gate the regional questions (`engine.interview.relevance`)."""
        for checklist in self.kb.checklists.values():
            if not checklist.first or self.planner.home.get(checklist.findings[0]) is not checklist:
                continue
            if any(fid in self.asked for fid in checklist.findings):
                continue
            live = [fid for fid in checklist.findings if fid in self.candidates]
            if any(self.raises_flag(v.rule) for fid in live for v in self.candidates[fid]):
                lead = max(live, key=lambda f: (round(self.score(f), 9), -self.planner.first_use[f]))
                # the whole chart, not only what the rules read now: where it hurts also
                # decides which conditions are worth pursuing (engine.interview.relevance)
                return self.together(self.question(lead), checklist.findings, checklist)
        return None

    def together(self, question: Question, members: Iterable[str],
                 checklist: m.Checklist | None = None) -> Question:
        """`question` widened to the checklist members given (one member stays a plain question)."""
        fids = tuple(members)
        if len(fids) < 2:
            return question
        home = checklist or self.planner.home.get(fids[0])
        views = {v.rule.id: v for f in fids for v in self.candidates.get(f, ())}
        ordered = sorted(views.values(), key=lambda v: -self.stake(v.rule))
        return replace(question, members=tuple(self.kb.findings[f] for f in fids), checklist=home,
                       rules=tuple(v.rule.id for v in ordered))

    def question(self, fid: str, screening: str = "") -> Question:
        """`fid` as a question now (also one asked again after `back`), with its phase."""
        phase, topic, flag = GOAL, "", ""
        groups = self.screen_groups()
        for cid, members in sorted(groups, key=lambda g: g[0] != screening):
            if fid in members:
                phase, topic, flag = SCREEN, self.kb.conclusions[cid].label, cid
                break
        views = self.candidates.get(fid, [])
        ordered = sorted(views, key=lambda v: -self.stake(v.rule))
        return Question(self.kb.findings[fid], phase, topic, flag, self.score(fid),
                        tuple(v.rule.id for v in ordered), max(self.remaining, 1))

    def why(self, fid: str) -> Why:
        """The rules and conclusions that depend on `fid`: open ones first, most at stake first."""
        finding = self.kb.findings[fid]
        probes = self.planner.probes.get(fid, ())
        dependents = []
        open_ids = set()
        for view in sorted(self.candidates.get(fid, ()), key=lambda v: -self.stake(v.rule)):
            rule = view.rule
            open_ids.add(rule.id)
            outcomes = [(p.value, self.truth(rule.when, {**self.answers, fid: p.value}))
                        for p in probes]
            conclusion = self.kb.conclusions.get(rule.concludes) if rule.concludes else None
            dependents.append(Dependent(
                rule, conclusion, self.certainty.get(rule.concludes, 0.0), self.stake(rule),
                tuple(v for v, t in outcomes if t is True), tuple(v for v, t in outcomes if t is False),
                tuple(f for f in view.candidates if f != fid)))
        settled = tuple(r for r in self.planner.readers.get(fid, ()) if r.id not in open_ids)
        return Why(finding, self.question(fid).phase, tuple(dependents), settled)


__all__ = ["Survey"]
