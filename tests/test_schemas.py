"""The published JSON Schemas (docs/schema/) are what the code generates, accept every shipped
file, and refuse the mistakes an editor should flag."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from engine.authoring.schemas import rendered
from engine.kb.loader import load_kb
from engine.kb.yamlsource import parse_text
from tests.conftest import ROOT, run_cli

SCHEMAS = ROOT / "docs" / "schema"
KB_FILES = sorted((ROOT / "kb").rglob("*.yaml"))
CASES = sorted((ROOT / "examples" / "cases").glob("*.yaml"))


def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def errors(name: str, data: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator(name).iter_errors(data)]


def test_published_schemas_are_the_generated_ones() -> None:
    """They cannot drift: regenerate with `imbalance --no-config kb schema -o docs/schema`."""
    for name, text in rendered(load_kb()).items():
        assert (SCHEMAS / name).read_text() == text, f"docs/schema/{name} is out of date"


@pytest.mark.parametrize("path", KB_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_kb_file_is_valid(path: Path) -> None:
    assert errors("kb-file.schema.json", parse_text(path.read_text())) == []


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_every_example_case_is_valid(path: Path) -> None:
    assert errors("case.schema.json", parse_text(path.read_text())) == []


RULE = {"id": "x_rule", "title": "X", "band": "condition", "when": [{"fever": True}],
        "then": {"condition": "sciatica", "certainty": 0.4, "because": "Why."},
        "sources": ["nice_cks_sciatica"], "evidence": "high", "status": "stable",
        "reviewed_on": "2026-01-05"}


@pytest.mark.parametrize(("change", "where"), [
    ({"soruces": ["x"]}, "soruces"),
    ({"band": "conditon"}, "band"),
    ({"status": "retired"}, "status"),
    ({"reviewed_on": "5 Jan 2026"}, "reviewed_on"),
    ({"then": {"condition": "sciatica", "certainty": 1.5}}, "certainty"),
    ({"when": [{"age": {"greater_than": 50}}]}, "when"),
    ({"when": [{"fever": True, "age": {"gt": 50}}]}, "when"),
])
def test_schema_flags_what_an_editor_should(change: dict[str, Any], where: str) -> None:
    assert errors("kb-file.schema.json", {"rules": [RULE]}) == []
    found = errors("kb-file.schema.json", {"rules": [{**RULE, **change}]})
    assert found, change


def test_case_schema_knows_each_findings_values() -> None:
    good = {"patient": {"age": 40, "sex": "female"},
            "findings": {"leg_pain_below_knee": "left", "laslett_positive_count": 3,
                         "clinic_only_finding": True}}
    assert errors("case.schema.json", good) == []
    assert errors("case.schema.json", {"findings": {"leg_pain_below_knee": "up"}})
    assert errors("case.schema.json", {"findings": {"laslett_positive_count": 9}})
    assert errors("case.schema.json", {"findings": {}, "pateint": {}})


def test_cli_prints_and_writes(tmp_path: Path) -> None:
    printed = run_cli("kb", "schema", "--kind", "case")
    assert printed.returncode == 0 and json.loads(printed.stdout)["title"] == "imbalance case file"
    wrote = run_cli("kb", "schema", "-o", str(tmp_path))
    assert wrote.returncode == 0, wrote.stderr
    assert {p.name for p in tmp_path.iterdir()} == {"kb-file.schema.json", "case.schema.json"}
