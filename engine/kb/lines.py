"""Parsed data that remembers where it was written: mappings and sequences with line numbers.

Apart from the YAML reader (engine/kb/yamlsource.py), which makes them, so that code which
only reads lines (a case's checks, a FHIR response) does not import PyYAML: a JSON case is
parsed by the standard library and never needs it.
"""

from __future__ import annotations

from typing import Any


class LineDict(dict[str, Any]):
    """A mapping that knows its own line and the line of each of its keys."""

    line: int
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A sequence that knows its own line and the line of each item."""

    line: int
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


def line_of(container: Any, key: Any) -> int:
    """The line of `key` in a LineDict/LineList, or of the container itself."""
    if isinstance(container, (LineDict, LineList)):
        return container.line_of(key)
    return 0


def own_line(value: Any, default: int = 0) -> int:
    return getattr(value, "line", default) or default
