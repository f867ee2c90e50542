"""The schema's reader: problem-collecting accessors for one file, and the words every
kind of entry shares (sections, reserved keys, operators, id characters)."""

from __future__ import annotations

import math
from typing import Any

from engine.errors import Location, Problem
from engine.kb.suggest import did_you_mean
from engine.kb.yamlsource import LineDict, LineList, line_of, own_line

SECTIONS = (
    "knowledge_base", "findings", "red_flags", "conditions", "causes", "muscles",
    "recommendations", "sources", "rules", "tests", "disable", "checklists",
)
RESERVED = ("all", "any", "not", "at_least", "of", "concluded", "min_certainty")
META_KEYS = ("name", "version", "description")  # the `knowledge_base:` header of a folder
# What authors write by habit, mapped to the operator they mean (for did-you-mean only).
OPERATOR_ALIASES = {
    ">": "gt", ">=": "ge", "<": "lt", "<=": "le", "=": "eq", "==": "eq", "!=": "ne",
    "greater_than": "gt", "more_than": "gt", "above": "gt", "over": "gt", "less_than": "lt",
    "below": "lt", "under": "lt", "at_least": "ge", "min": "ge", "minimum": "ge", "at_most": "le",
    "max": "le", "maximum": "le", "equals": "eq", "is": "eq", "not": "ne", "not_equal": "ne",
    "one_of": "in", "any_of": "in",
}
ID_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


class Reader:
    """Problem-collecting accessors for one file."""

    def __init__(self, path: str, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems

    def at(self, container: Any, key: Any = None) -> Location:
        line = line_of(container, key) if key is not None else own_line(container)
        return Location(self.path, line)

    def error(self, where: Location, message: str, suggestion: str = "", key: str = "",
              code: str = "schema") -> None:
        self.problems.append(Problem(where, message, suggestion, "error", code, key))

    def mapping(self, value: Any, where: Location, what: str) -> LineDict | None:
        if isinstance(value, dict):
            return value  # type: ignore[return-value]
        self.error(where, f"{what} must be a mapping of keys to values, not {_kind(value)}")
        return None

    def sequence(self, value: Any, where: Location, what: str) -> LineList | None:
        if isinstance(value, list):
            return value  # type: ignore[return-value]
        self.error(where, f"{what} must be a list (items starting with '- '), not {_kind(value)}")
        return None

    def keys(self, entry: LineDict, allowed: tuple[str, ...], required: tuple[str, ...],
             what: str) -> None:
        for key in entry:
            if key not in allowed:
                self.error(self.at(entry, key), f"unknown key '{key}' in {what}",
                           did_you_mean(key, allowed) or f"allowed: {', '.join(allowed)}", key)
        for key in required:
            if key not in entry:
                self.error(self.at(entry), f"{what} is missing '{key}'", key=key)

    def text(self, entry: LineDict, key: str, what: str, default: str = "") -> str:
        if key not in entry:
            return default
        value = entry[key]
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            text = str(value).strip()
            if text:
                return text
        self.error(self.at(entry, key), f"'{key}' of {what} must be non-empty text", key=key)
        return default

    def ident(self, entry: LineDict, what: str) -> str:
        raw = entry.get("id")
        if raw is None:
            return ""
        if not isinstance(raw, str) or not raw or not set(raw) <= ID_CHARS or raw[0].isdigit():
            self.error(self.at(entry, "id"),
                       f"id {raw!r} of {what} must be lower_snake_case (a-z, 0-9, _)",
                       "for example 'lateral_knee_pain'", "id")
            return str(raw) if raw is not None else ""
        return raw

    def choice(self, entry: LineDict, key: str, options: tuple[str, ...], what: str,
               default: str = "") -> str:
        if key not in entry:
            return default
        value = entry[key]
        if isinstance(value, str) and value in options:
            return value
        self.error(self.at(entry, key), f"'{key}' of {what} is {value!r}; expected one of "
                   f"{', '.join(options)}", did_you_mean(str(value), options), key)
        return default

    def number(self, entry: dict[str, Any], key: str, what: str, low: float | None = None,
               high: float | None = None, code: str = "schema") -> float | None:
        if key not in entry:
            return None
        value = entry[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.error(self.at(entry, key), f"'{key}' of {what} must be a number, not {_kind(value)}",
                       key=key, code=code)
            return None
        if not math.isfinite(value):  # .nan slips through every comparison; .inf is no measure
            self.error(self.at(entry, key), f"'{key}' of {what} is {value}; it must be a finite "
                       "number", f"write a number between {_num(low)} and {_num(high)}", key, code)
            return None
        if (low is not None and value < low) or (high is not None and value > high):
            self.error(self.at(entry, key),
                       f"'{key}' of {what} is {value}; it must lie between {_num(low)} and "
                       f"{_num(high)}", key=key, code=code)
            return None
        return float(value)

    def certainty(self, entry: LineDict, key: str, what: str) -> float | None:
        """A certainty a rule gives its conclusion: a finite number in (0, 1]. Zero would conclude
        something with no support at all, and anything else breaks the combination (and JSON)."""
        value = self.number(entry, key, what, code="certainty_range")
        if value is not None and not 0.0 < value <= 1.0:
            self.error(self.at(entry, key), f"'{key}' of {what} is {_num(value)}; a certainty is "
                       "above 0 and at most 1", "for example 'certainty: 0.6'", key,
                       "certainty_range")
            return None
        return value

    def lint_off(self, entry: LineDict, what: str) -> tuple[tuple[str, str], ...]:
        """`lint: {check_id: reason}`: checks switched off for this entry, each with its reason.
        Whether the check ids exist is judged by lint, which owns the list of checks."""
        if "lint" not in entry:
            return ()
        spec = self.mapping(entry["lint"], self.at(entry, "lint"), f"'lint' of {what}")
        out: list[tuple[str, str]] = []
        for check, reason in (spec or {}).items():
            if not isinstance(reason, str) or not reason.strip():
                self.error(self.at(spec, check), f"switching off check '{check}' in {what} needs a "
                           "reason", f"write '{check}: why it does not apply here'", check)
            else:
                out.append((check, reason.strip()))
        return tuple(out)

    def names(self, entry: LineDict, key: str, what: str) -> tuple[str, ...]:
        if key not in entry:
            return ()
        value = entry[key]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error(self.at(entry, key), f"'{key}' of {what} must be a list of ids", key=key)
            return ()
        return tuple(value)


def _num(value: float | None) -> str:
    if value is None:
        return "?"
    return str(int(value)) if float(value).is_integer() else str(value)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no)"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
