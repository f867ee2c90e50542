"""The vocabulary as a FHIR R4 Questionnaire, so any FHIR forms tool can collect a case.

Layout: the red-flag screen first (every finding a red-flag rule depends on, flag by flag, most
urgent first), then the patient (age, sex), then one group per category. A KB checklist becomes
a sub-group where its first member falls (the whole checklist goes to the red-flag screen when
any member belongs there), so the clinician meets the same groupings as in `imbalance interview`.

Each question's linkId is the finding id; group linkIds carry a prefix (`section:`,
`checklist:`) no finding id can have. Types: boolean; decimal with the unit and range as FHIR
core extensions, or integer for a count (`integer: true`: 2.5 positive tests means nothing, so
a forms tool must not offer a decimal); choice with our side codes for sided findings (present, left, right,
bilateral, absent) and with the allowed values for enum findings. `enableWhen` comes from
`engine.fhir.gates`. No item is required: an unanswered question is *unknown*, not *no*.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.questionnaire import Questionnaire

from engine.fhir import codes
from engine.fhir.gates import gates, red_flag_findings
from engine.kb import model as m

SECTION_TITLES = {
    "red_flag_screen": "Red-flag screen: ask these first",
    "patient": "Patient",
    "symptom": "Symptoms",
    "history": "History",
    "examination": "Examination and posture",
    "activity": "Activities",
}
SECTION_ORDER = ("red_flag_screen", "patient", "symptom", "history", "examination", "activity")


def _layout(kb: m.KnowledgeBase) -> list[tuple[str, list[str | m.Checklist]]]:
    """Sections in order, each a list of finding ids and checklists (each finding once)."""
    of_checklist = {fid: cl for cl in kb.checklists.values() for fid in cl.findings}
    screen = [fid for fid in red_flag_findings(kb) if kb.findings[fid].category != "patient"]
    screened = set(screen)
    for checklist in kb.checklists.values():
        if screened & set(checklist.findings):
            screened.update(checklist.findings)
    sections: dict[str, list[str | m.Checklist]] = {name: [] for name in SECTION_ORDER}
    placed: set[str] = set()

    def place(section: str, fid: str) -> None:
        if fid in placed:
            return
        checklist = of_checklist.get(fid)
        if checklist is None:
            sections[section].append(fid)
            placed.add(fid)
            return
        sections[section].append(checklist)
        placed.update(checklist.findings)

    for fid in screen:
        place("red_flag_screen", fid)
    for fid, finding in kb.findings.items():
        if fid in placed:
            continue
        if fid in screened:  # a member of a screened checklist (already placed with it)
            continue
        section = finding.category if finding.category in sections else "symptom"
        place(section, fid)
    return [(name, entries) for name, entries in sections.items() if entries]


def finding_order(kb: m.KnowledgeBase) -> list[str]:
    """Finding ids in the order the Questionnaire asks them."""
    out: list[str] = []
    for _, entries in _layout(kb):
        for entry in entries:
            out.extend(entry.findings if isinstance(entry, m.Checklist) else [entry])
    return out


def _question(finding: m.Finding, gate: m.Finding | None) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": finding.id, "text": finding.question or finding.label}
    if finding.type == "boolean":
        item["type"] = "boolean"
    elif finding.type == "number":
        item["type"] = "integer" if finding.integer else "decimal"
        bound = "valueInteger" if finding.integer else "valueDecimal"
        extensions: list[dict[str, Any]] = []
        if finding.unit:
            coding = {"display": finding.unit}
            if finding.unit in codes.UCUM_CODES:
                coding.update(system=codes.UCUM, code=codes.UCUM_CODES[finding.unit])
            extensions.append({"url": codes.UNIT_EXTENSION, "valueCoding": coding})
        if finding.minimum is not None:
            extensions.append({"url": codes.MIN_EXTENSION, bound: _bound(finding, finding.minimum)})
        if finding.maximum is not None:
            extensions.append({"url": codes.MAX_EXTENSION, bound: _bound(finding, finding.maximum)})
        if extensions:
            item["extension"] = extensions
    elif finding.type == "sided":
        item["type"] = "choice"
        item["answerOption"] = [
            {"valueCoding": {"system": codes.SIDE_SYSTEM, "code": code, "display": display}}
            for code, display in codes.SIDE_DISPLAY.items()]
    else:  # enum
        item["type"] = "choice"
        item["answerOption"] = [
            {"valueCoding": {"system": codes.ENUM_SYSTEM + finding.id, "code": value, "display": value}}
            for value in finding.values]
    if gate is not None:
        item["enableWhen"] = _enable_when(gate)
        if gate.type == "sided":
            item["enableBehavior"] = "any"
    return item


def _bound(finding: m.Finding, value: float) -> float | int:
    """minValue/maxValue in the item's own type (FHIR: the extension's type follows the item's)."""
    return int(value) if finding.integer else value


def _enable_when(gate: m.Finding) -> list[dict[str, Any]]:
    """'Shown once the gate is present': yes for a boolean, any side for a sided finding."""
    if gate.type == "boolean":
        return [{"question": gate.id, "operator": "=", "answerBoolean": True}]
    return [{"question": gate.id, "operator": "=",
             "answerCoding": {"system": codes.SIDE_SYSTEM, "code": code}}
            for code in codes.SIDE_CODES if code != codes.ABSENT]


def build_questionnaire(kb: m.KnowledgeBase) -> Questionnaire:
    """The whole vocabulary as one Questionnaire, validated by the fhir.resources model."""
    order = finding_order(kb)
    gate_of = gates(kb, order)

    def question(fid: str) -> dict[str, Any]:
        gate = gate_of.get(fid)
        return _question(kb.findings[fid], kb.findings[gate] if gate else None)

    groups = []
    for name, entries in _layout(kb):
        items: list[dict[str, Any]] = []
        for entry in entries:
            if isinstance(entry, m.Checklist):
                items.append({"linkId": codes.CHECKLIST + entry.id, "type": "group",
                              "text": entry.question or entry.label,
                              "item": [question(fid) for fid in entry.findings]})
            else:
                items.append(question(entry))
        groups.append({"linkId": codes.SECTION + name, "type": "group",
                       "text": SECTION_TITLES.get(name, name.title()), "item": items})
    version = kb.version or "unversioned"
    return Questionnaire.model_validate({
        "resourceType": "Questionnaire",
        "url": codes.QUESTIONNAIRE_URL,
        "version": version,
        "name": "ImbalanceFindings",
        "title": "Muscle imbalance and red flags: findings",
        "status": "active",
        "subjectType": ["Patient"],
        "description": (
            "Every finding the imbalance knowledge base reasons with (" + version + "). Each "
            "question's linkId is the finding id. Leave a question unanswered when it was not "
            "asked: unanswered is unknown, which is not the same as no. Decision support only."),
        "item": groups,
    })


def questionnaire_json(kb: m.KnowledgeBase) -> str:
    """The Questionnaire as indented JSON text, the form `imbalance fhir questionnaire` prints."""
    return build_questionnaire(kb).model_dump_json(indent=2, exclude_none=True) + "\n"
