"""One exception hierarchy for everything a user can get wrong.

Every error carries where it happened (file, line, key) and, where one fits, a suggestion,
so the CLI can turn any of them into one clear message and exit code 2 in a single place.
"""

from __future__ import annotations

import re

from engine.record import Record

# C0 and C1 controls, DEL, and the Unicode bidi/format controls that can reorder or hide text on
# a terminal or in a report; lone surrogates cannot be printed at all. Kept as text: `re` compiles
# it on first use and keeps it, so a start that prints no message does not pay ~0.7 ms for it.
_UNSAFE = ("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069"
           "\ufeff\ud800-\udfff]")


def one_line(text: str) -> str:
    """`text` with every control or bidi character shown as an escape (`\\n`, `\\x1b`, `\\u202e`).

    Messages quote what the user wrote (keys, values, file names). Escaping keeps each message on
    one line, so a key holding a newline cannot forge a second `error:` line and an escape
    sequence cannot retitle or recolour the terminal."""
    return re.sub(_UNSAFE, _escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if char in named:
        return named[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class Location(Record):
    """A place in a user's file; `line` is 1-based, 0 when the file has no lines (stdin JSON)."""

    path: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


class Problem(Record):
    """One thing wrong with a knowledge-base or case file; several are collected before reporting."""

    location: Location
    message: str
    suggestion: str = ""
    severity: str = "error"
    code: str = "schema"
    key: str = ""

    def render(self, with_severity: bool = False) -> str:
        head = f"{self.location}: "
        if with_severity:
            head += f"{self.severity}: "
        text = head + self.message
        if self.suggestion:
            text += f" ({self.suggestion})"
        return one_line(text)


class ImbalanceError(Exception):
    """Base of every error the user can cause; never shown as a traceback."""

    exit_code = 2

    def __init__(self, message: str, location: Location | None = None, key: str = "",
                 suggestion: str = "") -> None:
        self.message = message
        self.location = location
        self.key = key
        self.suggestion = suggestion
        super().__init__(self.render())

    def render(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        if self.suggestion:
            text += f" ({self.suggestion})"
        return one_line(text)


class InputError(ImbalanceError):
    """A case file, a command-line argument or an output path is unusable."""


class CaseError(InputError):
    """A case file is malformed or does not fit the vocabulary."""


class KBError(ImbalanceError):
    """The knowledge base has problems; all of them are carried, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        first = self.problems[0] if self.problems else None
        super().__init__(
            first.message if first else "knowledge base is invalid",
            first.location if first else None,
            first.key if first else "",
            first.suggestion if first else "",
        )

    def render(self) -> str:
        lines = [p.render() for p in self.problems if p.severity == "error"]
        count = len(lines)
        head = f"knowledge base has {count} error{'s' if count != 1 else ''}:"
        return "\n".join([head, *("  " + line for line in lines)])
