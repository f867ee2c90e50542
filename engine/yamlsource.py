"""YAML (and JSON) parsing that keeps the line of every key and value.

PyYAML's C composer builds the node tree fast; we convert nodes ourselves so every mapping
remembers where each key stood. Errors from the parser become `InputError`s with a line.
"""

from __future__ import annotations

from typing import Any

import yaml

from engine.errors import Location

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

_constructor = yaml.SafeLoader("")  # scalar construction only; never instantiates objects


class LineDict(dict):  # type: ignore[type-arg]
    """A mapping that knows its own line and the line of each of its keys."""

    line: int
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list):  # type: ignore[type-arg]
    """A sequence that knows its own line and the line of each item."""

    line: int
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class YamlSyntaxError(Exception):
    """Malformed YAML/JSON; carries the 1-based line and a short reason."""

    def __init__(self, line: int, reason: str) -> None:
        self.line = line
        self.reason = reason
        super().__init__(f"line {line}: {reason}")


_STANDARD_TAGS = tuple(f"tag:yaml.org,2002:{name}" for name in (
    "map", "seq", "str", "int", "float", "bool", "null", "timestamp", "binary", "merge"))


def _convert(node: yaml.Node) -> Any:
    if node.tag not in _STANDARD_TAGS:
        raise YamlSyntaxError(node.start_mark.line + 1,
                              f"the tag '{node.tag}' is not allowed; files hold plain data only")
    if isinstance(node, yaml.MappingNode):
        out = LineDict()
        out.line = node.start_mark.line + 1
        out.key_lines = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlSyntaxError(key_node.start_mark.line + 1, "merge keys (<<) are not supported")
            key = _convert(key_node)
            if isinstance(key, (dict, list)):
                raise YamlSyntaxError(key_node.start_mark.line + 1, "a key must be a plain name")
            key = str(key) if not isinstance(key, bool) else str(key).lower()
            if key in out:
                raise YamlSyntaxError(key_node.start_mark.line + 1, f"duplicate key '{key}'")
            out[key] = _convert(value_node)
            out.key_lines[key] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        seq = LineList(_convert(item) for item in node.value)
        seq.line = node.start_mark.line + 1
        seq.item_lines = [item.start_mark.line + 1 for item in node.value]
        return seq
    if node.tag in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary"):
        return node.value  # keep dates and blobs as text: the KB has no use for them
    try:
        return _constructor.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(node.start_mark.line + 1, str(exc).splitlines()[0]) from None


MAX_DEPTH = 64  # nesting deeper than this is never a real rule or case file


def _refuse_aliases_and_deep_nesting(text: str) -> None:
    """Stream the parser's events first: aliases (`*name`) can expand exponentially or refer to
    themselves, and very deep nesting overflows the composer, so both are refused up front."""
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            raise YamlSyntaxError(event.start_mark.line + 1, f"aliases ('*{event.anchor}') are not "
                                  "supported; files hold plain data only, write the value out")
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlSyntaxError(event.start_mark.line + 1,
                                      f"nested more than {MAX_DEPTH} levels deep")
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1


def parse_text(text: str) -> Any:
    """Parse one YAML/JSON document into plain values with line information."""
    try:
        _refuse_aliases_and_deep_nesting(text)
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        reason = exc.problem or exc.context or "malformed YAML"
        # an error found at the end of the stream is reported on the last line, not past it
        raise YamlSyntaxError(min(line, max(1, len(text.splitlines()))), reason) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(0, str(exc).splitlines()[0] if str(exc) else "malformed YAML") from None
    if node is None:
        return None
    return _convert(node)


def line_of(container: Any, key: Any) -> int:
    """The line of `key` in a LineDict/LineList, or of the container itself."""
    if isinstance(container, (LineDict, LineList)):
        return container.line_of(key)
    return 0


def own_line(value: Any, default: int = 0) -> int:
    return getattr(value, "line", default) or default


def loc(path: str, container: Any, key: Any = None) -> Location:
    if key is None:
        return Location(path, own_line(container))
    return Location(path, line_of(container, key))
