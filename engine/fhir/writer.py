"""A case written as a FHIR R4 QuestionnaireResponse to our Questionnaire.

The inverse of `engine.fhir.response`: what a forms tool would send back after a clinician
filled in `imbalance fhir questionnaire`. Answers sit in the Questionnaire's own groups (red-flag
screen, patient, categories, checklists) with empty groups left out, the way a forms tool
returns them; the patient id becomes the subject's identifier. Used by `imbalance fhir response`
and by the tests that check a case and its response give the same assessment.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from engine.cases.case import Case
from engine.fhir import codes
from engine.fhir.questionnaire import build_questionnaire
from engine.kb import model as m


def _answer(finding: m.Finding, value: Any) -> dict[str, Any]:
    if finding.type == "boolean":
        return {"valueBoolean": value}
    if finding.type == "number":  # the answer type is the Questionnaire item's type
        return {"valueInteger": int(value)} if finding.integer else {"valueDecimal": value}
    if finding.type == "sided":
        code = codes.side_code(value)
        return {"valueCoding": {"system": codes.SIDE_SYSTEM, "code": code,
                                "display": codes.SIDE_DISPLAY[code]}}
    return {"valueCoding": {"system": codes.ENUM_SYSTEM + finding.id, "code": value, "display": value}}


def response_from_case(case: Case, kb: m.KnowledgeBase) -> QuestionnaireResponse:
    """The QuestionnaireResponse holding the case's findings and patient age and sex."""
    facts = case.facts
    questionnaire = build_questionnaire(kb).model_dump(exclude_none=True)

    def fill(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for item in items:
            if item["type"] == "group":
                inner = fill(item.get("item", []))
                if inner:
                    out.append({"linkId": item["linkId"], "text": item.get("text"), "item": inner})
            elif item["linkId"] in facts:
                finding = kb.findings[item["linkId"]]
                out.append({"linkId": finding.id, "text": item.get("text"),
                            "answer": [_answer(finding, facts[finding.id])]})
        return out

    data: dict[str, Any] = {"resourceType": "QuestionnaireResponse", "status": "completed",
                            "questionnaire": codes.QUESTIONNAIRE_URL,
                            "item": fill(questionnaire.get("item", []))}
    if case.patient_id:
        data["subject"] = {"identifier": {"value": case.patient_id}, "display": case.patient_id}
    if not data["item"]:
        del data["item"]
    return QuestionnaireResponse.model_validate(data)


def response_json(case: Case, kb: m.KnowledgeBase) -> str:
    return response_from_case(case, kb).model_dump_json(indent=2, exclude_none=True) + "\n"
