"""Terminal output of an assessment: red flags first, in a banner with the action to take."""

from __future__ import annotations

import textwrap

import click

from engine.errors import one_line
from engine.inference.assessment import Assessment, Reached
from reports.wording import (
    DISCLAIMER,
    TRIAGE_TEXT,
    banner_headline,
    certainty_word,
    finding_phrase,
    safety_notices,
    startback_line,
)

WIDTH = 88
URGENCY_COLOUR = {"emergency": "red", "urgent": "yellow", "soon": "cyan", "routine": "green"}


def _wrap(text: str, indent: str = "    ") -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent) or [indent]


def _because(result: Assessment, item: Reached) -> str:
    facts = result.case.facts
    parts = [finding_phrase(result.kb, fid, facts.get(fid)) for fid in item.evidence]
    return ", ".join(parts) if parts else "earlier conclusions"


def render_text(result: Assessment, color: bool | None = None) -> str:
    """The clinician's view; `color=None` lets click decide (colour only on a terminal)."""
    out: list[str] = []

    def say(text: str = "", **style: object) -> None:
        out.append(click.style(text, **style) if style else text)  # type: ignore[arg-type]

    patient = result.case.patient
    who = one_line(", ".join(str(v) for v in (patient.get("id"), patient.get("age") and
                                              f"{patient['age']} y", patient.get("sex")) if v))
    if result.red_flags:
        say("=" * WIDTH, fg="red", bold=True)
        plural = "S" if len(result.red_flags) > 1 else ""
        headline = banner_headline(result.triage)
        say(f" RED FLAG{plural}: {headline}", fg="red", bold=True)
        say("=" * WIDTH, fg="red", bold=True)
        for flag in result.red_flags:
            say(f" [{flag.urgency.upper()}] {flag.conclusion.label}",
                fg=URGENCY_COLOUR[flag.urgency], bold=True)
            for line in _wrap(f"Do now: {flag.action}"):
                say(line, bold=True)
            for line in _wrap(f"Because: {_because(result, flag)}"):
                say(line)
        say("=" * WIDTH, fg="red", bold=True)
    say(f"Triage: {TRIAGE_TEXT[result.triage]}", fg=URGENCY_COLOUR[result.triage], bold=True)
    for note in safety_notices(result):
        for line in _wrap(note, "  ! "):
            say(line, fg="yellow", bold=True)
    if who:
        say(f"Patient: {who}")
    if result.risk_group:
        say(startback_line(result.risk_group))
    say()
    say("Conditions to consider", bold=True)
    if not result.conditions:
        say("    none suggested by the findings given")
    for item in result.conditions:
        say(f"  {item.certainty:4.2f}  {item.conclusion.label} ({certainty_word(item.certainty)})")
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
    say("Recommendations", bold=True)
    if not result.recommendations:
        say("    none")
    for advice in result.recommendations:
        lines = textwrap.wrap(advice.text, WIDTH - 4)
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
