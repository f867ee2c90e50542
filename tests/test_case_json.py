"""JSON cases are read by the standard library alone (engine/cases/case.py: no PyYAML on the
way of a well-formed JSON case): the same case as the line-keeping YAML reading of the same
text, and every mistake still named with its line, because a mistake is read again with lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.cases.case import Case, case_from_data, parse_case
from engine.errors import CaseError
from engine.kb.loader import load_kb
from engine.kb.yamlsource import YamlSyntaxError, parse_text
from tests.conftest import ROOT

KB = load_kb()
EXAMPLES = sorted((ROOT / "examples" / "cases").glob("*.yaml"))


def with_lines(text: str, name: str) -> Case:
    """The case as the YAML reader (which keeps every line) makes it from the same text; from
    the JSON reading where YAML cannot read the text (an escaped astral character such as an
    emoji, or DEL), which used to be refused as malformed and is now read as JSON means it."""
    try:
        data = parse_text(text)
    except YamlSyntaxError:
        data = json.loads(text)
    return case_from_data(data, name, KB)


def value_for(finding_id: str) -> st.SearchStrategy[Any]:
    finding = KB.findings[finding_id]
    if finding.type == "boolean":
        return st.booleans()
    if finding.type == "sided":
        return st.sampled_from([True, False, "left", "right", "bilateral"])
    if finding.type == "enum":
        return st.sampled_from(finding.values)
    low, high = finding.minimum or 0, finding.maximum if finding.maximum is not None else 100
    if finding.integer:
        return st.integers(int(low), int(high))
    return st.floats(low, high, allow_nan=False) | st.integers(int(low), int(high))


# Free text without control characters and line or paragraph separators: YAML folds those
# (NEL, U+2028) into spaces or refuses them, where JSON keeps what the text says (tested below).
TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=40)
FINDINGS = sorted(f for f, d in KB.findings.items() if d.category != "patient")
CASES = st.fixed_dictionaries({}, optional={
    "patient": st.fixed_dictionaries({}, optional={
        "id": TEXT, "age": st.integers(0, 120),
        "sex": st.sampled_from(["female", "male", "other", "unknown"])}),
    "findings": st.lists(st.sampled_from(FINDINGS), max_size=12, unique=True).flatmap(
        lambda ids: st.fixed_dictionaries({f: value_for(f) | st.none() for f in ids})),
    "description": TEXT,
})


@settings(max_examples=150, deadline=None)
@given(CASES, st.integers(0, 2))
def test_a_json_case_is_the_case_the_line_keeping_reader_makes(data: dict[str, Any], indent: int) -> None:
    text = json.dumps(data, indent=indent or None, ensure_ascii=bool(indent % 2))
    try:
        expected = with_lines(text, "c.json")
    except CaseError as exc:  # e.g. no findings block: the same refusal, the same words
        with pytest.raises(CaseError) as err:
            parse_case(text, "c.json", KB)
        assert err.value.render() == exc.render()
        return
    got = parse_case(text, "c.json", KB)
    assert got == expected
    assert got.facts == expected.facts


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_case_as_json_is_the_same_case(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.pop("expect", None)
    text = json.dumps(data, indent=2)
    assert parse_case(text, "x.json", KB) == with_lines(text, "x.json")


@pytest.mark.parametrize(("text", "message"), [
    ('{\n  "findings": {\n    "low_back_pain": true,\n    "saddle_anesthesia": true\n  }\n}',
     "x.json:4: unknown finding 'saddle_anesthesia' (did you mean 'saddle_anaesthesia'?)"),
    ('{"patient": {"age": 200},\n "findings": {}}', "x.json:1: patient age must be"),
    ('{\n "findings": {\n  "fever": "maybe"\n }\n}', "x.json:3: finding 'fever'"),
    ('{"findings": {"fever": true},\n "extra": 1}', "x.json:2: unknown key 'extra'"),
])
def test_a_mistake_in_a_json_case_is_named_with_its_line(text: str, message: str) -> None:
    with pytest.raises(CaseError) as err:
        parse_case(text, "x.json", KB)
    assert err.value.render().startswith(message)


def test_json_with_tabs_that_yaml_cannot_read_is_still_a_case() -> None:
    text = '{\n\t"findings": {\n\t\t"fever": true\n\t}\n}'
    assert parse_case(text, "t.json", KB).findings == {"fever": True}
    with pytest.raises(CaseError) as err:  # and a mistake in it is still named
        parse_case(text.replace("fever", "fevr"), "t.json", KB)
    assert "unknown finding 'fevr'" in err.value.render()


def test_json_text_means_what_json_says() -> None:
    """NEL and DEL in a JSON string are those characters (YAML would fold or refuse them); the
    outputs escape control characters wherever they show free text."""
    case = parse_case('{"description": "a\\u0085b\\u007f", "findings": {}}', "d.json", KB)
    assert case.description == "a\x85b\x7f"
