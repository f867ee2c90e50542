"""`imbalance explain`: HOW a conclusion was reached, or WHY NOT, for the terminal or as JSON.

The terminal text shows the whole chain (a conclusion that used another one shows how that one
was reached too, indented), every contribution, and the sources each rule cites. WHY NOT lists
the rules that could conclude it, nearest first, with each premise marked satisfied, unknown
(not asked) or contradicted.
"""

from __future__ import annotations

import textwrap
from typing import Any

import click

from engine.explain.explainer import CONTRADICTED, SATISFIED, UNKNOWN, Explainer, Support, WhyNot
from engine.kb import model as m
from engine.kb.references import resolve_source
from engine.wording import DISCLAIMER, certainty_word, finding_phrase, screen_notice
from reports.reasoning import miss_summary, premise_note

WIDTH = 88
STATUS_STYLE: dict[str, dict[str, Any]] = {SATISFIED: {"fg": "green"}, UNKNOWN: {"fg": "yellow"},
                                           CONTRADICTED: {"bold": True}}


class _Sources:
    """Numbers the sources cited in one explanation, in reading order."""

    def __init__(self, kb: m.KnowledgeBase) -> None:
        self.kb = kb
        self.order: dict[str, int] = {}

    def cite(self, refs: tuple[str, ...]) -> str:
        numbers = []
        for ref in refs:
            source = resolve_source(self.kb, ref)
            key = source.id if source else ref
            self.order.setdefault(key, len(self.order) + 1)
            numbers.append(str(self.order[key]))
        return f"[{', '.join(numbers)}]" if numbers else ""

    def lines(self) -> list[str]:
        out = []
        for key, number in self.order.items():
            source = self.kb.sources.get(key)
            out.extend(_wrap(f"[{number}] {source.citation if source else key}", "  ", "      "))
        return out


def _wrap(text: str, first: str, rest: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=first, subsequent_indent=rest) or [first]


def render_explanation(explainer: Explainer, conclusion_id: str, color: bool | None = None) -> str:
    """HOW when the conclusion was reached (plus rules that did not fire), WHY NOT otherwise."""
    kb = explainer.kb
    conclusion = kb.conclusions[conclusion_id]
    sources = _Sources(kb)
    out: list[str] = []

    def say(text: str = "", **style: Any) -> None:
        out.append(click.style(text, **style) if style else text)

    support = explainer.how(conclusion_id)
    why = explainer.why_not(conclusion_id)
    kind = conclusion.kind.replace("_", " ")
    result = explainer.result
    notice = screen_notice(kb, result.screen, result.triage)
    if support is not None:
        urgency = f", {support.urgency.upper()}" if support.urgency else ""
        say(f"{conclusion.label} ({conclusion_id}, {kind}): reached{urgency}", bold=True)
        say(f"certainty {support.certainty:.2f} ({certainty_word(support.certainty)}): support for "
            "the hypothesis, not a probability of disease")
        if conclusion.kind == "red_flag":
            action = conclusion.action_for(support.urgency)
            for line in _wrap(f"Do now: {action}", "", "  "):
                say(line, fg="red", bold=True)
        say()
        say("HOW", bold=True)
        _how(support, explainer, sources, say, "  ")
        if why.near_misses:
            say()
            say("Rules for it that did not fire, nearest first", bold=True)
            _misses(why, explainer, sources, say)
    else:
        say(f"{conclusion.label} ({conclusion_id}, {kind}): not reached", bold=True)
        say()
        say("WHY NOT", bold=True)
        weighed = explainer.weighed(conclusion_id)
        if weighed is not None:
            say(f"  Evidence against outweighed the support (net certainty "
                f"{weighed.certainty:.2f}). The rules that fired for and against it:")
            _how(weighed, explainer, sources, say, "  ")
            if why.near_misses:
                say()
                say("Rules for it that did not fire, nearest first", bold=True)
        if not why.near_misses and weighed is None:
            say("  No rule in the knowledge base concludes it.")
        elif why.near_misses:
            _misses(why, explainer, sources, say)
    if notice:  # whatever is explained, an unscreened red flag is said (unknown is not 'no')
        say()
        for line in _wrap(notice, "! ", "  "):
            say(line, fg="yellow", bold=True)
    if sources.order:
        say()
        say("Sources", bold=True)
        for line in sources.lines():
            say(line)
    say()
    say(DISCLAIMER, dim=True)
    text = "\n".join(out) + "\n"
    return text if color is not False else click.unstyle(text)


def _how(support: Support, explainer: Explainer, sources: _Sources, say: Any, indent: str) -> None:
    kb = explainer.kb
    for number, step in enumerate(support.steps, 1):
        rule = step.rule
        head = f"{indent}{number}. {rule.title} ({rule.id}) {sources.cite(rule.sources)}".rstrip()
        for line in _wrap(head.strip(), head[: len(head) - len(head.lstrip())], indent + "   "):
            say(line, bold=True)
        pad = indent + "   "
        if rule.because:
            for line in _wrap(f"because  {rule.because}", pad, pad + "         "):
                say(line)
        if rule.accuracy is not None:
            for line in _wrap(f"evidence {rule.accuracy.describe()}", pad, pad + "         "):
                say(line)
        if step.findings:
            given = "; ".join(finding_phrase(kb, fid, value) for fid, value in step.findings)
            for line in _wrap(f"given    {given}", pad, pad + "         "):
                say(line)
        for inner, cf in step.used:
            say(f"{pad}uses     {inner.conclusion.label} (certainty {cf:.2f} when used), reached by:")
            _how(inner, explainer, sources, say, pad + "  ")
        combined = ""
        if step.contribution != step.certainty_after:
            combined = f"; combined {step.certainty_after:.2f}"
        verb = "lowers  " if rule.against else "adds    "
        say(f"{pad}{verb} {rule.certainty:.2f} x {step.premise_cf:.2f} = {step.contribution:+.2f}"
            f"{combined}")


def _misses(why: WhyNot, explainer: Explainer, sources: _Sources, say: Any) -> None:
    width = max(len(status) for status in STATUS_STYLE)
    for number, miss in enumerate(why.near_misses, 1):
        rule = miss.rule
        head = f"  {number}. {rule.title} ({rule.id}) {sources.cite(rule.sources)}".rstrip()
        for line in _wrap(head.strip(), "  ", "     "):
            say(line, bold=True)
        say(f"     {miss_summary(miss)}")
        for premise in miss.premises:
            note = premise_note(explainer.kb, premise)
            text = f"{premise.text} ({note})" if note else premise.text
            first = f"       {premise.status:<{width}}  "
            lines = textwrap.wrap(text, WIDTH - len(first)) or [""]
            say(first + lines[0], **STATUS_STYLE.get(premise.status, {}))
            for line in lines[1:]:
                say(" " * len(first) + line)
        asks = [explainer.kb.findings[f].label for p in miss.premises if p.status == UNKNOWN
                for f in p.unknown if f in explainer.kb.findings]
        if asks and not miss.blocked:
            for line in _wrap("ask about: " + ", ".join(dict.fromkeys(asks)), "     ", "       "):
                say(line)


# --- JSON ----------------------------------------------------------------------------------------


def _sources_json(kb: m.KnowledgeBase, refs: tuple[str, ...]) -> list[dict[str, str]]:
    out = []
    for ref in refs:
        source = resolve_source(kb, ref)
        out.append({"id": source.id if source else ref, "citation": source.citation if source else ref})
    return out


def _accuracy_json(accuracy: m.Accuracy | None) -> dict[str, Any] | None:
    if accuracy is None:
        return None
    return {"source": accuracy.source, **dict(accuracy.figures()),
            **({"note": accuracy.note} if accuracy.note else {})}


def _support_json(support: Support, kb: m.KnowledgeBase) -> list[dict[str, Any]]:
    return [{
        "rule": step.rule.id,
        "title": step.rule.title,
        "because": step.rule.because,
        "findings": [{"id": fid, "value": value} for fid, value in step.findings],
        "uses": [{"conclusion": inner.conclusion.id, "certainty": round(cf, 4),
                  "how": _support_json(inner, kb)} for inner, cf in step.used],
        "rule_certainty": step.rule.certainty,
        "accuracy": _accuracy_json(step.rule.accuracy),
        "premise_certainty": round(step.premise_cf, 4),
        "contribution": round(step.contribution, 4),
        "certainty_after": round(step.certainty_after, 4),
        "sources": _sources_json(kb, step.rule.sources),
    } for step in support.steps]


def explanation_dict(explainer: Explainer, conclusion_id: str) -> dict[str, Any]:
    """The explanation as one JSON object: `how` when reached, `why_not` for unfired rules."""
    kb = explainer.kb
    conclusion = kb.conclusions[conclusion_id]
    support = explainer.how(conclusion_id)
    why = explainer.why_not(conclusion_id)
    weighed = explainer.weighed(conclusion_id) if support is None else None
    return {
        "conclusion": conclusion_id,
        "label": conclusion.label,
        "kind": conclusion.kind,
        "reached": support is not None,
        "certainty": round(support.certainty, 4) if support else 0.0,
        "urgency": support.urgency if support else "",
        "how": _support_json(support, kb) if support else [],
        "lowered_by": _support_json(weighed, kb) if weighed else [],
        "why_not": [{
            "rule": miss.rule.id,
            "title": miss.rule.title,
            "premises": [{"text": p.text, "status": p.status, "unknown": list(p.unknown),
                          "given": {fid: value for fid, value in p.given}} for p in miss.premises],
            "sources": _sources_json(kb, miss.rule.sources),
        } for miss in why.near_misses],
        "screen": explainer.result.screen.to_dict(),
    }
