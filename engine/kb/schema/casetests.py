"""Case tests and their expectations (also read for the examples' `expect:` blocks), and
`disable:` entries of a layer."""

from __future__ import annotations

from typing import Any

from engine.errors import Location
from engine.kb import model as m
from engine.kb.schema.entries import DISABLE_KEYS
from engine.kb.schema.reader import Reader, _kind
from engine.kb.yamlsource import LineDict

# --- case tests and layering --------------------------------------------------------------

TEST_KEYS = ("name", "patient", "findings", "expect", "todo")
EXPECT_KEYS = ("triage", "fires", "not_fires", "present", "absent", "top", "stretch", "strengthen",
               "recommends", "not_recommends", "no_exercise")


def read_case_test(r: Reader, entry: LineDict) -> m.CaseTest | None:
    what = f"case test '{entry.get('name', '?')}'"
    r.keys(entry, TEST_KEYS, ("name", "expect"), what)
    findings = entry.get("findings", {})
    patient = entry.get("patient", {})
    if r.mapping(findings, r.at(entry, "findings"), f"'findings' of {what}") is None:
        findings = {}
    if r.mapping(patient, r.at(entry, "patient"), f"'patient' of {what}") is None:
        patient = {}
    expect = read_expectation(r, entry.get("expect"), r.at(entry, "expect"), what)
    name = r.text(entry, "name", what, "")
    if not name:
        return None
    return m.CaseTest(name, tuple(findings.items()), tuple(patient.items()), expect, r.at(entry),
                      r.text(entry, "todo", what, ""), _key_lines(entry))


def read_expectation(r: Reader, raw: Any, where: Location, what: str) -> m.Expectation:
    """The `expect:` block (`raw`, written at `where`) of a case test or an example case: one
    reader for both, so an expectation means the same wherever it is written."""
    exp = r.mapping(raw, where, f"'expect' of {what}") if raw is not None else None
    expect = m.Expectation()
    if exp is not None:
        r.keys(exp, EXPECT_KEYS, (), f"'expect' of {what}")
        present: list[tuple[str, float, float]] = []
        raw_present = exp.get("present", {})
        if isinstance(raw_present, list):
            raw_present = {str(k): None for k in raw_present}
        if isinstance(raw_present, dict):
            for cid, bounds in raw_present.items():
                low, high = 0.0, 1.0
                if isinstance(bounds, dict):
                    low = r.number(bounds, "min", what, 0.0, 1.0) or 0.0
                    high_raw = r.number(bounds, "max", what, 0.0, 1.0)
                    high = 1.0 if high_raw is None else high_raw
                elif bounds is not None:
                    r.error(r.at(raw_present, cid), f"bounds for '{cid}' must be "
                            "'{min: 0.3, max: 0.8}'", key=cid)
                present.append((cid, low, high))
        else:
            r.error(r.at(exp, "present"), "'present' must map conclusion ids to bounds", key="present")
        triage = r.choice(exp, "triage", m.TRIAGE_ORDER, what, "")
        expect = m.Expectation(
            triage=triage, fires=r.names(exp, "fires", what), not_fires=r.names(exp, "not_fires", what),
            present=tuple(present), absent=r.names(exp, "absent", what),
            top=r.text(exp, "top", what, ""), stretch=r.names(exp, "stretch", what),
            strengthen=r.names(exp, "strengthen", what), recommends=r.names(exp, "recommends", what),
            not_recommends=r.names(exp, "not_recommends", what),
            no_exercise=_flag(r, exp, "no_exercise", what))
    return expect


def _flag(r: Reader, entry: LineDict, key: str, what: str) -> bool:
    value = entry.get(key, False)
    if not isinstance(value, bool):
        r.error(r.at(entry, key), f"'{key}' of {what} must be true or false, not {_kind(value)}",
                key=key)
        return False
    return value


def _key_lines(entry: LineDict) -> tuple[tuple[str, int], ...]:
    """Where each key of a case test stands, so problems and failures point at their own line."""
    out: list[tuple[str, int]] = [(key, entry.line_of(key)) for key in entry]
    for block in ("findings", "patient", "expect"):
        value = entry.get(block)
        if isinstance(value, LineDict):
            out.extend((f"{block}.{key}", value.line_of(key)) for key in value)
    expect = entry.get("expect")
    present = expect.get("present") if isinstance(expect, LineDict) else None
    if isinstance(present, LineDict):
        out.extend((f"expect.present.{key}", present.line_of(key)) for key in present)
    return tuple(out)


def read_disable(r: Reader, entry: LineDict) -> m.Disabled | None:
    """`{rule: id, reason: ...}` switches off a rule; `{checklist: id, reason: ...}` a checklist,
    so a clinic can group its findings its own way."""
    kind = "checklist" if "checklist" in entry and "rule" not in entry else "rule"
    what = f"disable entry '{entry.get(kind, '?')}'"
    r.keys(entry, DISABLE_KEYS, (), what)
    if "rule" in entry and "checklist" in entry:
        r.error(r.at(entry), f"{what} names a rule and a checklist", "switch off one entry per item",
                "checklist")
        return None
    if kind == "rule" and "rule" not in entry:
        r.error(r.at(entry), f"{what} is missing 'rule'", "name the rule (or 'checklist:') to "
                "switch off", "rule")
        return None
    ident = entry.get(kind)
    if not isinstance(ident, str):
        r.error(r.at(entry, kind), f"'{kind}' of {what} must be one {kind} id", key=kind)
    if "reason" not in entry:
        r.error(r.at(entry), f"switching off {kind} '{ident}' needs a stated 'reason'",
                "add 'reason: ...' saying why your clinic does not use it"
                + ("; reports show it" if kind == "rule" else ""), "reason")
    reason = r.text(entry, "reason", what, "")
    if not isinstance(ident, str) or not reason:
        return None
    return m.Disabled(ident, reason, r.at(entry), kind)
