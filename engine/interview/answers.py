"""Reading one typed answer to a plain (one-finding) interview question.

A checklist line is read by `engine.interview.ticks`; whether a value fits a finding at all is
`engine.kb.values.check_value`, shared with case files, so the interview accepts exactly what a
case file would.
"""

from __future__ import annotations

from typing import Any

from engine.kb.model import SIDES, Finding
from engine.kb.values import check_value


def parse_answer(finding: Finding, text: str) -> Any:
    """Turn typed text into a value for `finding`; raises ValueError with a hint."""
    word = text.strip().lower()
    yes = {"y", "yes", "true", "t", "1"}
    no = {"n", "no", "false", "f", "0", "none"}
    if finding.type == "boolean":
        if word in yes:
            return True
        if word in no:
            return False
        raise ValueError("answer yes or no (or skip)")
    if finding.type == "sided":
        if word in yes:
            return True
        if word in no:
            return False
        aliases = {"l": "left", "r": "right", "b": "bilateral", "both": "bilateral"}
        word = aliases.get(word, word)
        if word in SIDES:
            return word
        raise ValueError("answer yes, no, left, right or bilateral (or skip)")
    if finding.type == "enum":
        if word in finding.values:
            return word
        raise ValueError(f"answer one of: {', '.join(finding.values)} (or skip)")
    try:
        number = float(word)
    except ValueError:
        raise ValueError(f"answer {finding.accepts()} (or skip)") from None
    value: Any = int(number) if number.is_integer() else number
    message = check_value(finding, value)
    if message:
        raise ValueError(f"answer {finding.accepts()} (or skip)")
    return value
