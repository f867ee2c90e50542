"""Words shared by every output format, so the terminal, markdown and HTML say the same thing."""

from __future__ import annotations

from typing import Any

from engine.explain.explainer import show_value
from engine.kb.model import certainty_band

DISCLAIMER = ("Decision support only: this tool supports clinical judgement and does not "
              "diagnose. Confirm every conclusion by examination.")

TRIAGE_TEXT = {
    "emergency": "EMERGENCY: act now, before anything else",
    "urgent": "URGENT: medical assessment within about 2 weeks",
    "soon": "SOON: review with a doctor and give safety-net advice",
    "routine": "ROUTINE: no red flag found in the answers given",
}


BANNER_HEADLINE = {
    "emergency": "act now, before any exercise treatment",
    "urgent": "refer for medical assessment before any exercise treatment",
    "soon": "low level of concern; review with a doctor soon and safety-net",
}


def banner_headline(triage: str) -> str:
    """The red-flag banner's headline: what the most urgent flag asks for (never 'refer' for a
    low-concern flag, which calls for watchful waiting)."""
    return BANNER_HEADLINE.get(triage, BANNER_HEADLINE["soon"])


def certainty_word(cf: float) -> str:
    """Plain words for a certainty, so a number is never read as a probability of disease."""
    return f"{certainty_band(cf)} support"


def finding_phrase(kb: Any, fid: str, value: Any) -> str:
    """'Saddle anaesthesia' or 'Leg pain radiating below the knee: left' or 'Sitting time: 9 hours'."""
    finding = kb.findings.get(fid)
    label = finding.label if finding else fid
    if value is True:
        return label
    if value is False:
        return f"no {label[0].lower()}{label[1:]}"
    unit = f" {finding.unit}" if finding is not None and finding.unit else ""
    return f"{label}: {show_value(value)}{unit}"


def safety_notices(result: Any) -> list[str]:
    """What every output must say about safety besides the red flags themselves: advice the
    safety policy withheld (and for which flag), and red-flag rules a layer switched off. One
    wording, so text, markdown, HTML and JSON readers are told the same thing."""
    notes: list[str] = []
    kb = result.kb
    withheld = result.withheld
    if withheld:
        flags = ", ".join(kb.conclusions[f].label for f in withheld.because)
        held = len(withheld.recommendations) + len(withheld.stretch) + len(withheld.strengthen)
        count = f" ({held} item{'s' if held != 1 else ''} held back)" if held else ""
        notes.append(f"Exercise, stretching and strengthening advice is withheld until the red "
                     f"flag is cleared: {flags}{count}. Follow the referral first.")
    for off in result.disabled_red_flag_rules:
        flag = kb.conclusions[off.red_flag].label if off.red_flag in kb.conclusions else off.red_flag
        notes.append(f"Warning: red-flag rule '{off.rule}' ({flag}) is switched off by a "
                     f"knowledge-base layer at {off.location}: {off.reason}")
    return notes


def startback_line(group: dict[str, Any]) -> str:
    """'STarT Back: high risk (total 6 of 9, distress subscale 4 of 5)', for every format."""
    return (f"STarT Back: {group['id']} risk (total {group['score']} of 9, distress subscale "
            f"{group['psychosocial_score']} of 5)")
