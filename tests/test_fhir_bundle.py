"""`assess --format fhir`: the assessment as a FHIR R4 Bundle, validated by the library."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fhir.resources.R4B.bundle import Bundle

from cli import main
from engine.cases.case import case_from_data, load_case
from engine.inference.assessment import Assessment
from engine.inference.reasoner import Reasoner
from engine.kb.model import KnowledgeBase
from reports.fhir_bundle import bundle_for, render_fhir
from tests.conftest import ROOT

EXAMPLES = sorted((ROOT / "examples" / "cases").glob("*.yaml"))
# Required codes, from the FHIR R4 value sets bound to these elements (the library checks the
# structure, not the value sets): DetectedIssue.severity, .status; RiskAssessment.status;
# CarePlan.status, .intent; CarePlan.activity.detail.status.
SEVERITIES = {"high", "moderate", "low"}
OBSERVATION_STATUS = {"registered", "preliminary", "final", "amended", "corrected", "cancelled",
                      "entered-in-error", "unknown"}
CAREPLAN_STATUS = {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"}
CAREPLAN_INTENT = {"proposal", "plan", "order", "option"}
ACTIVITY_STATUS = {"not-started", "scheduled", "in-progress", "on-hold", "completed", "cancelled",
                   "stopped", "unknown", "entered-in-error"}


def fhir_output(case: Path) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["assess", str(case), "--format", "fhir"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def by_type(bundle: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for entry in bundle["entry"]:
        out.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    return out


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_gives_a_valid_bundle_that_says_what_json_says(example: Path, kb: KnowledgeBase,
                                                                     reasoner: Reasoner) -> None:
    bundle = fhir_output(example)
    Bundle.model_validate(bundle)  # the library's structural validation of every resource
    assert bundle["type"] == "collection"
    expected = reasoner.assess(load_case(str(example), kb)).to_dict()
    resources = by_type(bundle)
    (risk,) = resources["RiskAssessment"]
    assert risk["status"] in OBSERVATION_STATUS
    assert risk["extension"][0]["valueCode"] == expected["triage"]
    predicted = [(p["outcome"]["coding"][0]["code"], p["probabilityDecimal"])
                 for p in risk.get("prediction", [])]
    wanted = [(r["id"], r["certainty"]) for r in expected["red_flags"] + expected["conditions"]]
    assert predicted == wanted  # red flags first, then conditions by certainty
    issues = resources.get("DetectedIssue", [])
    assert [i["code"]["coding"][0]["code"] for i in issues] == [r["id"] for r in expected["red_flags"]]
    for issue, flag in zip(issues, expected["red_flags"], strict=True):
        assert issue["severity"] in SEVERITIES and issue["status"] in OBSERVATION_STATUS
        assert issue["severity"] == ("moderate" if flag["urgency"] == "soon" else "high")
        assert issue["mitigation"][0]["action"]["text"] == flag["action"] and flag["action"]
    (plan,) = resources["CarePlan"]
    assert plan["status"] in CAREPLAN_STATUS and plan["intent"] in CAREPLAN_INTENT
    steps = expected.get("plan") or expected["recommendations"]
    details = [a["detail"] for a in plan.get("activity", [])]
    assert all(d["status"] in ACTIVITY_STATUS for d in details)
    assert [d["description"] for d in details[:len(steps)]] == [s["text"] for s in steps]
    urls = {entry["fullUrl"] for entry in bundle["entry"]}
    text = json.dumps(bundle)
    for ref in {part.split('"')[0] for part in text.split('"reference": "')[1:]}:
        assert ref in urls  # every reference resolves inside the Bundle


def test_the_bundle_carries_its_findings_and_reproduces_the_assessment(kb: KnowledgeBase,
                                                                      reasoner: Reasoner) -> None:
    case = ROOT / "examples" / "cases" / "spinal_infection_fever.yaml"
    bundle = fhir_output(case)
    (response,) = by_type(bundle)["QuestionnaireResponse"]
    response = {k: v for k, v in response.items() if k != "subject"}
    again = reasoner.assess(case_from_data(response, "bundle", kb)).to_dict()
    original = reasoner.assess(load_case(str(case), kb)).to_dict()
    for key in ("triage", "red_flags", "conditions", "causes", "recommendations"):
        assert again[key] == original[key]


def test_same_case_same_bytes() -> None:
    case = ROOT / "examples" / "cases" / "cauda_equina_emergency.yaml"
    runner = CliRunner()
    first = runner.invoke(main, ["assess", str(case), "--format", "fhir"]).stdout
    assert first == runner.invoke(main, ["assess", str(case), "--format", "fhir"]).stdout


@dataclass(frozen=True)
class _WithPlan:
    """An assessment whose JSON already has the contract's `plan` and `review` keys."""

    inner: Assessment

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def to_dict(self) -> dict[str, Any]:
        return {**self.inner.to_dict(), "plan": [{"id": "refer_now", "text": "Refer today."}],
                "review": {"after_weeks": 2, "why": "check the referral happened"}}


def test_care_plan_follows_plan_and_review_when_the_assessment_has_them(kb: KnowledgeBase,
                                                                       reasoner: Reasoner) -> None:
    case = load_case(str(ROOT / "examples" / "cases" / "runner_it_band.yaml"), kb)
    bundle = bundle_for(_WithPlan(reasoner.assess(case)))  # type: ignore[arg-type]
    (plan,) = by_type(bundle.model_dump(mode="json", exclude_none=True))["CarePlan"]
    details = [a["detail"] for a in plan["activity"]]
    assert [d["description"] for d in details] == [
        "Refer today.", "Review after 2 weeks: check the referral happened"]
    assert details[1]["scheduledString"] == "after 2 weeks"


def test_a_response_in_gives_a_bundle_out(tmp_path: Path, kb: KnowledgeBase, reasoner: Reasoner) -> None:
    from engine.fhir.writer import response_json

    case = load_case(str(ROOT / "examples" / "cases" / "fragility_fracture.yaml"), kb)
    path = tmp_path / "r.json"
    path.write_text(response_json(case, kb), encoding="utf-8")
    assert fhir_output(path) == json.loads(render_fhir(reasoner.assess(case)))
