"""An assessment as CDS Hooks 2.0 cards, for a clinician reading it inside the health record.

The EHR shows a card's one-line summary and, on request, its markdown detail, so each card must
stand on its own: what to do now, why (the findings and rules), and how sure. Red flags come
first, one card each (indicator from its urgency: critical for emergency, warning for urgent or
soon), then one card with the triage, the linked conditions, causes and the plan (indicator
from the triage, info when routine). Every card names the tool and KB version as its source and
links to the full HTML report. Card `uuid`s are fresh for each call so feedback can name them;
the rules behind each card travel with it so the service can report overrides per rule.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from engine.inference.assessment import Assessment, Reached
from engine.wording import DISCLAIMER, TRIAGE_TEXT, banner_headline, certainty_word, finding_phrase
from reports.summary import screen_summary

SUMMARY_MAX = 140  # CDS Hooks 2.0 "Card Attributes": a <140-character summary; contract: at most 140
INDICATOR = {"emergency": "critical", "urgent": "warning", "soon": "warning", "routine": "info"}
OVERRIDE_SYSTEM = "urn:imbalance-kb:codesystem:override-reason"
OVERRIDE_REASONS = (
    ("already-managed", "Already referred or being managed"),
    ("finding-wrong", "A recorded finding is wrong or out of date"),
    ("judgement-differs", "My clinical assessment differs"),
    ("not-relevant", "Not relevant to this visit"),
)
TOPIC_SYSTEM = "urn:imbalance-kb:codesystem:card-topic"
PLAN_STEPS = 5  # the contract's plan holds at most five steps; the recommendations are cut to match


@dataclass(frozen=True)
class IssuedCard:
    """A card as sent, with what it was about (a conclusion id, or 'assessment') and the rules."""

    card: dict[str, Any]
    subject: str
    rules: tuple[str, ...]

    @property
    def uuid(self) -> str:
        return str(self.card["uuid"])


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|!])")


def md(text: str) -> str:
    """Text from the KB or the patient's answers, escaped so markdown shows it as written."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def shorten(text: str, limit: int = SUMMARY_MAX) -> str:
    """At most `limit` characters, cut at a word with an ellipsis when too long."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.")
    return cut + "…"


def _first_sentence(text: str) -> str:
    match = re.match(r"(.+?[.!?])(\s|$)", text.strip())
    return match.group(1) if match else text.strip()


def _evidence(result: Assessment, reached: Reached) -> list[str]:
    facts = result.case.facts
    return [f"- {md(finding_phrase(result.kb, fid, facts.get(fid)))}" for fid in reached.evidence] or [
        "- earlier conclusions"]


def _support(reached: Reached) -> str:
    return f"{certainty_word(reached.certainty)}, certainty {reached.certainty:.2f}"


def _source(result: Assessment, topic: str, display: str) -> dict[str, Any]:
    return {"label": f"imbalance decision support ({result.kb.version})",
            "topic": {"system": TOPIC_SYSTEM, "code": topic, "display": display}}


def _base(result: Assessment, summary: str, indicator: str, detail: str, report_url: str,
          topic: tuple[str, str], suggestion: str) -> dict[str, Any]:
    return {
        "uuid": str(uuid.uuid4()),
        "summary": shorten(summary),
        "indicator": indicator,
        "detail": detail,
        "source": _source(result, *topic),
        "overrideReasons": [{"system": OVERRIDE_SYSTEM, "code": code, "display": display}
                            for code, display in OVERRIDE_REASONS],
        "links": [{"label": "Full imbalance report", "url": report_url, "type": "absolute"}],
        # One suggestion without actions, so a clinician can accept the card: CDS Hooks feedback
        # reports acceptance per suggestion ("Feedback": acceptedSuggestions).
        "suggestions": [{"label": suggestion, "uuid": str(uuid.uuid4()), "isRecommended": True}],
        "selectionBehavior": "at-most-one",
    }


def _red_flag_card(result: Assessment, flag: Reached, report_url: str) -> IssuedCard:
    summary = f"{flag.urgency.upper()}: {flag.conclusion.label}. {_first_sentence(flag.action)}"
    if len(summary) > SUMMARY_MAX:  # never cut an instruction short: say the headline instead
        summary = f"{flag.urgency.upper()}: {flag.conclusion.label}: {banner_headline(flag.urgency)}."
    detail = "\n".join([
        f"**Red flag: {md(flag.conclusion.label)}** ({flag.urgency}; {_support(flag)})", "",
        f"**Do now:** {md(flag.action)}", "",
        "**Because of:**", *_evidence(result, flag), "",
        f"Rules: {', '.join(f'`{rule}`' for rule in flag.rules)}", "",
        f"_{DISCLAIMER}_",
    ])
    card = _base(result, summary, INDICATOR.get(flag.urgency, "warning"), detail, report_url,
                 ("red-flag", "Red flag"), "Act on it as advised")
    return IssuedCard(card, flag.id, flag.rules)


def _plan_steps(result: Assessment) -> list[dict[str, Any]]:
    data = result.to_dict()
    plan = data.get("plan")
    steps: list[dict[str, Any]] = plan if isinstance(plan, list) and plan else data["recommendations"]
    return steps[:PLAN_STEPS]


def _assessment_card(result: Assessment, report_url: str) -> IssuedCard:
    top = result.conditions[0] if result.conditions else None
    head = TRIAGE_TEXT[result.triage].split(":")[0]
    if result.red_flags:
        count = len(result.red_flags)
        names = ", ".join(f.conclusion.label for f in result.red_flags)
        plural = "s" if count > 1 else ""
        summary = f"{head}: {count} red flag{plural} ({names}); act on the red-flag card{plural} first."
    elif not result.screen.complete:  # never an all-clear: the screen was not done
        count = len(result.screen.findings)
        summary = (f"{head}, red-flag screen incomplete: ask the {count} unasked red-flag "
                   f"question{'s' if count != 1 else ''} before relying on it.")
        if top is not None:
            summary += f" Most supported: {top.conclusion.label}."
    elif top is not None:
        support = certainty_word(top.certainty)
        summary = f"{head}: no red flag in the answers. Most supported: {top.conclusion.label} ({support})."
    else:
        summary = f"{head}: no red flag and no linked condition in the answers given."
    lines = [f"**Triage: {md(TRIAGE_TEXT[result.triage])}**", "", *_screen_lines(result)]
    if result.conditions:
        lines += ["**Linked conditions** (strength of support, not a diagnosis):", ""]
        lines += ["| condition | support | because of |", "|---|---|---|"]
        facts = result.case.facts
        for reached in result.conditions:
            because = "; ".join(md(finding_phrase(result.kb, fid, facts.get(fid)))
                                for fid in reached.evidence)
            lines.append(f"| {md(reached.conclusion.label)} | {_support(reached)} | {because or '-'} |")
        lines.append("")
    if result.causes:
        causes = ", ".join(f"{md(c.conclusion.label)} ({certainty_word(c.certainty)})" for c in result.causes)
        lines += [f"**Likely contributing causes:** {causes}", ""]
    steps = _plan_steps(result)
    if steps:
        lines += ["**Plan:**", *(f"{n}. {md(str(step['text']))}" for n, step in enumerate(steps, 1)), ""]
    lines.append(f"_{DISCLAIMER}_")
    rules = tuple(dict.fromkeys(rule for r in result.conditions for rule in r.rules))
    card = _base(result, summary, INDICATOR[result.triage], "\n".join(lines), report_url,
                 ("assessment", "Assessment"), "Use this assessment and plan")
    return IssuedCard(card, "assessment", rules)


def _screen_lines(result: Assessment) -> list[str]:
    """The incomplete red-flag screen in the assessment card's detail, under the triage."""
    notice = screen_summary(result.kb, result.screen, result.triage)
    if notice is None:
        return []
    return [f"**{notice.head}: not asked about**", "",
            *(f"- {md(line.flag)}: {md(', '.join(line.questions))}" for line in notice.lines), "",
            f"**{md(notice.unknown)}** {md(notice.do_now)}", ""]


def unreadable_card(message: str, version: str) -> dict[str, Any]:
    """When the questionnaire on record cannot be read, say so: a silent empty answer would let
    the clinician think the red-flag screen had run."""
    return {
        "uuid": str(uuid.uuid4()),
        "summary": "The imbalance questionnaire on record could not be read, so no red-flag screen was run.",
        "indicator": "warning",
        "detail": f"**What was wrong:** {md(message)}\n\nCorrect the questionnaire response and open the "
                  f"record again, or run the red-flag screen by hand.",
        "source": {"label": f"imbalance decision support ({version})",
                   "topic": {"system": TOPIC_SYSTEM, "code": "input-error", "display": "Input error"}},
    }


def cards_for(result: Assessment, report_url: str) -> list[IssuedCard]:
    """The cards for one assessment: a card per red flag, most urgent first, then the summary."""
    cards = [_red_flag_card(result, flag, report_url) for flag in result.red_flags]
    cards.append(_assessment_card(result, report_url))
    return cards
