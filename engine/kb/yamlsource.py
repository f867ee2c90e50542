"""YAML (and JSON) parsing that keeps the line of every key and value.

PyYAML's C composer builds the node tree fast; we convert nodes ourselves so every mapping
remembers where each key stood. Errors from the parser become `InputError`s with a line.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from engine.kb.lines import LineDict, LineList, line_of, own_line  # noqa: F401 (re-exported)
from engine.kb.yamlimport import yaml

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

_constructor = yaml.SafeLoader("")  # scalar construction only; never instantiates objects

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_PLAIN_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$")
_PLAIN_FLOAT = re.compile(r"""^(?:[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*|[0-9]+(?=[eE]))(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$""", re.X)


class _NumbersLoader(_Loader):
    """Numbers as JSON and YAML 1.2 write them, not as YAML 1.1 guesses them.

    PyYAML follows YAML 1.1, where `010` is octal 8, `0x1F` is 31, `1:30` is 90 (base 60) and
    `1_000` is 1000, while the JSON number `1e2` is a string. For a clinical finding such a
    silent change of meaning is worse than a refusal: here only plain decimal integers and
    decimal fractions (with an optional exponent, as in JSON) are numbers; the other forms stay
    text, so the finding's check refuses them with a message that says what to write."""

    yaml_implicit_resolvers: ClassVar[dict[Any, list[tuple[str, re.Pattern[str]]]]] = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in (_INT, _FLOAT)]
        for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
    }


for _first in "-+0123456789":
    _NumbersLoader.yaml_implicit_resolvers.setdefault(_first, []).append((_INT, _PLAIN_INT))
for _first in "-+.0123456789":
    _NumbersLoader.yaml_implicit_resolvers.setdefault(_first, []).append((_FLOAT, _PLAIN_FLOAT))


class YamlSyntaxError(Exception):
    """Malformed YAML/JSON; carries the 1-based line and a short reason."""

    def __init__(self, line: int, reason: str, limit: bool = False) -> None:
        self.line = line
        self.reason = reason
        self.limit = limit  # a size, depth or count limit was hit: the text may be well formed
        super().__init__(f"line {line}: {reason}")

    def describe(self, what: str = "YAML") -> str:
        """The reason, prefixed with 'malformed <what>' unless a limit was hit."""
        return self.reason if self.limit else f"malformed {what}: {self.reason}"


_STANDARD_TAGS = tuple(f"tag:yaml.org,2002:{name}" for name in (
    "map", "seq", "str", "int", "float", "bool", "null", "timestamp", "binary", "merge"))


MAX_DEPTH = 64  # nesting deeper than this is never a real rule or case file
MAX_VALUES = 100_000  # values in one file once aliases are expanded; rule files hold a few thousand
MAX_DIGITS = 30  # digits in one integer; Python refuses to read more than 4,300 anyway


class _Converter:
    """Nodes to LineDict/LineList/scalars. Anchors and aliases (`&name`, `*name`) are allowed for
    repeating a condition, but each node is converted once (an alias shares the converted value),
    an alias inside its own anchor is refused, and the expanded size and depth are bounded, so an
    alias bomb is an error message instead of a hang."""

    def __init__(self) -> None:
        self.done: dict[int, tuple[Any, int, int]] = {}  # id(node) -> (value, size, depth)
        self.active: set[int] = set()

    def convert(self, node: yaml.Node) -> tuple[Any, int, int]:
        if node.tag not in _STANDARD_TAGS:
            raise YamlSyntaxError(node.start_mark.line + 1,
                                  f"the tag '{node.tag}' is not allowed; files hold plain data only")
        if not isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            return _scalar(node), 1, 0
        key = id(node)
        if key in self.done:
            return self.done[key]
        if key in self.active:
            raise YamlSyntaxError(node.start_mark.line + 1, "an alias refers to the value that "
                                  "contains it; files hold plain data, not loops")
        self.active.add(key)
        value, size, depth = (self._mapping(node) if isinstance(node, yaml.MappingNode)
                              else self._sequence(node))
        self.active.discard(key)
        if size > MAX_VALUES:  # the file itself is within the limit (checked before composing)
            raise YamlSyntaxError(node.start_mark.line + 1, f"aliases expand this file to more than "
                                  f"{MAX_VALUES:,} values; write the repeated part out once", True)
        if depth > MAX_DEPTH:
            raise YamlSyntaxError(node.start_mark.line + 1, f"nested more than the limit of "
                                  f"{MAX_DEPTH} levels (aliases included)", True)
        self.done[key] = (value, size, depth)
        return value, size, depth

    def _mapping(self, node: yaml.MappingNode) -> tuple[Any, int, int]:
        out = LineDict()
        out.line = node.start_mark.line + 1
        out.key_lines = {}
        size, depth = 1, 0
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlSyntaxError(key_node.start_mark.line + 1, "merge keys (<<) are not supported")
            if isinstance(key_node, (yaml.MappingNode, yaml.SequenceNode)):
                raise YamlSyntaxError(key_node.start_mark.line + 1, "a key must be a plain name")
            key, _, _ = self.convert(key_node)
            key = str(key) if not isinstance(key, bool) else str(key).lower()
            if key in out:
                raise YamlSyntaxError(key_node.start_mark.line + 1, f"duplicate key '{key}'")
            value, n, d = self.convert(value_node)
            out[key] = value
            out.key_lines[key] = key_node.start_mark.line + 1
            size, depth = size + n, max(depth, d + 1)
        return out, size, depth

    def _sequence(self, node: yaml.SequenceNode) -> tuple[Any, int, int]:
        seq = LineList()
        size, depth = 1, 0
        for item in node.value:
            value, n, d = self.convert(item)
            seq.append(value)
            size, depth = size + n, max(depth, d + 1)
        seq.line = node.start_mark.line + 1
        seq.item_lines = [item.start_mark.line + 1 for item in node.value]
        return seq, size, depth


def _convert(node: yaml.Node) -> Any:
    return _Converter().convert(node)[0]


def _scalar(node: yaml.Node) -> Any:
    if node.tag in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary"):
        return node.value  # keep dates and blobs as text: the KB has no use for them
    if node.tag == _INT and len(node.value.lstrip("+-")) > MAX_DIGITS:
        raise YamlSyntaxError(node.start_mark.line + 1, f"a number has {len(node.value):,} digits, "
                              f"over the limit of {MAX_DIGITS}", True)
    try:
        return _constructor.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError) as exc:
        raise YamlSyntaxError(node.start_mark.line + 1, str(exc).splitlines()[0]) from None


def _line(event: yaml.Event) -> int:
    return event.start_mark.line + 1 if event.start_mark is not None else 0


def _refuse_deep_nesting(text: str) -> None:
    """Stream the parser's events first: very deep nesting overflows the composer's stack, and
    a file of millions of values should be refused before a node tree is built for them."""
    depth = 0
    values = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlSyntaxError(_line(event), f"nested more than the limit of {MAX_DEPTH} "
                                      "levels", True)
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1
        elif isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent)):
            values += 1
            if values > MAX_VALUES:
                raise YamlSyntaxError(_line(event), f"more than the limit of "
                                      f"{MAX_VALUES:,} values in one file; split it into several", True)


def parse_text(text: str) -> Any:
    """Parse one YAML/JSON document into plain values with line information."""
    try:
        _refuse_deep_nesting(text)
        node = yaml.compose(text, Loader=_NumbersLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        reason = exc.problem or exc.context or "malformed YAML"
        # an error found at the end of the stream is reported on the last line, not past it
        line = min(line, max(1, len(text.splitlines())))
        line, reason = explain(text, line, reason)
        raise YamlSyntaxError(line, reason) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(0, str(exc).splitlines()[0] if str(exc) else "malformed YAML") from None
    if node is None:
        return None
    return _convert(node)


def explain(text: str, line: int, reason: str) -> tuple[int, str]:
    """(line, message) for a parser error, in an author's words rather than the parser's.

    The parser notices a bad indent a line late and names its own state ("did not find expected
    '-' indicator", "mapping values are not allowed here"); an author needs to hear which line is
    out of step with which. Anything we do not recognise keeps the parser's words."""
    lines = text.splitlines()
    if "\\t" in reason or "tab" in reason.lower():
        tabbed = next((i for i, t in enumerate(lines, 1) if "\t" in t[:len(t) - len(t.lstrip())]),
                      line)
        return tabbed, "a tab in the indentation; indent with spaces only"
    if re.search(r"expected ',' or '[\]}]'", reason):
        opened = next((n for n in range(min(line, len(lines)), 0, -1)
                       if lines[n - 1].count("[") > lines[n - 1].count("]")
                       or lines[n - 1].count("{") > lines[n - 1].count("}")), line)
        return opened, ("a bracket is not closed: a '[' or '{' above needs its ']' or '}' (or a ',' "
                      "between items); put text that starts with '[' in quotes")
    indent_words = ("did not find expected '-'", "did not find expected key",
                    "mapping values are not allowed", "expected <block end>",
                    "could not find expected ':'")
    if not any(word in reason for word in indent_words) or not 0 < line <= len(lines):
        return line, reason
    for number in (line, line - 1):  # the parser may stop on the line after the culprit
        culprit = _out_of_step(lines, number)
        if culprit:
            return number, culprit
    if "could not find expected ':'" in reason:
        return line, ("a line without 'key: value': a missing ':' after a key, or text that goes "
                      "on over several lines without quotes")
    if "mapping values are not allowed" in reason:
        return line, ("a ': ' inside a value; put text containing ': ' in quotes, or check the "
                      "indentation of this key")
    return line, f"the indentation does not fit the lines around it ({reason})"


def _out_of_step(lines: list[str], number: int) -> str:
    """How line `number` (1-based) is indented against the lines before it, when it fits none."""
    current = lines[number - 1] if 0 < number <= len(lines) else ""
    if not current.strip() or current.lstrip().startswith("#"):
        return ""
    col = len(current) - len(current.lstrip(" "))
    before = [t for t in lines[:number - 1] if t.strip() and not t.lstrip().startswith("#")]
    if not before:
        return ""
    levels = set()
    for text in before:
        stripped = text.lstrip(" ")
        level = len(text) - len(stripped)
        levels.add(level)
        if stripped.startswith("- "):
            levels.add(level + 2)  # the keys of a list item line up after its dash
    prev = before[-1]
    prev_col = len(prev) - len(prev.lstrip(" "))
    if (prev.rstrip().endswith(":") and col > prev_col) or col in levels:
        return ""  # a block under the key above, or in step with an outer key
    key = current.strip().split(":")[0]
    prev_key = prev.lstrip(" -").split(":")[0].strip()
    prev_keys_at = prev_col + (2 if prev.lstrip().startswith("- ") else 0)
    return (f"'{key}' is indented {col} spaces, which matches no key above it; the keys of one "
            f"entry line up, like '{prev_key}' above at {prev_keys_at} spaces")
