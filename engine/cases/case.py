"""Case files: load a patient description (YAML, JSON or stdin) and check it against the KB.

Every mistake becomes a `CaseError` naming the file, the line, the key and a suggestion.
A finding that is absent (or `null`) is unknown, which is not the same as `false`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from engine.cases import strictjson
from engine.errors import CaseError, Location
from engine.kb import model as m
from engine.kb.lines import line_of
from engine.kb.suggest import did_you_mean
from engine.kb.values import check_value
from engine.record import Record, field

TOP_KEYS = ("patient", "findings", "description", "expect")
PATIENT_KEYS = ("id", "name", "age", "sex", "notes")
SEXES = ("female", "male", "other", "unknown")
PATIENT_FINDINGS = ("age", "sex")


class Case(Record):
    """A checked case: patient details and the known findings (patient age/sex included)."""

    source: str
    patient: dict[str, Any] = field(default_factory=dict)
    findings: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    expect: dict[str, Any] = field(default_factory=dict)

    @property
    def facts(self) -> dict[str, Any]:
        """What the rules see: findings plus `age` and `sex` from the patient block."""
        out = dict(self.findings)
        for key in PATIENT_FINDINGS:
            if self.patient.get(key) is not None:
                out[key] = self.patient[key]
        return out

    @property
    def patient_id(self) -> str:
        value = self.patient.get("id")
        return "" if value is None else str(value)


def read_case_text(path: str) -> tuple[str, str]:
    """(display name, text) of a case file or of stdin when `path` is '-'.

    At most `MAX_CASE_BYTES` are read, so `/dev/zero` or a 58 MB dump is refused at once with
    the limit named, before any parser sees it. A UTF-8 byte-order mark is dropped, for JSON as
    for YAML; every OS refusal (no permission, a name too long) is a message, not a crash."""
    limit = strictjson.MAX_CASE_BYTES
    if path == "-":
        name = "<stdin>"
        raw = sys.stdin.buffer.read(limit + 1)
    else:
        name = path
        file = Path(path)
        try:
            if not file.exists():
                raise CaseError(f"case file '{path}' does not exist", suggestion=_nearby(file))
            if file.is_dir():
                raise CaseError(f"'{path}' is a folder, not a case file")
            with file.open("rb") as handle:
                raw = handle.read(limit + 1)
        except OSError as exc:
            raise CaseError(f"cannot read case file '{path}': {exc.strerror or exc}") from None
    try:
        strictjson.check_size(len(raw))
    except strictjson.JsonProblem as exc:
        raise CaseError(f"the case file is {exc.reason}", Location(name),
                        suggestion="a case file holds one patient's findings") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CaseError(f"case file '{name}' is not UTF-8 text") from None
    return name, text.removeprefix("\ufeff")


def _nearby(file: Path) -> str:
    folder = file.parent if str(file.parent) else Path(".")
    try:
        if not folder.is_dir():
            return ""
        names = [p.name for p in folder.iterdir() if p.suffix in (".yaml", ".yml", ".json")]
    except OSError:  # a folder we may not list: no suggestion, the message still stands
        return ""
    match = did_you_mean(file.name, names)
    return match.replace("'", f"'{folder}/", 1) if match and str(folder) != "." else match


def load_case(path: str, kb: m.KnowledgeBase) -> Case:
    name, text = read_case_text(path)
    return parse_case(text, name, kb)


def parse_case(text: str, name: str, kb: m.KnowledgeBase) -> Case:
    if not text.strip():
        raise CaseError("the case file is empty", Location(name),
                        suggestion="it needs a 'findings:' mapping, e.g. 'findings: {low_back_pain: true}'")
    text = text.removeprefix("\ufeff")
    found: CaseError | None = None
    if name.endswith(".json") or text.lstrip().startswith(("{", "[")):
        try:  # JSON's own rules first (duplicate keys, limits)
            plain = strictjson.loads(text)
        except strictjson.JsonProblem as exc:
            raise CaseError(exc.reason, Location(name, exc.line)) from None
        # A well-formed JSON case needs no YAML: PyYAML is ~10 ms of a start. Only a mistake
        # needs the line of each key, and an `expect:` block keeps its lines for `kb test`;
        # both read the text again below, with lines, so every message is the same as before.
        if isinstance(plain, dict) and "expect" not in plain:
            try:
                return case_from_data(plain, name, kb)
            except CaseError as exc:
                found = exc
    from engine.kb.yamlsource import YamlSyntaxError, parse_text

    try:
        data = parse_text(text)
    except YamlSyntaxError as exc:
        if found is not None:  # JSON that YAML cannot read (tabs): the mistake, without a line
            raise found from None
        raise CaseError(exc.describe("YAML/JSON"), Location(name, exc.line)) from None
    return case_from_data(data, name, kb)


def case_from_data(data: Any, name: str, kb: m.KnowledgeBase) -> Case:
    if isinstance(data, dict) and "resourceType" in data:
        return _fhir_case(data, name, kb)
    if not isinstance(data, dict):
        raise CaseError("a case must be a mapping with a 'findings:' block", Location(name, getattr(
            data, "line", 1)), suggestion="see examples/cases/ for the format")
    for key in data:
        if key not in TOP_KEYS:
            raise CaseError(f"unknown key '{key}'", Location(name, line_of(data, key)), key,
                            did_you_mean(key, TOP_KEYS) or f"allowed: {', '.join(TOP_KEYS)}")
    patient = _patient(data.get("patient"), name, data)
    findings = _findings(data.get("findings"), name, data, kb)
    description = data.get("description") or ""
    expect = data.get("expect") if isinstance(data.get("expect"), dict) else {}
    return Case(name, patient, findings, str(description), expect or {})  # keeps its lines


def _fhir_case(data: dict[str, Any], name: str, kb: m.KnowledgeBase) -> Case:
    """A FHIR resource in place of a case file: a QuestionnaireResponse is read as one (the
    FHIR models are imported only then, so plain case files never pay for them)."""
    kind = data.get("resourceType")
    if kind != "QuestionnaireResponse":
        raise CaseError(f"a FHIR {kind} is not a case", Location(name, line_of(data, "resourceType")),
                        "resourceType", "give a QuestionnaireResponse whose item linkIds are finding ids")
    from engine.fhir.response import case_from_response

    return case_from_response(data, name, kb)


def _patient(raw: Any, name: str, parent: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise CaseError("'patient' must be a mapping (id, age, sex)",
                        Location(name, line_of(parent, "patient")), "patient")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        where = Location(name, line_of(raw, key))
        if key not in PATIENT_KEYS:
            raise CaseError(f"unknown patient key '{key}'", where, key,
                            did_you_mean(key, PATIENT_KEYS) or f"allowed: {', '.join(PATIENT_KEYS)}")
        if value is None:
            continue
        if key == "age" and (isinstance(value, bool) or not isinstance(value, (int, float))
                             or not 0 <= value <= 120):
            raise CaseError(f"patient age must be a number of years from 0 to 120, not {value!r}",
                            where, "age")
        if key == "sex" and value not in SEXES:
            raise CaseError(f"patient sex must be one of {', '.join(SEXES)}, not {value!r}", where,
                            "sex", did_you_mean(str(value), SEXES))
        out[key] = value if key in ("age", "sex") else str(value)
    return out


def _findings(raw: Any, name: str, parent: Any, kb: m.KnowledgeBase) -> dict[str, Any]:
    where = Location(name, line_of(parent, "findings"))
    if raw is None:
        if "findings" in parent:
            return {}
        raise CaseError("the case has no 'findings:' block", Location(name, getattr(parent, "line", 1)),
                        "findings", "add 'findings:' with finding ids and values")
    if not isinstance(raw, dict):
        raise CaseError("'findings' must be a mapping of finding id to value", where, "findings",
                        "for example 'low_back_pain: true'")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        at = Location(name, line_of(raw, key))
        finding = kb.findings.get(key)
        if key in PATIENT_FINDINGS and (finding is None or finding.category == "patient"):
            raise CaseError(f"'{key}' belongs in the 'patient:' block, not in 'findings'", at, key)
        if finding is None:
            raise CaseError(f"unknown finding '{key}'", at, key, _unknown_hint(key, name, kb))
        if value is None:
            continue
        problem = check_value(finding, value)
        if problem:
            raise CaseError(f"finding '{key}' {problem}", at, key, f"give {finding.accepts()}")
        if finding.integer and isinstance(value, float):
            value = int(value)  # 3.0 or 3e0 is the count 3
        out[key] = value
    return out


def _unknown_hint(key: str, name: str, kb: m.KnowledgeBase) -> str:
    """`--kb FOLDER` when a layer nearby defines the finding; else the nearest shipped name."""
    from engine.kb.discover import layer_hint

    near = Path(name).parent if name not in ("<stdin>", "") else None
    return (layer_hint(str(key), kb, near) or did_you_mean(key, kb.findings)
            or "run 'imbalance kb show' to list findings")


def dump_case(case_patient: dict[str, Any], findings: dict[str, Any]) -> str:
    """The contract's YAML case format, written by hand so key order and style stay stable."""
    lines = []
    if case_patient:
        lines.append("patient:")
        for key, value in case_patient.items():
            lines.append(f"  {key}: {json.dumps(value)}")
    lines.append("findings:" if findings else "findings: {}")
    for key, value in findings.items():
        lines.append(f"  {key}: {json.dumps(value)}")
    return "\n".join(lines) + "\n"


__all__ = ["Case", "case_from_data", "dump_case", "load_case", "parse_case"]
