"""JSON read the way a clinician means it: limits first, then a parse that refuses ambiguity.

Python's `json` module takes the last of two equal keys (so `"saddle_anaesthesia": true` can be
silently overridden by a later `false`), recurses once per nesting level (10,000 brackets end in
a RecursionError), turns a 5,000-digit integer into a ValueError from deep inside `int()`, and
accepts lone surrogate escapes that cannot be written back out as UTF-8. Each of those is a
plain, one-line refusal here. Size and depth are checked on the raw text BEFORE any parsing,
so a huge or hostile input costs a scan, not the parser's memory. The standard library does the
actual parsing (it is fast and correct); only the guards are ours, because no library offers
these refusals as messages a clinician can act on.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_CASE_BYTES = 1_000_000  # a case with every finding of the vocabulary is a few kilobytes
MAX_DEPTH = 64  # a case nests three levels; anything near this is not a case
MAX_DIGITS = 30  # digits in one number; an age or a count has two or three

# patterns as text: `re` compiles each on first use and keeps it, so a start that reads a YAML
# case does not compile them
_STRING = r'(?s)"(?:[^"\\]|\\.)*"'
_BRACKET = r"[\[\]{}]"
_SURROGATE = "[\ud800-\udfff]"


class JsonProblem(ValueError):
    """Why a JSON text was refused; `line` is 1-based (0 when not known) and `limit` names the
    limit that was hit, if that was the reason."""

    def __init__(self, reason: str, line: int = 0, limit: str = "") -> None:
        self.reason = reason
        self.line = line
        self.limit = limit
        super().__init__(reason)


def check_size(size: int, what: str = "a case", limit: int = MAX_CASE_BYTES) -> None:
    """Refuse `size` bytes over `limit`, naming the limit."""
    if size > limit:
        raise JsonProblem(f"larger than the {_bytes(limit)} limit for {what}", limit="size")


def check_depth(text: str, limit: int = MAX_DEPTH) -> None:
    """Refuse nesting deeper than `limit`, counted on the raw text without parsing it."""
    depth = 0
    bare = re.sub(_STRING, '""', text)
    for match in re.finditer(_BRACKET, bare):
        if match.group() in "[{":
            depth += 1
            if depth > limit:
                line = bare.count("\n", 0, match.start()) + 1
                raise JsonProblem(f"nested more than the limit of {limit} levels", line, "depth")
        else:
            depth -= 1


def loads(text: str, *, limit: int = MAX_CASE_BYTES, what: str = "a case") -> Any:
    """Parse one JSON value with the guards above; raises JsonProblem and nothing else."""
    check_size(len(text.encode("utf-8", "surrogatepass")), what, limit)
    check_depth(text)
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_int=_integer,
                          parse_constant=_no_constant)
    except JsonProblem as exc:
        if exc.line == 0 and exc.limit == "" and exc.reason.startswith("duplicate key"):
            exc.line = _line_of_duplicate(text, exc.reason)
        raise
    except json.JSONDecodeError as exc:
        raise JsonProblem(f"malformed JSON: {exc.msg} (column {exc.colno})", exc.lineno) from None
    except (ValueError, RecursionError) as exc:  # pragma: no cover - guarded above
        raise JsonProblem(f"malformed JSON: {exc}") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        _no_surrogate(key)
        if isinstance(value, str):
            _no_surrogate(value)
        if key in out:
            raise JsonProblem(f"duplicate key '{key}': which value is meant is unclear")
        out[key] = value
    return out


def _no_surrogate(text: str) -> None:
    if re.search(_SURROGATE, text):
        raise JsonProblem("a string holds a lone surrogate escape (\\ud800-\\udfff), which is "
                          "not a character")


def _integer(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_DIGITS:
        raise JsonProblem(f"a number has {len(digits.lstrip('-')):,} digits, over the limit of "
                          f"{MAX_DIGITS}", limit="digits")
    return int(digits)


def _no_constant(name: str) -> float:
    raise JsonProblem(f"'{name}' is not a JSON number")


def _line_of_duplicate(text: str, reason: str) -> int:
    key = reason.split("'")[1]
    needle = json.dumps(key)
    first = text.find(needle)
    second = text.find(needle, first + 1) if first >= 0 else -1
    return text.count("\n", 0, second) + 1 if second >= 0 else 0


def _bytes(size: int) -> str:
    if size >= 1_000_000:
        return f"{size / 1_000_000:g} MB"
    if size >= 1_000:
        return f"{size / 1_000:g} kB"
    return f"{size} bytes"


__all__ = ["MAX_CASE_BYTES", "MAX_DEPTH", "JsonProblem", "check_depth", "check_size", "loads"]
