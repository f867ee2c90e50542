"""Everything the knowledge base says about one id: definition, users, consequences, sources.

`imbalance kb show ID` prints this; it is the author's map of the rule base (where is this
finding used, what can it lead to, which rules conclude this, what do they cite). One id can name
entries of several kinds (`previous_injury` is a finding and a cause), so every match is shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from engine.authoring.polarity import gated_by, triggered_by
from engine.authoring.rule_analysis import ceilings
from engine.errors import InputError, Location
from engine.kb import model as m
from engine.kb.discover import layer_hint
from engine.kb.references import resolve_source
from engine.kb.suggest import did_you_mean
from engine.wording import author_concluded, author_test

KIND_WORDS = {"red_flag": "red flag", "condition": "condition", "cause": "cause"}
MAX_DEPTH = 6


@dataclass
class Entry:
    """One entry, as sections of text lines, ready for the terminal or JSON."""

    kind: str
    id: str
    title: str
    location: Location
    sections: list[tuple[str, list[str]]] = field(default_factory=list)

    def add(self, heading: str, lines: Iterable[str]) -> None:
        lines = list(lines)
        if lines:
            self.sections.append((heading, lines))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "title": self.title,
                "path": self.location.path, "line": self.location.line,
                "sections": {heading: lines for heading, lines in self.sections}}


class Catalogue:
    """Indexes over a KB for answering 'where is X used' quickly."""

    def __init__(self, kb: m.KnowledgeBase, disabled_rules: dict[str, m.Rule] | None = None) -> None:
        self.kb = kb
        self.disabled_rules = disabled_rules or {}
        self.disabled = {d.rule: d for d in kb.disabled}
        self._ceiling: dict[str, float] | None = None

    @property
    def ceiling(self) -> dict[str, float]:
        if self._ceiling is None:
            self._ceiling = ceilings(self.kb)
        return self._ceiling

    def all_ids(self) -> list[str]:
        kb = self.kb
        return sorted({*(r.id for r in kb.rules), *self.disabled_rules, *kb.findings, *kb.conclusions,
                       *kb.muscles, *kb.recommendations, *kb.sources, *kb.checklists})

    def show(self, ident: str) -> list[Entry]:
        """Every entry named `ident`; InputError with a did-you-mean when there is none."""
        kb = self.kb
        out: list[Entry] = []
        rule = kb.rule(ident) or self.disabled_rules.get(ident)
        if rule is not None:
            out.append(self.rule_entry(rule))
        if ident in kb.findings:
            out.append(self.finding_entry(kb.findings[ident]))
        if ident in kb.conclusions:
            out.append(self.conclusion_entry(kb.conclusions[ident]))
        if ident in kb.muscles:
            out.append(self.muscle_entry(kb.muscles[ident]))
        if ident in kb.recommendations:
            out.append(self.recommendation_entry(kb.recommendations[ident]))
        source = resolve_source(kb, ident)
        if source is not None:
            out.append(self.source_entry(source))
        if ident in kb.checklists:
            out.append(self.checklist_entry(kb.checklists[ident]))
        if not out:
            raise InputError(f"unknown id '{ident}': no rule, finding, conclusion, muscle, "
                             "recommendation, source or checklist has it", key=ident,
                             suggestion=layer_hint(ident, kb) or did_you_mean(ident, self.all_ids())
                             or "run 'imbalance kb show' without an id to list every id")
        return out

    # --- entries -------------------------------------------------------------------------

    def rule_entry(self, rule: m.Rule) -> Entry:
        entry = Entry("rule", rule.id, rule.title, rule.location)
        off = self.disabled.get(rule.id)
        if off is not None:
            entry.add("disabled", [f"switched off by {off.location}: {off.reason}"])
        entry.add("band", [rule.band])
        if rule.status or rule.reviewed_on or rule.reviewed_by:
            review = f"; last reviewed on {rule.reviewed_on or '?'}" if (
                rule.reviewed_on or rule.reviewed_by) else ""
            who = f" by {rule.reviewed_by}" if rule.reviewed_by else ""
            entry.add("status", [f"{rule.status or 'stable'}{review}{who}"])
        entry.add("when", condition_lines(rule.when, self.kb))
        then = []
        if rule.concludes:
            against = "against " if rule.against else ""
            then.append(f"{against}{KIND_WORDS.get(rule.kind, rule.kind)} {rule.concludes}, "
                        f"certainty {rule.certainty:g}"
                        + (f", urgency {rule.urgency}" if rule.urgency else ""))
        if rule.because:
            then.append(f"because: {rule.because}")
        if rule.accuracy is not None:
            then.append(f"published accuracy: {rule.accuracy.describe()}")
        for key, names in (("stretch", rule.stretch), ("strengthen", rule.strengthen),
                           ("recommend", rule.recommend)):
            if names:
                then.append(f"{key}: {', '.join(names)}")
        entry.add("then", then)
        entry.add("sources", [*self.source_lines(rule.sources), f"evidence: {rule.evidence or 'not given'}"])
        if rule.concludes:
            entry.add("leads to", self.consequences([rule.concludes]))
        entry.add("tests", self.rule_tests(rule.id))
        entry.add("lint switched off", [f"{check}: {reason}" for check, reason in rule.lint_off])
        return entry

    def finding_entry(self, finding: m.Finding) -> Entry:
        entry = Entry("finding", finding.id, finding.label, finding.location)
        about = [f"{finding.category}, {finding.type}: takes {finding.accepts()}"]
        if finding.question:
            about.append(f"question: {finding.question}")
        if finding.help:
            about.append(f"help: {finding.help}")
        entry.add("about", about)
        users = triggered_by(self.kb, finding.id)
        gates = gated_by(self.kb, finding.id)
        entry.add("can trigger", [f"{r.id} ({r.location}) -> {self._then(r)}" for r in users] or
                  ["no rule" if not gates else "no rule (it only gates the rules below)"])
        entry.add("only gates (fire only while it is absent)",
                  [f"{r.id} ({r.location}) -> {self._then(r)}" for r in gates])
        entry.add("leads to", self.consequences(list(dict.fromkeys(r.concludes for r in users
                                                                   if r.concludes))))
        tests = [t for t in self.kb.tests if any(fid == finding.id for fid, _ in t.findings)]
        entry.add("tests", [f"given in {len(tests)} case tests"] if tests else [])
        homes = [c for c in self.kb.checklists.values() if finding.id in c.findings]
        entry.add("interview", [f"asked in checklist {c.id} ({c.label}, {c.location})" for c in homes])
        return entry

    def checklist_entry(self, checklist: m.Checklist) -> Entry:
        """What the interview shows on one screen, and what each item can decide."""
        entry = Entry("checklist", checklist.id, checklist.label, checklist.location)
        about = [f"question: {checklist.question}"]
        if checklist.help:
            about.append(f"help: {checklist.help}")
        entry.add("about", about)
        items = []
        for number, fid in enumerate(checklist.findings, 1):
            finding = self.kb.findings.get(fid)
            readers = sum(1 for r in self.kb.rules if fid in r.findings_used())
            label = finding.label if finding else "(unknown finding)"
            items.append(f"{number:>2}  {fid}  {label}; read by {readers} rule{'s' if readers != 1 else ''}")
        entry.add("items", items)
        return entry

    def conclusion_entry(self, conclusion: m.Conclusion) -> Entry:
        kind = KIND_WORDS.get(conclusion.kind, conclusion.kind)
        entry = Entry(kind, conclusion.id, conclusion.label, conclusion.location)
        about = [conclusion.description] if conclusion.description else []
        if conclusion.kind == "red_flag":
            about.append(f"urgency: {conclusion.urgency}")
            about += [f"action ({level}): {text}" for level, text in conclusion.actions]
        entry.add("about", about)
        producers = self.kb.rules_concluding(conclusion.id)
        entry.add("concluded by", [
            f"{r.id} ({r.location}), certainty {r.certainty:g}, from {self._premises(r)}"
            for r in producers if not r.against] or ["no rule"])
        lowering = [r for r in producers if r.against]
        if lowering:
            entry.add("lowered by", [
                f"{r.id} ({r.location}), certainty against {r.certainty:g}, from "
                f"{self._premises(r)}" for r in lowering])
        top = self.ceiling.get(conclusion.id, 0.0)
        entry.add("certainty", [f"can reach at most {top:.2f}" if top else "can never be reached"])
        entry.add("leads to", self.consequences([conclusion.id], skip_self=True))
        entry.add("gates (rules that fire only while it is not concluded)",
                  [f"{r.id} ({r.location}) -> {self._then(r)}"
                   for r in gated_by(self.kb, conclusion.id)])
        refs = [ref for r in producers for ref in r.sources]
        entry.add("sources", self.source_lines(dict.fromkeys(refs)))
        entry.add("tests", self.conclusion_tests(conclusion.id))
        return entry

    def muscle_entry(self, muscle: m.Muscle) -> Entry:
        entry = Entry("muscle", muscle.id, muscle.label, muscle.location)
        if muscle.region:
            entry.add("about", [f"region: {muscle.region}"])
        stretched = [r for r in self.kb.rules if muscle.id in r.stretch]
        strengthened = [r for r in self.kb.rules if muscle.id in r.strengthen]
        entry.add("stretched by", [f"{r.id} ({r.location}) -> {self._then(r)}" for r in stretched])
        entry.add("strengthened by", [f"{r.id} ({r.location}) -> {self._then(r)}"
                                      for r in strengthened])
        if not stretched and not strengthened:
            entry.add("used by", ["no rule"])
        return entry

    def recommendation_entry(self, rec: m.Recommendation) -> Entry:
        entry = Entry("recommendation", rec.id, rec.text, rec.location)
        rules = [r for r in self.kb.rules if rec.id in r.recommend]
        entry.add("recommended by", [f"{r.id} ({r.location}) -> {self._then(r)}" for r in rules] or
                  ["no rule"])
        entry.add("sources", self.source_lines(rec.sources) +
                  ([f"evidence: {rec.evidence}"] if rec.evidence else []))
        return entry

    def source_entry(self, source: m.Source) -> Entry:
        entry = Entry("source", source.id, source.citation, source.location)
        about = [f"evidence level: {source.level}"]
        about += [f"file: {source.file}"] if source.file else []
        about += [f"url: {source.url}"] if source.url else []
        entry.add("about", about)
        refs = {source.id, source.file} - {""}
        rules = [r for r in self.kb.rules if refs & set(r.sources)]
        recs = [r for r in self.kb.recommendations.values() if refs & set(r.sources)]
        entry.add("cited by", [f"rule {r.id} ({r.location})" for r in rules] +
                  [f"recommendation {r.id} ({r.location})" for r in recs] or ["nothing"])
        return entry

    # --- pieces ----------------------------------------------------------------------------

    def _then(self, rule: m.Rule) -> str:
        if rule.concludes:
            return f"{KIND_WORDS.get(rule.kind, rule.kind)} {rule.concludes} ({rule.certainty:g})"
        parts = [f"{key} {', '.join(v)}" for key, v in (("stretch", rule.stretch),
                 ("strengthen", rule.strengthen), ("recommend", rule.recommend)) if v]
        return "; ".join(parts) or "nothing"

    def _premises(self, rule: m.Rule) -> str:
        names = [leaf.finding if isinstance(leaf, m.Test) else f"concluded {leaf.conclusion}"
                 for leaf in m.leaves(rule.when)]
        return ", ".join(dict.fromkeys(names))

    def consequences(self, start: list[str], skip_self: bool = False) -> list[str]:
        """An indented tree: conclusion -> rules reading it -> what they conclude, and so on."""
        lines: list[str] = []
        seen: set[str] = set()

        def walk(cid: str, depth: int) -> None:
            if depth > MAX_DEPTH or cid in seen:
                return
            seen.add(cid)
            for rule in triggered_by(self.kb, cid):  # a `not:` guard is no consequence
                lines.append("  " * depth + f"{rule.id} -> {self._then(rule)}")
                if rule.concludes:
                    walk(rule.concludes, depth + 1)

        for cid in start:
            if skip_self:
                walk(cid, 0)
            else:
                conclusion = self.kb.conclusions.get(cid)
                lines.append(f"{KIND_WORDS.get(conclusion.kind, '') if conclusion else ''} {cid}".strip())
                walk(cid, 1)
        return lines

    def source_lines(self, refs: Iterable[str]) -> list[str]:
        out = []
        for ref in refs:
            source = resolve_source(self.kb, ref)
            out.append(f"{ref}: {source.citation} [{source.level}]" if source else f"{ref}: (unknown)")
        return out

    def rule_tests(self, rid: str) -> list[str]:
        out = []
        for test in self.kb.tests:
            if rid in test.expect.fires:
                out.append(f"must fire: {test.name} ({test.location})")
            if rid in test.expect.not_fires:
                out.append(f"must not fire: {test.name} ({test.location})")
        return out

    def conclusion_tests(self, cid: str) -> list[str]:
        out = []
        for test in self.kb.tests:
            exp = test.expect
            if any(p[0] == cid for p in exp.present) or exp.top == cid:
                out.append(f"expected: {test.name} ({test.location})")
            if cid in exp.absent:
                out.append(f"expected absent: {test.name} ({test.location})")
        return out

    def index(self) -> list[tuple[str, list[str]]]:
        """Every id by kind, for `kb show` without an id."""
        kb = self.kb
        groups: list[tuple[str, list[str]]] = [
            ("rules", [f"{r.id}  {r.title}" for r in kb.rules]),
            ("findings", [f"{f.id}  {f.label}" for f in kb.findings.values()]),
        ]
        for kind in m.CONCLUSION_KINDS:
            groups.append((f"{KIND_WORDS[kind]}s", [f"{c.id}  {c.label}" for c in kb.conclusions.values()
                                                   if c.kind == kind]))
        groups += [("muscles", [f"{x.id}  {x.label}" for x in kb.muscles.values()]),
                   ("recommendations", [f"{x.id}  {x.text}" for x in kb.recommendations.values()]),
                   ("sources", [f"{x.id}  {x.citation}" for x in kb.sources.values()]),
                   ("checklists", [f"{x.id}  {x.label}" for x in kb.checklists.values()])]
        if self.disabled_rules:
            groups.append(("disabled rules", [f"{rid}  {self.disabled[rid].reason}"
                                              for rid in self.disabled_rules]))
        return [(heading, items) for heading, items in groups if items]


def condition_lines(cond: m.Cond, kb: m.KnowledgeBase, depth: int = 0) -> list[str]:
    """A condition as an indented outline, one premise per line."""
    pad = "  " * depth
    if isinstance(cond, m.Test):
        return [pad + author_test(cond, kb.findings.get(cond.finding))]
    if isinstance(cond, m.Concluded):
        return [pad + author_concluded(cond)]
    if isinstance(cond, m.Not):
        inner = condition_lines(cond.item, kb, depth + 1)
        if len(inner) == 1:
            return [f"{pad}not: {inner[0].strip()}"]
        return [f"{pad}not:", *inner]
    if isinstance(cond, m.All) and depth == 0:
        return [line for item in cond.items for line in condition_lines(item, kb, 0)]
    head = {m.All: "all of:", m.AnyOf: "any of:"}.get(type(cond), "")
    if isinstance(cond, m.AtLeast):
        head = f"at least {cond.count} of:"
    return [pad + head, *(line for item in cond.items for line in condition_lines(item, kb, depth + 1))]
