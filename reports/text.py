"""Terminal output of an assessment: the answer first (red flags with the action to take, the
top conditions with side, the plan and the review), then the details."""

from __future__ import annotations

import textwrap

import click

from engine.errors import one_line
from engine.inference.assessment import Assessment, Reached
from engine.inference.plan import PHASE_LABEL
from engine.wording import (
    DISCLAIMER,
    NO_PLAN,
    TRIAGE_TEXT,
    certainty_word,
    finding_phrase,
    safety_notices,
    startback_line,
)
from reports.summary import SIDE_WORD, build_summary

WIDTH = 88
URGENCY_COLOUR = {"emergency": "red", "urgent": "yellow", "soon": "cyan", "routine": "green"}
TONE_COLOUR = {"red": "red", "amber": "yellow", "green": "green"}


def _wrap(text: str, indent: str = "    ") -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent) or [indent]


def _because(result: Assessment, item: Reached) -> str:
    facts = result.case.facts
    parts = [finding_phrase(result.kb, fid, facts.get(fid)) for fid in item.evidence]
    return ", ".join(parts) if parts else "earlier conclusions"


def render_text(result: Assessment, color: bool | None = None) -> str:
    """The clinician's view, answer first; `color=None` lets click decide (colour only on a
    terminal)."""
    out: list[str] = []

    def say(text: str = "", **style: object) -> None:
        out.append(click.style(text, **style) if style else text)  # type: ignore[arg-type]

    summary = build_summary(result)
    tone = TONE_COLOUR[summary.tone]
    if result.red_flags:
        say("=" * WIDTH, fg=tone, bold=True)
        say(f" {summary.headline}", fg=tone, bold=True)
        say("=" * WIDTH, fg=tone, bold=True)
        for flag in result.red_flags:
            say(f" [{flag.urgency.upper()}] {flag.conclusion.label}",
                fg=URGENCY_COLOUR[flag.urgency], bold=True)
            for line in _wrap(f"Do now: {flag.action}"):
                say(line, bold=True)
            for line in _wrap(f"Because: {_because(result, flag)}"):
                say(line)
        say("=" * WIDTH, fg=tone, bold=True)
    say(f"Triage: {TRIAGE_TEXT[result.triage]}", fg=URGENCY_COLOUR[result.triage], bold=True)
    if summary.screen:  # right under the triage line: silence is not reassurance
        notice = summary.screen
        say(f"  ! {notice.head}: not asked about", fg="yellow", bold=True)
        for unscreened in notice.lines:
            wrapped = textwrap.wrap(f"{unscreened.flag}: {', '.join(unscreened.questions)}", WIDTH - 6)
            for j, text in enumerate(wrapped):
                say(("    - " if j == 0 else "      ") + text, fg="yellow")
        for text in _wrap(f"{notice.unknown} {notice.do_now}", "    "):
            say(text, fg="yellow", bold=True)
    for note in safety_notices(result):
        for line in _wrap(note, "  ! "):
            say(line, fg="yellow", bold=True)
    if summary.patient:
        say(f"Patient: {one_line(summary.patient)}")
    if result.risk_group:
        say(startback_line(result.risk_group))
    say()
    say("Conditions to consider", bold=True)
    if not summary.conditions:
        say("    none suggested by the findings given")
    for top in summary.conditions:
        side = f", {top.side}" if top.side else ""
        say(f"  {top.certainty:4.2f}  {top.label}{side} ({top.word})")
    say()
    say("Plan", bold=True)
    if not summary.plan:
        for line in _wrap(NO_PLAN, "    "):
            say(line)
    for i, step in enumerate(summary.plan, 1):
        tags = "".join(f"[{tag}] " for tag in (step.side, step.phase) if tag)
        text = f"{step.flag}: act on 'Do now' above." if step.referral and step.flag else step.text
        lines = textwrap.wrap(tags + text, WIDTH - 5)
        for j, line in enumerate(lines):
            say(f"  {i}. {line}" if j == 0 else f"     {line}", bold=step.referral)
    if summary.avoid:
        for line in _wrap("Avoid for now: " + "; ".join(summary.avoid) + ".", "  "):
            say(line)
    say()
    for line in textwrap.wrap(f"{summary.review_head}: {summary.review_why}", WIDTH):
        say(line, bold=True)
    say()
    say("-" * WIDTH, dim=True)
    say("Details", bold=True)
    say()
    say("Conditions to consider: why", bold=True)
    if not result.conditions:
        say("    none suggested by the findings given")
    for item in result.conditions:
        side = f", {item.side}" if item.side else ""
        say(f"  {item.certainty:4.2f}  {item.conclusion.label}{side} ({certainty_word(item.certainty)})")
        for line in _wrap(f"because {_because(result, item)}", "        "):
            say(line)
    lowered = [result.kb.conclusions[cid].label for cid in dict.fromkeys(
        e.concluded for e in result.events if e.rule.against) if result.reached(cid) is None]
    if lowered:
        for line in _wrap("Not reached, evidence against outweighed the support: "
                          + ", ".join(lowered), "  "):
            say(line, dim=True)
    say()
    say("Likely causes of imbalance", bold=True)
    if not result.causes:
        say("    none suggested by the findings given")
    for item in result.causes:
        say(f"  {item.certainty:4.2f}  {item.conclusion.label}")
        for line in _wrap(f"because {_because(result, item)}", "        "):
            say(line)
    say()
    muscles = result.kb.muscles
    stretch = ", ".join(muscles[m].label for m in result.stretch) or "none"
    strengthen = ", ".join(muscles[m].label for m in result.strengthen) or "none"
    say("Muscles", bold=True)
    for line in _wrap(f"Stretch:    {stretch}", "  "):
        say(line)
    for line in _wrap(f"Strengthen: {strengthen}", "  "):
        say(line)
    say()
    say("Recommendations by phase", bold=True)
    if not result.recommendations:
        say("    none")
    group = None
    for advice in result.recommendations:
        heading = "Act now" if advice.referral else PHASE_LABEL[advice.phase] if advice.phase \
            else "General advice"
        if heading != group:
            group = heading
            say(f"  {heading}", underline=True)
        side = f"[{SIDE_WORD[advice.side]}] " if advice.side else ""
        lines = textwrap.wrap(side + advice.text, WIDTH - 4)
        first, rest = (lines[0], lines[1:]) if lines else ("", [])
        say(f"  - {first}", bold=advice.kind == "referral")
        for line in rest:
            say(f"    {line}")
    say()
    say(f"{len(result.events)} rules fired. Explain any conclusion with "
        "'imbalance explain CASE ID'.", dim=True)
    say(DISCLAIMER, dim=True)
    text = "\n".join(out) + "\n"
    return text if color is not False else click.unstyle(text)
