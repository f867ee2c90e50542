from __future__ import annotations

import pytest

from engine.kb.yamlsource import YamlSyntaxError, parse_text


def test_mappings_remember_key_lines() -> None:
    data = parse_text("a: 1\nb:\n  c: true\n  d: [1, 2]\n")
    assert data.line_of("a") == 1
    assert data.line_of("b") == 2
    assert data["b"].line_of("d") == 4
    assert data["b"]["c"] is True


def test_sequences_remember_item_lines() -> None:
    data = parse_text("items:\n  - x: 1\n\n  - y: 2\n")
    assert data["items"].line_of(1) == 4


def test_syntax_error_reports_line() -> None:
    with pytest.raises(YamlSyntaxError) as err:
        parse_text("a: 1\nb: [unclosed\nc: 2\n")
    assert err.value.line >= 2


def test_duplicate_keys_are_rejected_with_line() -> None:
    with pytest.raises(YamlSyntaxError) as err:
        parse_text("a: 1\nb: 2\na: 3\n")
    assert err.value.line == 3
    assert "duplicate key 'a'" in err.value.reason


def test_json_is_parsed_with_lines() -> None:
    data = parse_text('{\n  "findings": {\n    "fever": true\n  }\n}')
    assert data["findings"].line_of("fever") == 3


def test_python_tags_are_not_constructed() -> None:
    with pytest.raises(YamlSyntaxError):
        parse_text("a: !!python/object/apply:os.system ['echo hi']\n")
