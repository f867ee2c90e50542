"""JSON Schemas for the files authors write: a knowledge-base file and a case file.

Editors (VS Code's YAML extension, JetBrains, anything using yaml-language-server) complete
keys and flag mistakes while typing when a file points at a schema:

    # yaml-language-server: $schema=../../docs/schema/kb-file.schema.json

The schemas are generated, never hand-edited: every key list, every choice (bands, finding
types, urgencies, evidence levels, statuses, operators) is read from the tables the loader
itself checks with (`engine.kb.schema`, `engine.kb.model`, `engine.cases.case`), so the
published schema cannot drift from the code; `tests/test_schemas.py` regenerates them and
compares with docs/schema/, and validates every shipped file against them. The schema checks
shape only (keys, types, choices); what needs the whole KB (does this finding exist, is a rule
reachable) stays with `kb lint`, which also gives the line and a did-you-mean.
"""

from __future__ import annotations

import json
from typing import Any

from engine.cases import case as c
from engine.kb import model as m
from engine.kb import schema as s

DRAFT = "https://json-schema.org/draft/2020-12/schema"
BASE = "https://imbalance.example/schema/"
ID = {"type": "string", "pattern": "^[a-z_][a-z0-9_]*$"}
TEXT: dict[str, Any] = {"type": ["string", "number"]}  # the loader reads a number as text too
IDS: dict[str, Any] = {"oneOf": [ID, {"type": "array", "items": ID}]}
LINT = {"type": "object", "additionalProperties": {"type": "string", "minLength": 1},
        "description": "checks switched off for this entry: {check_id: reason}"}
NUMBER = {"type": "number"}
SCALAR = {"type": ["string", "number", "boolean"]}


def _entry(keys: tuple[str, ...], required: tuple[str, ...], types: dict[str, Any],
           description: str) -> dict[str, Any]:
    """An object with exactly `keys`; each key's schema from `types` (anything if not given)."""
    return {"type": "object", "description": description, "additionalProperties": False,
            "required": list(required), "properties": {k: types.get(k, {}) for k in keys}}


def _enum(values: tuple[str, ...]) -> dict[str, Any]:
    return {"enum": list(values)}


def kb_file_schema() -> dict[str, Any]:
    """The schema of any `.yaml` file of a knowledge-base folder."""
    defs: dict[str, Any] = {
        "finding": _entry(s.FINDING_KEYS, ("id", "label", "category", "type", "question"), {
            "id": ID, "label": TEXT, "category": _enum(m.CATEGORIES), "type": _enum(m.FINDING_TYPES),
            "question": TEXT, "unit": TEXT, "help": TEXT, "lint": LINT, "integer": {"type": "boolean"},
            "range": {"type": "array", "items": NUMBER, "minItems": 2, "maxItems": 2},
            "values": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
            "A fact a clinician can report about a patient."),
        "red_flag": _entry(s.CONCLUSION_KEYS, s.RED_FLAG_REQUIRED, {
            "id": ID, "label": TEXT, "description": TEXT, "urgency": _enum(m.URGENCIES), "lint": LINT,
            "sites": IDS, "action": {"oneOf": [{"type": "string"}, {
                "type": "object", "additionalProperties": False,
                "properties": {u: {"type": "string"} for u in m.URGENCIES}}]}},
            "A red flag: what to do now, at each urgency."),
        "conclusion": _entry(s.OTHER_CONCLUSION_KEYS, ("id", "label"), {
            "id": ID, "label": TEXT, "description": TEXT, "lint": LINT, "plain": TEXT, "sites": IDS,
            "review": _entry(s.REVIEW_KEYS, s.REVIEW_KEYS, {
                "after_weeks": {"type": "number", "minimum": 1, "maximum": 104}, "why": TEXT},
                "When to see the patient again and why.")},
            "A condition or cause a rule can conclude."),
        "muscle": _entry(s.MUSCLE_KEYS, ("id", "label"), {
            "id": ID, "label": TEXT, "region": TEXT, "lint": LINT}, "A muscle to stretch or strengthen."),
        "recommendation": _entry(s.RECOMMENDATION_KEYS, ("id", "text", "kind"), {
            "id": ID, "kind": _enum(m.RECOMMENDATION_KINDS), "text": TEXT, "sources": IDS,
            "evidence": _enum(m.EVIDENCE_LEVELS), "lint": LINT, "phase": _enum(m.PHASES),
            "subsumes": IDS, "avoid": TEXT, "sided": {"type": "boolean"}, "plain": TEXT},
            "Advice a rule can give; 'kind' decides what a patient with a referral is told."),
        "source": _entry(s.SOURCE_KEYS, ("id", "citation", "level"), {
            "id": ID, "citation": TEXT, "level": _enum(m.EVIDENCE_LEVELS), "file": TEXT, "url": TEXT,
            "summary": TEXT, "lint": LINT}, "Where knowledge comes from."),
        "checklist": _entry(s.CHECKLIST_KEYS, ("id", "label", "question", "findings"), {
            "id": ID, "label": TEXT, "question": TEXT, "help": TEXT, "lint": LINT,
            "findings": {"type": "array", "items": ID, "minItems": m.CHECKLIST_SIZE[0],
                         "maxItems": m.CHECKLIST_SIZE[1]},
            "first": {"type": "boolean"}, "settle": {"type": "boolean"},
            "explicit_no": {"type": "array", "items": ID}},
            "Findings the interview asks together."),
        "condition": _condition(),
        "conditions": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}},
        "rule": _entry(s.RULE_KEYS, ("id", "title", "band", "when", "then"), {
            "id": ID, "title": TEXT, "band": _enum(m.BANDS), "sources": IDS,
            "evidence": _enum(m.EVIDENCE_LEVELS), "lint": LINT, "status": _enum(m.RULE_STATUSES),
            "reviewed_by": TEXT,
            "reviewed_on": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$",
                            "description": "the date of the last clinical review, YYYY-MM-DD"},
            "when": {"oneOf": [{"$ref": "#/$defs/conditions"}, {"$ref": "#/$defs/condition"}]},
            "then": _entry(s.THEN_KEYS, (), {
                "red_flag": ID, "condition": ID, "cause": ID,
                "certainty": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                "urgency": _enum(m.URGENCIES), "because": TEXT, "stretch": IDS, "strengthen": IDS,
                "recommend": IDS, "against": {"type": "boolean"},
                "accuracy": _entry(s.ACCURACY_KEYS, ("source",), {
                    "source": ID, "note": TEXT, **{k: NUMBER for k in s.ACCURACY_FIGURES}},
                    "The published accuracy behind the certainty.")},
                "What the rule concludes and advises.")},
            "When 'when' holds, conclude something with a certainty, and advise."),
        "test": _entry(s.TEST_KEYS, ("name", "expect"), {
            "name": {"type": "string"}, "todo": {"type": "string"},
            "patient": {"type": "object"}, "findings": {"type": "object"},
            "expect": _entry(s.EXPECT_KEYS, (), {
                "triage": _enum(m.TRIAGE_ORDER), "fires": IDS, "not_fires": IDS, "absent": IDS,
                "top": ID, "stretch": IDS, "strengthen": IDS, "recommends": IDS,
                "not_recommends": IDS, "no_exercise": {"type": "boolean"},
                "present": {"oneOf": [{"type": "array", "items": ID}, {
                    "type": "object", "additionalProperties": {"oneOf": [{"type": "null"}, {
                        "type": "object", "additionalProperties": False,
                        "properties": {"min": NUMBER, "max": NUMBER}}]}}]}},
                "What the case must come out as.")},
            "A case test: a patient and what the knowledge base must conclude."),
        "disable": {"type": "object", "additionalProperties": False, "required": ["reason"],
                    "properties": {k: ID if k != "reason" else TEXT for k in s.DISABLE_KEYS},
                    "oneOf": [{"required": ["rule"]}, {"required": ["checklist"]}],
                    "description": "Switch off a lower layer's rule or checklist, with a reason."},
    }
    section_item = {"findings": "finding", "red_flags": "red_flag", "conditions": "conclusion",
                    "causes": "conclusion", "muscles": "muscle", "recommendations": "recommendation",
                    "sources": "source", "rules": "rule", "tests": "test", "disable": "disable",
                    "checklists": "checklist"}
    properties: dict[str, Any] = {
        "knowledge_base": _entry(s.META_KEYS, ("name", "version"), {
            "name": TEXT, "version": TEXT, "description": TEXT}, "This folder's name and version.")}
    for section in s.SECTIONS:
        if section in section_item:
            properties[section] = {"type": "array",
                                   "items": {"$ref": f"#/$defs/{section_item[section]}"}}
    missing = set(s.SECTIONS) - set(properties)
    assert not missing, f"no schema for sections {missing}"  # a new section needs its entry here
    return {"$schema": DRAFT, "$id": BASE + "kb-file.schema.json",
            "title": "imbalance knowledge-base file",
            "description": "Any .yaml file of a knowledge-base folder (docs/AUTHORING.md).",
            "type": ["object", "null"], "additionalProperties": False, "properties": properties,
            "$defs": defs}


def _condition() -> dict[str, Any]:
    """One item of `when`: a group, a negation, a cluster, a `concluded:` or `finding: value`."""
    operator = {"type": "object", "minProperties": 1, "additionalProperties": False,
                "properties": {op: ({"type": "array", "items": SCALAR} if op == "in" else SCALAR)
                               for op in m.OPERATORS}}
    return {"description": "A condition: see docs/AUTHORING.md section 2.", "oneOf": [
        {"type": "object", "additionalProperties": False, "required": ["all"],
         "properties": {"all": {"$ref": "#/$defs/conditions"}}},
        {"type": "object", "additionalProperties": False, "required": ["any"],
         "properties": {"any": {"$ref": "#/$defs/conditions"}}},
        {"type": "object", "additionalProperties": False, "required": ["not"],
         "properties": {"not": {"$ref": "#/$defs/condition"}}},
        {"type": "object", "additionalProperties": False, "required": ["at_least", "of"],
         "properties": {"at_least": {"type": "integer", "minimum": 1},
                        "of": {"$ref": "#/$defs/conditions"}}},
        {"type": "object", "additionalProperties": False, "required": ["concluded"],
         "properties": {"concluded": ID, "min_certainty": {"type": "number", "minimum": 0,
                                                           "maximum": 1}}},
        {"type": "object", "minProperties": 1, "maxProperties": 1,
         "propertyNames": {"not": _enum(s.RESERVED)},
         "additionalProperties": {"oneOf": [SCALAR, operator]}},
    ]}


def case_file_schema(kb: m.KnowledgeBase) -> dict[str, Any]:
    """A case file; the findings of `kb` are listed with the values each takes (a clinic layer's
    own findings are allowed too, since the schema cannot know them)."""
    findings: dict[str, Any] = {}
    for finding in sorted(kb.findings.values(), key=lambda f: f.id):
        if finding.category == "patient":
            continue
        findings[finding.id] = {"description": f"{finding.label}: {finding.question}",
                                **_finding_values(finding)}
    return {"$schema": DRAFT, "$id": BASE + "case.schema.json", "title": "imbalance case file",
            "description": "One patient: details and findings (docs/AUTHORING.md; the contract).",
            "type": "object", "additionalProperties": False,
            "properties": {
                "patient": {"type": "object", "additionalProperties": False, "properties": {
                    "id": {"type": ["string", "integer"]}, "name": {"type": "string"},
                    "age": {"type": "number", "minimum": 0, "maximum": 120},
                    "sex": _enum(c.SEXES), "notes": {"type": "string"}}},
                "findings": {"type": "object", "properties": findings,
                             "additionalProperties": {"type": ["boolean", "number", "string",
                                                               "null"]}},
                "description": {"type": "string"}, "expect": {"type": "object"}},
            "propertyNames": _enum(c.TOP_KEYS)}


def _finding_values(finding: m.Finding) -> dict[str, Any]:
    nothing = {"type": "null"}
    if finding.type == "boolean":
        return {"oneOf": [{"type": "boolean"}, nothing]}
    if finding.type == "sided":
        return {"oneOf": [{"type": "boolean"}, _enum(m.SIDES), nothing]}
    if finding.type == "enum":
        return {"oneOf": [_enum(finding.values), nothing]}
    number: dict[str, Any] = {"type": "integer" if finding.integer else "number"}
    if finding.minimum is not None:
        number["minimum"] = finding.minimum
    if finding.maximum is not None:
        number["maximum"] = finding.maximum
    return {"oneOf": [number, nothing]}


def rendered(kb: m.KnowledgeBase) -> dict[str, str]:
    """File name -> the JSON text published in docs/schema/."""
    return {name: json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
            for name, schema in (("kb-file.schema.json", kb_file_schema()),
                                 ("case.schema.json", case_file_schema(kb)))}
