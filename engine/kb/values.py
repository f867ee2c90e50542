"""What values each finding type accepts, shared by case files, rule tests and the interview.

Typed interview answers are read in `engine.interview.answers`; this module only judges values.
"""

from __future__ import annotations

import re
from typing import Any

from engine.kb.model import SIDES, Finding

# numbers YAML 1.1 would have read differently (case files read them as text, see yamlsource);
# text that `re` compiles on first use, so a case without text values does not pay for it
_YAML11_NUMBER = (r"^[-+]?(0[0-9_]+|0[xXoObB][0-9a-fA-F_]+|[0-9][0-9_]*(:[0-5]?[0-9])+"
                  r"(\.[0-9_]*)?|[0-9]+(_[0-9]*)+(\.[0-9_]*)?)$")


def check_value(finding: Finding, value: Any) -> str:
    """An error message when `value` does not fit `finding`, else an empty string."""
    if finding.type == "boolean":
        return "" if isinstance(value, bool) else f"expects true or false, not {value!r}"
    if finding.type == "sided":
        if isinstance(value, bool) or value in SIDES:
            return ""
        return f"expects true, false, left, right or bilateral, not {value!r}"
    if finding.type == "enum":
        return "" if value in finding.values else f"expects one of {', '.join(finding.values)}, not {value!r}"
    if isinstance(value, str) and re.match(_YAML11_NUMBER, value.strip()):
        return (f"is written {value!r}, which YAML 1.1 reads as a different number (octal, "
                f"hexadecimal, base 60 or with '_'); write the plain decimal number")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"expects a number ({finding.accepts()}), not {value!r}"
    if finding.integer and not float(value).is_integer():
        return f"counts something and takes whole numbers, not {value!r}"
    low = finding.minimum if finding.minimum is not None else float("-inf")
    high = finding.maximum if finding.maximum is not None else float("inf")
    if not low <= value <= high:
        return f"is {value}, out of range: {finding.accepts()}"
    return ""


def is_present(value: Any) -> bool:
    """A sided finding is present on any side; `false` and unknown are not present."""
    return value is True or value in SIDES
