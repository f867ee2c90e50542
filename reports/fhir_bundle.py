"""An assessment as a FHIR R4 Bundle, for a record system that stores or shows it.

Why these resources: the tool never diagnoses, so nothing becomes a `Condition`. The triage and
the linked conditions are a `RiskAssessment` (one prediction per red flag and condition, its
certainty as `probabilityDecimal` and the findings and rules behind it as the rationale, the
findings given as its basis); each red flag is a `DetectedIssue` (severity from its urgency, the
action to take now as the mitigation); the plan is a `CarePlan` with intent `proposal`. The
findings themselves travel as the `QuestionnaireResponse` the case would be written as, so the
Bundle holds everything needed to reproduce it. Every resource is built as data and validated
by the fhir.resources models (R4B package, the R4 structure for these resources).

Output is deterministic (no timestamps, ids derived from the content) so the same case gives the
same Bundle byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from engine.fhir.writer import response_from_case
from engine.inference.assessment import Assessment, Reached
from engine.wording import (
    DISCLAIMER,
    TRIAGE_TEXT,
    certainty_word,
    finding_phrase,
    safety_notices,
    screen_notice,
)

CONCLUSION_SYSTEM = "urn:imbalance-kb:codesystem:conclusion"
RECOMMENDATION_SYSTEM = "urn:imbalance-kb:codesystem:recommendation"
TRIAGE_EXTENSION = "urn:imbalance-kb:extension:triage"
RISK_PROBABILITY = "http://terminology.hl7.org/CodeSystem/risk-probability"
# DetectedIssue.severity (R4 value set detectedissue-severity: high | moderate | low).
SEVERITY = {"emergency": "high", "urgent": "high", "soon": "moderate"}
CERTAINTY_NOTE = ("Each prediction's probabilityDecimal is the rule base's certainty factor (0 to 1): "
                  "how strongly the findings support it, not a measured probability of disease.")
QUALITATIVE_RISK = {"emergency": "high", "urgent": "high", "soon": "moderate"}


def _uuid(seed: str, kind: str, key: str) -> str:
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"imbalance:{seed}:{kind}:{key}"))


def _concept(reached: Reached) -> dict[str, Any]:
    return {"coding": [{"system": CONCLUSION_SYSTEM, "code": reached.id,
                        "display": reached.conclusion.label}], "text": reached.conclusion.label}


def _rationale(result: Assessment, reached: Reached) -> str:
    facts = result.case.facts
    evidence = ", ".join(finding_phrase(result.kb, fid, facts.get(fid)) for fid in reached.evidence)
    return (f"{certainty_word(reached.certainty).capitalize()} ({reached.certainty:.2f}) from "
            f"{evidence or 'earlier conclusions'}; rules {', '.join(reached.rules)}.")


def _plan(result: Assessment) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The contract's `plan` and `review` where the assessment has them, else every
    recommendation (the plan is a selection from them, most important first)."""
    data = result.to_dict()
    plan = data.get("plan")
    if not isinstance(plan, list) or not plan:
        plan = data["recommendations"]
    review = data.get("review") if isinstance(data.get("review"), dict) else None
    return plan, review


def bundle_for(result: Assessment) -> Bundle:
    """The assessment as a `collection` Bundle, validated by the library."""
    kb = result.kb
    seed = hashlib.sha256(json.dumps(result.to_dict(), sort_keys=True).encode()).hexdigest()[:16]
    patient_url = _uuid(seed, "Patient", result.case.patient_id)
    response_url = _uuid(seed, "QuestionnaireResponse", "")
    risk_url = _uuid(seed, "RiskAssessment", "")
    subject = {"reference": patient_url}
    entries: list[dict[str, Any]] = []

    patient: dict[str, Any] = {"resourceType": "Patient"}
    if result.case.patient_id:
        patient["identifier"] = [{"value": result.case.patient_id}]
    sex = result.case.patient.get("sex")
    if sex:
        patient["gender"] = sex
    entries.append({"fullUrl": patient_url, "resource": patient})

    response = response_from_case(result.case, kb).model_dump(mode="json", exclude_none=True)
    response.pop("subject", None)
    response["subject"] = subject
    entries.append({"fullUrl": response_url, "resource": response})

    predictions: list[dict[str, Any]] = []
    for flag in result.red_flags:
        predictions.append({
            "outcome": _concept(flag), "probabilityDecimal": round(flag.certainty, 4),
            "qualitativeRisk": {"coding": [{"system": RISK_PROBABILITY,
                                            "code": QUALITATIVE_RISK.get(flag.urgency, "moderate")}]},
            "rationale": f"Red flag, {flag.urgency}. " + _rationale(result, flag)})
    for condition in result.conditions:
        predictions.append({"outcome": _concept(condition),
                            "probabilityDecimal": round(condition.certainty, 4),
                            "rationale": _rationale(result, condition)})
    triage_text = TRIAGE_TEXT[result.triage]
    risk: dict[str, Any] = {
        "resourceType": "RiskAssessment", "status": "final", "subject": subject,
        "extension": [{"url": TRIAGE_EXTENSION, "valueCode": result.triage}],
        "code": {"text": "Muscle imbalance and red-flag triage"},
        "method": {"text": f"imbalance rules-based decision support, {kb.version}"},
        "basis": [{"reference": response_url}],
        "note": [{"text": f"Triage: {triage_text}."},
                 # an incomplete red-flag screen, right after the triage it qualifies
                 *({"text": text} for text in [screen_notice(kb, result.screen, result.triage)] if text),
                 *({"text": note} for note in safety_notices(result)),
                 {"text": CERTAINTY_NOTE}, {"text": DISCLAIMER}],
    }
    if predictions:
        risk["prediction"] = predictions
    if result.red_flags:
        risk["mitigation"] = " ".join(f"{f.conclusion.label}: {f.action}" for f in result.red_flags)
    entries.append({"fullUrl": risk_url, "resource": risk})

    for flag in result.red_flags:
        facts = result.case.facts
        entries.append({"fullUrl": _uuid(seed, "DetectedIssue", flag.id), "resource": {
            "resourceType": "DetectedIssue", "status": "final", "patient": subject,
            "code": _concept(flag), "severity": SEVERITY.get(flag.urgency, "moderate"),
            "detail": f"Red flag ({flag.urgency}): {flag.conclusion.label}. " + _rationale(result, flag),
            "evidence": [{"code": [{"text": finding_phrase(kb, fid, facts.get(fid))}
                                   for fid in flag.evidence]}] if flag.evidence else None,
            "mitigation": [{"action": {"text": flag.action}}],
        }})

    plan, review = _plan(result)
    activities = [{"detail": {"code": {"coding": [{"system": RECOMMENDATION_SYSTEM, "code": step["id"]}]},
                              "status": "not-started", "description": step["text"]}} for step in plan]
    if review:
        weeks = review.get("after_weeks")
        activities.append({"detail": {"status": "scheduled", "code": {"text": "Review"},
                                      "description": f"Review after {weeks} weeks: {review.get('why', '')}"
                                      if weeks is not None else f"Review: {review.get('why', '')}",
                                      "scheduledString": f"after {weeks} weeks" if weeks else None}})
    care_plan: dict[str, Any] = {
        "resourceType": "CarePlan", "status": "active", "intent": "proposal", "subject": subject,
        "title": "Plan from the imbalance assessment",
        "description": f"Triage: {triage_text}. {DISCLAIMER}",
        "supportingInfo": [{"reference": risk_url}],
    }
    if activities:
        care_plan["activity"] = activities
    entries.append({"fullUrl": _uuid(seed, "CarePlan", ""), "resource": care_plan})
    return Bundle.model_validate({"resourceType": "Bundle", "type": "collection", "entry": entries})


def render_fhir(result: Assessment) -> str:
    """The Bundle as indented JSON, the form `assess --format fhir` prints."""
    return bundle_for(result).model_dump_json(indent=2, exclude_none=True) + "\n"
