"""`imbalance fhir questionnaire`: the vocabulary as a FHIR R4 Questionnaire a forms tool can use."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from fhir.resources.R4B.questionnaire import Questionnaire
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli import main
from engine.cases.case import Case
from engine.fhir import codes
from engine.fhir.gates import gates, red_flag_findings
from engine.fhir.questionnaire import build_questionnaire, finding_order
from engine.inference.reasoner import Reasoner
from engine.kb.model import KnowledgeBase
from tests.fhir_support import value_strategy


def _items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for item in items:
        out.append(item)
        out.extend(_items(item.get("item", [])))
    return out


def _printed(args: tuple[str, ...] = ()) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["fhir", "questionnaire", *args])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_printed_questionnaire_is_a_valid_fhir_questionnaire(kb: KnowledgeBase) -> None:
    data = _printed()
    model = Questionnaire.model_validate(data)  # the library's own structural validation
    assert model.status == "active" and data["resourceType"] == "Questionnaire"
    assert data["version"] == kb.version


def test_every_finding_is_one_question_with_its_id_as_linkid(kb: KnowledgeBase) -> None:
    items = _items(_printed()["item"])
    questions = [i["linkId"] for i in items if i["type"] != "group"]
    assert Counter(questions) == Counter(list(kb.findings))  # each finding exactly once
    groups = [i["linkId"] for i in items if i["type"] == "group"]
    assert all(g.startswith((codes.SECTION, codes.CHECKLIST)) for g in groups)
    assert len(set(groups)) == len(groups)


def test_red_flag_screen_comes_first_and_holds_every_red_flag_finding(kb: KnowledgeBase) -> None:
    data = _printed()
    first = data["item"][0]
    assert first["linkId"] == codes.RED_FLAG_SCREEN
    inside = {i["linkId"] for i in _items(first["item"])}
    needed = {f for f in red_flag_findings(kb) if kb.findings[f].category != "patient"}
    assert needed and needed <= inside
    assert {"saddle_anaesthesia", "bladder_dysfunction", "fever", "history_of_cancer"} <= inside
    sections = [g["linkId"] for g in data["item"]]
    assert sections[1] == codes.PATIENT_SECTION
    patient = {i["linkId"] for i in data["item"][1]["item"]}
    assert patient == {"age", "sex"}


def test_checklists_are_groups_of_exactly_their_members(kb: KnowledgeBase) -> None:
    items = {i["linkId"]: i for i in _items(_printed()["item"])}
    assert kb.checklists
    for checklist in kb.checklists.values():
        group = items[codes.CHECKLIST + checklist.id]
        assert group["type"] == "group"
        assert [i["linkId"] for i in group["item"]] == list(checklist.findings)


def test_item_types_follow_the_finding_types(kb: KnowledgeBase) -> None:
    items = {i["linkId"]: i for i in _items(_printed()["item"])}
    assert items["saddle_anaesthesia"]["type"] == "boolean"
    sided = items["leg_pain_below_knee"]
    assert sided["type"] == "choice"
    assert [o["valueCoding"]["code"] for o in sided["answerOption"]] == list(codes.SIDE_CODES)
    hours = items["sitting_hours_per_day"]
    assert hours["type"] == "decimal"
    extensions = {e["url"]: e for e in hours["extension"]}
    assert extensions[codes.UNIT_EXTENSION]["valueCoding"]["code"] == "h/d"
    finding = kb.findings["sitting_hours_per_day"]
    assert extensions[codes.MAX_EXTENSION]["valueDecimal"] == finding.maximum
    sex = items["sex"]
    assert [o["valueCoding"]["code"] for o in sex["answerOption"]] == list(kb.findings["sex"].values)
    assert not any(i.get("required") for i in items.values())  # unanswered stays unknown


def test_enable_when_names_an_earlier_gate_and_never_hides_the_screen(kb: KnowledgeBase) -> None:
    data = _printed()
    order = {fid: n for n, fid in enumerate(finding_order(kb))}
    screen = {i["linkId"] for i in _items(data["item"][0]["item"])}
    gated = [i for i in _items(data["item"]) if "enableWhen" in i]
    assert gated, "the shipped KB has questions that only matter after a gate"
    for item in gated:
        assert item["linkId"] not in screen
        gate = {w["question"] for w in item["enableWhen"]}
        assert len(gate) == 1
        (gate_id,) = gate
        assert order[gate_id] < order[item["linkId"]] or gate_id in screen
    knee = {i["linkId"]: i for i in gated}["positive_noble_test"]
    assert knee["enableWhen"][0]["question"] == "lateral_knee_pain"
    assert knee["enableBehavior"] == "any"  # any side of a sided gate opens it


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_gated_question_cannot_change_anything_while_its_gate_is_absent(
        kb: KnowledgeBase, reasoner: Reasoner, data: st.DataObject) -> None:
    """What enableWhen hides is exactly what the interview would not ask: with the gate absent
    or unknown, any answer to the gated question gives the same assessment as none."""
    table = gates(kb, finding_order(kb))
    question = data.draw(st.sampled_from(sorted(table)))
    gate = table[question]
    others = [f for f in kb.findings if f not in (question, gate) and kb.findings[f].category != "patient"]
    chosen = data.draw(st.lists(st.sampled_from(others), unique=True, max_size=20))
    findings = {fid: data.draw(value_strategy(kb.findings[fid])) for fid in chosen}
    if data.draw(st.booleans()):
        findings[gate] = False
    answer = data.draw(value_strategy(kb.findings[question]))
    without = reasoner.assess(Case("t", {}, dict(findings))).to_dict()
    with_answer = reasoner.assess(Case("t", {}, {**findings, question: answer})).to_dict()
    for key in ("triage", "red_flags", "conditions", "causes", "muscles", "recommendations"):
        assert with_answer[key] == without[key], (question, gate, answer)


def test_written_to_a_file_and_never_over_one(tmp_path: Path, kb: KnowledgeBase) -> None:
    target = tmp_path / "q.json"
    runner = CliRunner()
    first = runner.invoke(main, ["fhir", "questionnaire", "-o", str(target)])
    assert first.exit_code == 0, first.output
    Questionnaire.model_validate_json(target.read_text(encoding="utf-8"))
    target.write_text("keep me", encoding="utf-8")
    again = runner.invoke(main, ["fhir", "questionnaire", "-o", str(target)])
    assert again.exit_code == 2
    assert "already exists" in again.stderr and again.stderr.count("\n") == 1
    assert target.read_text(encoding="utf-8") == "keep me"


def test_questionnaire_model_matches_the_printed_json(kb: KnowledgeBase) -> None:
    assert build_questionnaire(kb).model_dump(mode="json", exclude_none=True) == _printed()


def test_fhir_questionnaire_invariants_hold() -> None:
    """The R4 Questionnaire invariants the models do not check: que-1 (a group has items, other
    items have none), que-12 (several enableWhen need enableBehavior), and enableWhen naming a
    question, not a group (R4 Questionnaire.item.enableWhen.question)."""
    items = _items(_printed()["item"])
    kinds = {i["linkId"]: i["type"] for i in items}
    for item in items:
        assert bool(item.get("item")) == (item["type"] == "group"), item["linkId"]
        conditions = item.get("enableWhen", [])
        if len(conditions) > 1:
            assert item.get("enableBehavior") in ("any", "all")
        for condition in conditions:
            assert kinds[condition["question"]] != "group"
            assert condition["operator"] == "="
