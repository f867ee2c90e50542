"""A FHIR QuestionnaireResponse is accepted wherever a case file is (assess, report, explain,
batch), gives the same assessment as the case it holds, and bad ones get one clear line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli import main
from engine.cases.case import case_from_data, load_case
from engine.errors import CaseError
from engine.fhir.writer import response_from_case
from engine.inference.reasoner import Reasoner
from engine.kb.model import KnowledgeBase
from tests.conftest import ROOT, run_cli
from tests.fhir_support import cases

EXAMPLES = sorted((ROOT / "examples" / "cases").glob("*.yaml"))
CES = ROOT / "examples" / "cases" / "cauda_equina_emergency.yaml"


def qr(*items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"resourceType": "QuestionnaireResponse", "status": "completed", "item": list(items), **extra}


def answer(link: str, **value: Any) -> dict[str, Any]:
    return {"linkId": link, "answer": [value]}


def write(tmp_path: Path, data: dict[str, Any], name: str = "response.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


def assess_json(*args: str, stdin: str | None = None) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["assess", *args, "--format", "json"], input=stdin)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_round_trips_yaml_to_response_to_assess(tmp_path: Path, kb: KnowledgeBase,
                                                              example: Path) -> None:
    response = response_from_case(load_case(str(example), kb), kb)
    path = tmp_path / "response.json"
    path.write_text(response.model_dump_json(indent=2, exclude_none=True), encoding="utf-8")
    assert assess_json(str(path)) == assess_json(str(example))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_response_built_from_a_random_case_assesses_like_the_case(
        kb: KnowledgeBase, reasoner: Reasoner, data: st.DataObject) -> None:
    case = data.draw(cases(kb))
    wire = json.loads(response_from_case(case, kb).model_dump_json(exclude_none=True))
    back = case_from_data(wire, "response.json", kb)
    assert back.facts == case.facts
    assert back.patient_id == case.patient_id
    assert reasoner.assess(back).to_dict() == reasoner.assess(case).to_dict()


def test_values_of_every_kind_are_read(kb: KnowledgeBase) -> None:
    case = case_from_data(qr(
        {"linkId": "section:red_flag_screen", "item": [
            answer("saddle_anaesthesia", valueBoolean=False),
            {"linkId": "checklist:body_chart", "item": [
                answer("leg_pain_below_knee", valueCoding={"code": "right"}),
                answer("buttock_pain", valueString="Both"),
                answer("lateral_knee_pain", valueBoolean=True),
                answer("anterior_knee_pain", valueCoding={"code": "absent"}),
                {"linkId": "low_back_pain"},  # asked, not answered: unknown
            ]}]},
        answer("sitting_hours_per_day", valueDecimal=7.5),
        answer("mileage_increase_pct", valueInteger=20),
        answer("pain_duration_weeks", valueQuantity={"value": 6.0, "unit": "wk"}),
        answer("age", valueInteger=52), answer("sex", valueCoding={"code": "male"}),
    ), "r.json", kb)
    assert case.findings == {"saddle_anaesthesia": False, "leg_pain_below_knee": "right",
                             "buttock_pain": "bilateral", "lateral_knee_pain": True,
                             "anterior_knee_pain": False, "sitting_hours_per_day": 7.5,
                             "mileage_increase_pct": 20, "pain_duration_weeks": 6}
    assert case.patient == {"age": 52, "sex": "male"}


def test_a_count_is_an_int_whether_sent_as_integer_or_as_a_whole_decimal(kb: KnowledgeBase) -> None:
    for value in ({"valueInteger": 3}, {"valueDecimal": 3.0}, {"valueQuantity": {"value": 3}}):
        case = case_from_data(qr(answer("laslett_positive_count", **value)), "r.json", kb)
        count = case.findings["laslett_positive_count"]
        assert count == 3 and type(count) is int, value


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.floats(0, 5, allow_nan=False).filter(lambda x: not x.is_integer()),
       key=st.sampled_from(["valueDecimal", "valueQuantity"]))
def test_a_count_never_takes_a_fraction(kb: KnowledgeBase, value: float, key: str) -> None:
    given_value: Any = {"value": value} if key == "valueQuantity" else value
    with pytest.raises(CaseError) as caught:
        case_from_data(qr(answer("low_back_pain", valueBoolean=True),
                          answer("laslett_positive_count", **{key: given_value})), "r.json", kb)
    message = caught.value.render()
    assert "item[1] linkId 'laslett_positive_count'" in message and "not a whole number" in message
    assert "\n" not in message


def test_every_answer_written_has_the_type_of_its_questionnaire_item(kb: KnowledgeBase) -> None:
    """What `fhir response` writes is what a FHIR validator checking it against our Questionnaire
    expects: valueInteger for an integer item (a count), valueDecimal for a decimal one."""
    from engine.fhir.questionnaire import build_questionnaire

    expected = {"boolean": "valueBoolean", "integer": "valueInteger", "decimal": "valueDecimal",
                "choice": "valueCoding"}
    types: dict[str, str] = {}

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            walk(item.get("item", []))
            types[item["linkId"]] = item["type"]

    walk(build_questionnaire(kb).model_dump(exclude_none=True)["item"])
    numbers = [f for f in kb.findings.values() if f.type == "number"]
    assert {types[f.id] for f in numbers if f.integer} == {"integer"}
    assert {types[f.id] for f in numbers if not f.integer} == {"decimal"}
    findings = {f.id: (int(f.minimum or 0) + 1 if f.type == "number" else
                       "left" if f.type == "sided" else True if f.type == "boolean" else f.values[0])
                for f in kb.findings.values() if f.category != "patient"}
    wire = json.loads(response_from_case(case_from_data({"findings": findings}, "c.yaml", kb), kb)
                      .model_dump_json(exclude_none=True))
    answered: dict[str, str] = {}

    def answers(items: list[dict[str, Any]]) -> None:
        for item in items:
            answers(item.get("item", []))
            for reply in item.get("answer", []):
                answered[item["linkId"]] = next(k for k in reply if k.startswith("value"))

    answers(wire["item"])
    assert set(answered) == set(findings)
    wrong = {link: key for link, key in answered.items() if key != expected[types[link]]}
    assert wrong == {}
    assert wire and '"valueInteger": 1' in json.dumps([i for i in _flat(wire["item"])
                                                        if i["linkId"] == "laslett_positive_count"])


def _flat(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [x for item in items for x in (item, *_flat(item.get("item", [])))]


def test_patient_from_a_contained_patient_when_no_age_or_sex_item(kb: KnowledgeBase) -> None:
    data = qr(answer("low_back_pain", valueBoolean=True), subject={"reference": "#pat"},
              authored="2026-03-01T10:00:00Z",
              contained=[{"resourceType": "Patient", "id": "pat", "identifier": [{"value": "P-9"}],
                          "gender": "female", "birthDate": "1970-03-02"}])
    case = case_from_data(data, "r.json", kb)
    assert case.patient == {"id": "P-9", "age": 55, "sex": "female"}  # a day before her birthday
    data["item"].append(answer("age", valueInteger=60))
    assert case_from_data(data, "r.json", kb).patient["age"] == 60  # the item wins


def test_subject_identifier_is_the_patient_id(kb: KnowledgeBase) -> None:
    data = qr(answer("fever", valueBoolean=True), subject={"identifier": {"value": "MRN-1"}})
    assert case_from_data(data, "r.json", kb).patient_id == "MRN-1"


BAD = [
    (qr(answer("low_back_pain", valueBoolean=True), answer("neck_pain", valueBoolean=False),
        answer("fever", valueBoolean=False), answer("sadle_anaesthesia", valueBoolean=True)),
     "item[3] linkId 'sadle_anaesthesia': unknown finding (did you mean 'saddle_anaesthesia'?)"),
    (qr({"linkId": "section:red_flag_screen", "item": [answer("fever", valueString="yes")]}),
     "item[0].item[0] linkId 'fever': valueString does not fit this finding (give valueBoolean)"),
    (qr(answer("sitting_hours_per_day", valueDecimal=30)),
     "item[0] linkId 'sitting_hours_per_day': finding 'sitting_hours_per_day' is 30, out of range"),
    (qr(answer("laslett_positive_count", valueDecimal=2.5)),
     "item[0] linkId 'laslett_positive_count': valueDecimal 2.5 is not a whole number: the "
     "Questionnaire item is type integer (a count) (give valueInteger, a whole number from 0 to 5"),
    (qr(answer("laslett_positive_count", valueQuantity={"value": 1.5})),
     "item[0] linkId 'laslett_positive_count': valueQuantity 1.5 is not a whole number"),
    (qr(answer("leg_pain_below_knee", valueCoding={"code": "up"})),
     "item[0] linkId 'leg_pain_below_knee': 'up' is not a side"),
    (qr(answer("fever", valueBoolean=True), answer("fever", valueBoolean=False)),
     "item[1] linkId 'fever': answered twice (also at item[0])"),
    (qr({"linkId": "fever", "answer": [{"valueBoolean": True}, {"valueBoolean": False}]}),
     "item[0] linkId 'fever': has 2 answers; a finding takes one"),
    (qr(answer("fever", valueBoolean="perhaps")),
     "not a valid FHIR QuestionnaireResponse: item[0].answer[0].valueBoolean (linkId 'fever'): "
     "Input should be a valid boolean"),
    ({"resourceType": "QuestionnaireResponse", "item": []},
     "not a valid FHIR QuestionnaireResponse: status"),
    ({"resourceType": "Patient", "gender": "male"}, "a FHIR Patient is not a case"),
]


@pytest.mark.parametrize(("data", "expected"), BAD, ids=[f"bad{n}" for n in range(len(BAD))])
def test_bad_responses_get_one_line_naming_the_item(tmp_path: Path, data: dict[str, Any],
                                                    expected: str) -> None:
    path = write(tmp_path, data)
    result = CliRunner().invoke(main, ["assess", str(path)])
    assert result.exit_code == 2
    assert result.stdout == ""
    line = result.stderr
    assert line.count("\n") == 1 and "Traceback" not in line
    assert line.startswith(f"error: {path}:")  # the file and the line of the item
    assert expected in line


def test_bad_response_error_carries_the_items_line(kb: KnowledgeBase, tmp_path: Path) -> None:
    path = write(tmp_path, qr(answer("fever", valueBoolean=True), answer("sadle_anaesthesia",
                                                                          valueBoolean=True)))
    with pytest.raises(CaseError) as err:
        load_case(str(path), kb)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert err.value.location is not None
    assert "sadle_anaesthesia" in "".join(lines[err.value.location.line - 1:err.value.location.line + 1])


def test_report_explain_and_batch_take_a_response(tmp_path: Path, kb: KnowledgeBase) -> None:
    response = response_from_case(load_case(str(CES), kb), kb).model_dump_json(exclude_none=True)
    path = tmp_path / "ces.json"
    path.write_text(response, encoding="utf-8")
    runner = CliRunner()
    report = runner.invoke(main, ["report", str(path), "-o", str(tmp_path / "r.html")])
    assert report.exit_code == 0, report.output
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "cauda equina" in html.lower()
    explain = runner.invoke(main, ["explain", str(path), "cauda_equina_syndrome", "--format", "json"])
    assert explain.exit_code == 0 and "saddle_anaesthesia" in explain.stdout
    folder = tmp_path / "cases"
    folder.mkdir()
    (folder / "ces.json").write_text(response, encoding="utf-8")
    (folder / "plain.yaml").write_text(CES.read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    batch = runner.invoke(main, ["batch", str(folder), "-o", str(out), "-j", "1"])
    assert batch.exit_code == 0, batch.output
    rows = {r.pop("id"): r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert rows["ces.json"] == rows["plain.yaml"] and rows["ces.json"]["triage"] == "emergency"
    lines = tmp_path / "caseload.jsonl"
    bad = qr(answer("fevr", valueBoolean=True), id="bad-1")
    lines.write_text(json.dumps({**json.loads(response), "id": "qr-1"}) + "\n" + json.dumps(bad) + "\n",
                     encoding="utf-8")
    out2 = tmp_path / "out2.jsonl"
    batch2 = runner.invoke(main, ["batch", str(lines), "-o", str(out2), "-j", "1"])
    assert batch2.exit_code == 1  # one case failed, the other went on
    rows2 = {r["id"]: r for r in map(json.loads, out2.read_text(encoding="utf-8").splitlines())}
    assert rows2["qr-1"]["triage"] == "emergency"
    assert "linkId 'fevr': unknown finding (did you mean 'fever'?)" in rows2["bad-1"]["error"]


def test_console_script_reads_a_response_from_stdin(kb: KnowledgeBase) -> None:
    response = response_from_case(load_case(str(CES), kb), kb).model_dump_json(exclude_none=True)
    proc = run_cli("assess", "-", "--format", "json", stdin=response)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["triage"] == "emergency"


def test_fhir_response_command_writes_what_assess_reads(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "r.json"
    made = runner.invoke(main, ["fhir", "response", str(CES), "-o", str(out)])
    assert made.exit_code == 0, made.output
    assert assess_json(str(out)) == assess_json(str(CES))
    again = runner.invoke(main, ["fhir", "response", str(CES), "-o", str(out)])
    assert again.exit_code == 2 and "already exists" in again.stderr
