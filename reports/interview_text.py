"""The interview's words: why a question is asked, and a rule's condition with what is known.

Plain text lines (no colour), so the terminal, a piped transcript and the tests read the same.
Clinician text names findings, rules and conclusions by their labels and titles, never by id
(ids are for `kb show` and case files): a label is quoted as written, not lower-cased, so
"Laslett SI provocation tests" never reads as the id `laslett...`.
"""

from __future__ import annotations

import textwrap
from typing import Any

from engine.inference.premises import Evaluator
from engine.interview.planner import SCREEN, Dependent, Question, Survey, Why
from engine.interview.ticks import Ticks
from engine.kb import model as m
from engine.wording import cond_phrase, show_value

WIDTH = 88
SHOWN_RULES = 6  # a WHY names this many rules, then says how many more


def why_lines(why: Why, kb: m.KnowledgeBase, facts: dict[str, Any]) -> list[str]:
    """MYCIN's WHY: the open rules this answer can decide, what each would conclude, its
    condition with what is already known, and which answers make it fire or rule it out."""
    label = why.finding.label
    phase = " (red-flag screen)" if why.phase == SCREEN else ""
    count = len(why.open)
    out = [f'  Why ask about "{label}"{phase}?',
           f"  The answer can still decide {count} rule{'s' if count != 1 else ''}:"]
    evaluator = Evaluator(kb)
    for dep in why.open[:SHOWN_RULES]:
        out.append(f"  - {dep.rule.title}")
        out.extend(_wrap(effect(dep, kb)))
        out.extend(_wrap("when: " + describe(kb, dep.rule.when, facts, evaluator)))
        outcome = []
        if why.finding.type != "number":  # imagined numbers are not worth printing
            if dep.fires_on:
                outcome.append(f"{_answers(dep.fires_on)} makes it fire now")
            if dep.rules_out_on:
                outcome.append(f"{_answers(dep.rules_out_on)} rules it out")
        if outcome:
            out.append(f"      {'; '.join(outcome)}")
    if count > SHOWN_RULES:
        out.append(f"  ... and {count - SHOWN_RULES} more.")
    if why.settled:
        names = "; ".join(rule.title for rule in why.settled[:5])
        more = f" and {len(why.settled) - 5} more" if len(why.settled) > 5 else ""
        out.append(f"  Already settled by other answers: {names}{more}.")
    return out


def checklist_why_lines(question: Question, survey: Survey, kb: m.KnowledgeBase) -> list[str]:
    """WHY for a whole checklist: what each item can still decide, most at stake first within
    the item; `? N` gives one item's full reasoning."""
    phase = " (red-flag screen)" if question.phase == SCREEN else ""
    out = [f"  Why this checklist{phase}? Each item can still decide:"]
    for number, finding in enumerate(question.members, 1):
        why = survey.why(finding.id)
        if why.open:
            first, more = why.open[0], len(why.open) - 1
            tail = f" and {more} more rule{'s' if more != 1 else ''}" if more else ""
            text = f"{finding.label}: {effect(first, kb)} ({first.rule.title}){tail}"
        else:
            text = f"{finding.label}: asked with the others; no open rule needs it on its own"
        out.extend(textwrap.wrap(text, WIDTH, initial_indent=f"  {number:>3}  ",
                                 subsequent_indent=" " * 7))
    out.append("  Type ? and an item's number (? 2) for the full reasoning behind it.")
    return out


def recorded_line(members: tuple[m.Finding, ...], ticks: Ticks) -> str:
    """What a checklist line was read as, so a slip of the finger shows at once."""
    yes = [f"{f.label}" + (f" ({ticks.values[f.id]})" if isinstance(ticks.values.get(f.id), str) else "")
           for f in members if ticks.values.get(f.id) not in (None, False)]
    unknown = [f.label for f in members if f.id in ticks.unknown]
    no = [f for f in members if ticks.values.get(f.id) is False]
    unasked = [f.label for f in members if f.id not in ticks.values and f.id not in ticks.unknown]
    parts = []
    if yes:
        parts.append("yes: " + ", ".join(yes))
    if unknown:
        parts.append("not known: " + ", ".join(unknown))
    if no:
        parts.append("no: " + ", ".join(f.label for f in no))
    if unasked:  # a checklist's explicit_no members: a tick elsewhere does not rule them out
        parts.append("still open (say 'no N' to rule out): " + ", ".join(unasked))
    return "  Recorded " + "; ".join(parts) + "."


def effect(dep: Dependent, kb: m.KnowledgeBase) -> str:
    """What firing the rule would add, in a clinician's words."""
    rule = dep.rule
    if dep.conclusion is None:
        parts = []
        if rule.stretch:
            parts.append("stretch " + ", ".join(kb.muscles[x].label for x in rule.stretch))
        if rule.strengthen:
            parts.append("strengthen " + ", ".join(kb.muscles[x].label for x in rule.strengthen))
        if rule.recommend:
            parts.append(f"{len(rule.recommend)} recommendation(s)")
        return "would add advice: " + ("; ".join(parts) or "none")
    conclusion = dep.conclusion
    if conclusion.kind == "red_flag":
        level = rule.urgency or conclusion.urgency
        return f"would raise the red flag {conclusion.label} ({level}), certainty {rule.certainty:g}"
    now = f", now {dep.certainty_now:.2f}" if dep.certainty_now else ", not yet suggested"
    return f"would support the {conclusion.kind} {conclusion.label} (certainty {rule.certainty:g}{now})"


def describe(kb: m.KnowledgeBase, cond: m.Cond, facts: dict[str, Any], evaluator: Evaluator) -> str:
    """A condition in words with what is known: ✓ holds, ✗ does not, ? not known yet."""
    def mark(test: m.Test) -> str:
        truth = evaluator.test_truth(test, facts)
        return "?" if truth is None else ("✓" if truth else "✗")

    return cond_phrase(kb, cond, mark)


def _wrap(text: str, indent: str = "      ") -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent) or [indent]


def _answers(values: tuple[Any, ...]) -> str:
    words = [f"'{show_value(v)}'" for v in values]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" or {words[-1]}"
