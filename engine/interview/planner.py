"""Which question to ask next in a consultation, when to stop, and why a question is asked.

MYCIN asked for a fact only when a rule it was trying needed it, and could say WHY. The planner
does the same over our rule base, with no I/O: from the answers so far (known values, plus the
findings that were asked and skipped) and the certainties the engine reached with them, it works
out which rules are still *open* (their condition is unknown in three-valued logic, see
`engine.inference.premises.Evaluator`) and which unanswered findings could still decide one of them.

- A checklist marked `first` (the body chart) opens the consultation; then the **red-flag
  screen**: findings of open red-flag rules that could still raise a red flag or its urgency,
  grouped flag by flag, most urgent flag first, whatever sites were charted.
- Then **goal-directed** questions: the finding whose answer, averaged over the answers it can
  take, most advances or rules out the open rules, each weighted by the certainty at stake
  (the rule's certainty times what its conclusion still lacks, times how much the band matters).
- Where a finding belongs to one of the KB's **checklists** (a red-flag screen, the body chart,
  a test battery), the question shows the members that can still matter together, so one line
  answers them all; each member is still recorded, and reasoned about, as its own finding.
- **Stop** when no unanswered finding can decide any open red-flag or condition rule (or a rule
  reading a checklist marked `settle`, such as STarT Back): then no answer could change the
  triage, a red flag or a condition. Causes and advice come from the
  answers given; with `thorough` the interview also settles every cause and advice rule.
"""


from collections.abc import Collection, Mapping
from typing import Any

from engine.inference.compiler import firing_order
from engine.inference.premises import predicate
from engine.interview.questions import (
    CORE_KINDS,
    GOAL,
    PATIENT,
    SCREEN,
    STAKE_WEIGHT,
    Dependent,
    Probe,
    Question,
    Why,
)
from engine.interview.relevance import site_findings
from engine.interview.survey import Survey
from engine.kb import model as m


class Planner:
    """Built once per KB: which rules read which findings, and the answers worth imagining."""

    def __init__(self, kb: m.KnowledgeBase, thorough: bool = False, checklists: bool = True,
                 by_site: bool = True) -> None:
        self.kb = kb
        self.thorough = thorough
        self.by_site = by_site  # gate regional conditions by the charted site (False: the bench's "before")
        self.home: dict[str, m.Checklist] = {}  # finding id -> the checklist that asks it
        for checklist in kb.checklists.values() if checklists else ():
            for fid in checklist.findings:
                self.home.setdefault(fid, checklist)
        self.rules = tuple(firing_order(kb))
        self.producers: dict[str, list[m.Rule]] = {}
        self.consumers: dict[str, list[m.Rule]] = {}
        self.readers: dict[str, list[m.Rule]] = {}  # finding id -> rules that test it
        self.first_use: dict[str, int] = {}  # finding id -> reading order, for stable ties
        for rule in sorted(kb.rules, key=lambda r: r.order):
            if rule.concludes:
                self.producers.setdefault(rule.concludes, []).append(rule)
            for cid in dict.fromkeys(rule.conclusions_used()):
                self.consumers.setdefault(cid, []).append(rule)
            for fid in dict.fromkeys(rule.findings_used()):
                self.readers.setdefault(fid, []).append(rule)
                self.first_use.setdefault(fid, len(self.first_use))
        self.catalogue = {cid: index for index, cid in enumerate(kb.conclusions)}
        settled = {fid for checklist in kb.checklists.values() if checklist.settle
                   for fid in checklist.findings}
        self.settled = {rule.id for rule in self.rules if settled & set(rule.findings_used())}
        self.sites = site_findings(kb)
        self._scopes: dict[frozenset[str], frozenset[str]] = {}
        self.probes = {fid: self._probes(kb.findings[fid]) for fid in self.readers
                       if fid in kb.findings}

    def scope(self, out_of_site: frozenset[str]) -> frozenset[str]:
        """The rules the interview pursues when the conditions `out_of_site` are not worth
        pursuing for the complaint site (`engine.interview.relevance`)."""
        if out_of_site not in self._scopes:
            self._scopes[out_of_site] = frozenset(
                rule.id for rule in self.rules if self._matters(rule, set(), out_of_site))
        return self._scopes[out_of_site]

    def _matters(self, rule: m.Rule, seen: set[str], out_of_site: frozenset[str]) -> bool:
        """Whether the interview keeps asking for this rule. By default only red flags and
        conditions (and what they read) keep it going, so a consultation reaches a safe triage
        and the likely conditions quickly; causes and advice follow from the answers given.
        `thorough` also pursues every cause and advice rule, and a checklist marked `settle`
        (a screening tool such as STarT Back) has the rules reading it pursued as well. A
        condition out of site for the complaint is pursued only where a rule still pursued
        reads it; a red flag always is."""
        if rule.kind == "red_flag":
            return True
        closed = rule.kind == "condition" and rule.concludes in out_of_site
        if not closed and (self.thorough or rule.kind in CORE_KINDS or rule.id in self.settled):
            return True
        if not rule.concludes or rule.concludes in seen:
            return False
        seen.add(rule.concludes)
        return any(self._matters(reader, seen, out_of_site)
                   for reader in self.consumers.get(rule.concludes, ()))

    def _probes(self, finding: m.Finding) -> tuple[Probe, ...]:
        """Answers to imagine for a finding: every value class the rules can tell apart."""
        if finding.type == "boolean":
            return (Probe(True, 0.5), Probe(False, 0.5))
        if finding.type == "sided":
            return (Probe(False, 0.5), *(Probe(side, 0.5 / len(m.SIDES)) for side in m.SIDES))
        if finding.type == "enum":
            return tuple(Probe(value, 1 / len(finding.values)) for value in finding.values)
        tests = [leaf for rule in self.readers.get(finding.id, ()) for leaf in m.leaves(rule.when)
                 if isinstance(leaf, m.Test) and leaf.finding == finding.id]
        points: set[float] = set()
        for test in tests:
            operands = test.value if isinstance(test.value, tuple) else (test.value,)
            for t in operands:
                if isinstance(t, (int, float)) and not isinstance(t, bool):
                    points.update((t - 1e-6, float(t), t + 1e-6))
        low = finding.minimum if finding.minimum is not None else min(points, default=0.0)
        high = finding.maximum if finding.maximum is not None else max(points, default=0.0)
        points.update((low, high))
        checks = [predicate(test, "number") for test in tests]
        classes: dict[tuple[bool, ...], float] = {}
        for point in sorted(p for p in points if low <= p <= high):
            classes.setdefault(tuple(check(point) for check in checks), point)
        values = list(classes.values())
        return tuple(Probe(value, 1 / len(values)) for value in values)

    def survey(self, answers: Mapping[str, Any], asked: Collection[str],
               certainty: Mapping[str, float], urgency: Mapping[str, str]) -> Survey:
        """The state of the consultation: known values, findings already asked (skipped ones
        included), and the certainties and red-flag urgencies the engine reached with them."""
        return Survey(self, dict(answers), frozenset(asked) | frozenset(answers), dict(certainty),
                      dict(urgency))


__all__ = ["GOAL", "PATIENT", "SCREEN", "STAKE_WEIGHT", "Dependent", "Planner", "Question", "Survey",
           "Why"]
