"""A FHIR R4 QuestionnaireResponse read as a case, and a case written as one.

`case_from_data` hands any JSON object whose `resourceType` is `QuestionnaireResponse` here, so
`assess`, `report`, `explain` and `batch` all take one. The resource is first validated by the
fhir.resources model (a malformed resource is refused before we read a value), then each item
whose linkId is a finding id gives that finding's value:

- boolean findings: `valueBoolean`;
- numbers: `valueDecimal`, `valueInteger` or `valueQuantity.value`; a whole decimal (3.0) is
  read as the integer 3, and a count (`integer: true`, an integer item) refuses 2.5;
- sided findings: `valueBoolean`, or `valueCoding.code` / `valueString` among present, left,
  right, bilateral, absent (also yes, no, both);
- enum findings (sex): `valueCoding.code` or `valueString`.

An item without an answer is unknown. Groups (items with sub-items, e.g. our `section:` and
`checklist:` groups) are walked, and so are items nested under an answer.

Patient details: the items `age` and `sex` (the Questionnaire's patient group). Where they are
not answered, a Patient the response contains and names as its `subject` gives them: `gender`
as sex, and the age in whole years on the day the response was `authored` (today if that is
missing) from `birthDate`. The patient id is the subject's identifier value, else the contained
Patient's first identifier, else the subject reference.

Every mistake is one `CaseError` naming the item by its path and linkId, e.g.
`item[3] linkId 'sadle_anaesthesia': unknown finding (did you mean 'saddle_anaesthesia'?)`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import ValidationError

from engine.cases.case import SEXES, Case
from engine.errors import CaseError, Location
from engine.fhir import codes
from engine.kb import model as m
from engine.kb.lines import line_of
from engine.kb.suggest import did_you_mean
from engine.kb.values import check_value

RESOURCE = "QuestionnaireResponse"
PATIENT_ITEMS = ("age", "sex")
VALUE_KEYS = ("valueBoolean", "valueDecimal", "valueInteger", "valueString", "valueCoding",
              "valueQuantity", "valueDate", "valueDateTime", "valueTime", "valueUri",
              "valueAttachment", "valueReference")


def is_response(data: Any) -> bool:
    return isinstance(data, dict) and data.get("resourceType") == RESOURCE


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _child(container: Any, part: Any) -> Any:
    return container[part]


def _validate(data: dict[str, Any], name: str) -> None:
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    try:
        QuestionnaireResponse.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        container: Any = data
        line = getattr(data, "line", 0)
        label = ""
        for depth, part in enumerate(loc):
            if isinstance(container, (dict, list)):
                try:
                    line = line_of(container, part) or line
                    container = _child(container, part)
                except (KeyError, IndexError, TypeError):
                    break
                if (isinstance(container, dict) and depth >= 1 and loc[depth - 1] == "item"
                        and container.get("linkId")):
                    label = f" (linkId '{container['linkId']}')"
        message = str(error["msg"]).rstrip(".")
        raise CaseError(f"not a valid FHIR {RESOURCE}: {_path(loc)}{label}: {message}",
                        Location(name, line), _path(loc),
                        "check it against the FHIR R4 QuestionnaireResponse structure") from None


class _Reader:
    def __init__(self, data: dict[str, Any], name: str, kb: m.KnowledgeBase) -> None:
        self.data = data
        self.name = name
        self.kb = kb
        self.findings: dict[str, Any] = {}
        self.patient: dict[str, Any] = {}
        self.seen: dict[str, str] = {}

    def fail(self, where: str, item: Any, message: str, suggestion: str = "") -> CaseError:
        link = item.get("linkId") if isinstance(item, dict) else None
        head = f"{where} linkId '{link}'" if link is not None else where
        return CaseError(f"{head}: {message}", Location(self.name, getattr(item, "line", 0)),
                         str(link or where), suggestion)

    def walk(self, items: Any, prefix: str) -> None:
        for index, item in enumerate(items or ()):
            where = f"{prefix}item[{index}]"
            self.item(item, where)

    def item(self, item: dict[str, Any], where: str) -> None:
        link = str(item.get("linkId", ""))
        answers = item.get("answer") or []
        children = item.get("item") or []
        is_group = link.startswith((codes.SECTION, codes.CHECKLIST)) or (children and not answers)
        if not is_group:
            self.answer(item, link, answers, where)
        self.walk(children, where + ".")
        for number, answer in enumerate(answers):
            self.walk(answer.get("item"), f"{where}.answer[{number}].")

    def answer(self, item: dict[str, Any], link: str, answers: list[Any], where: str) -> None:
        finding = self.kb.findings.get(link)
        if finding is None:
            raise self.fail(where, item, "unknown finding", did_you_mean(link, self.kb.findings)
                            or "linkIds are finding ids; run 'imbalance fhir questionnaire' to list them")
        if link in self.seen:
            raise self.fail(where, item, f"answered twice (also at {self.seen[link]})",
                            "give each finding one item")
        self.seen[link] = where
        if not answers:
            return  # asked but not answered: unknown
        if len(answers) > 1:
            raise self.fail(where, item, f"has {len(answers)} answers; a finding takes one",
                            f"give {finding.accepts()}")
        value = self.value(finding, answers[0], item, where)
        problem = check_value(finding, value)
        if problem:
            raise self.fail(where, item, f"finding '{link}' {problem}", f"give {finding.accepts()}")
        if finding.category == "patient":
            self.patient[link] = value
        else:
            self.findings[link] = value

    def value(self, finding: m.Finding, answer: dict[str, Any], item: Any, where: str) -> Any:
        given = [key for key in VALUE_KEYS if answer.get(key) is not None]
        key = given[0] if given else ""
        raw: Any = answer.get(key)
        if finding.type == "boolean" and key == "valueBoolean":
            return raw
        if finding.type == "number" and key in ("valueDecimal", "valueInteger", "valueQuantity"):
            number = raw.get("value") if key == "valueQuantity" else raw
            if finding.integer and isinstance(number, float) and not number.is_integer():
                raise self.fail(where, item, f"{key} {number} is not a whole number: the Questionnaire "
                                "item is type integer (a count)", f"give valueInteger, {finding.accepts()}")
            if isinstance(number, float) and number.is_integer():
                return int(number)
            return number
        if finding.type == "sided":
            if key == "valueBoolean":
                return raw
            word = raw.get("code") if key == "valueCoding" else raw if key == "valueString" else None
            if isinstance(word, str) and codes.side_value(word) is not None:
                return codes.side_value(word)
            if word is not None:
                raise self.fail(where, item, f"'{word}' is not a side",
                                "use present, left, right, bilateral or absent")
        if finding.type == "enum" and key in ("valueCoding", "valueString"):
            word = raw.get("code") if key == "valueCoding" else raw
            return word
        expected = {"boolean": "valueBoolean", "number": "valueDecimal or valueInteger",
                    "sided": "valueCoding (present, left, right, bilateral, absent) or valueBoolean",
                    "enum": "valueCoding or valueString"}[finding.type]
        found = key or "no value"
        raise self.fail(where, item, f"{found} does not fit this finding", f"give {expected}")

    def subject_patient(self) -> None:
        """Age, sex and id from the subject: a contained Patient or the reference itself."""
        subject = self.data.get("subject") or {}
        identifier = (subject.get("identifier") or {}).get("value")
        patient = None
        reference = str(subject.get("reference") or "")
        for resource in self.data.get("contained") or ():
            if resource.get("resourceType") == "Patient" and (
                    not reference or reference == f"#{resource.get('id', '')}"):
                patient = resource
                break
        if patient is not None:
            identifiers = patient.get("identifier") or []
            identifier = identifier or (identifiers[0].get("value") if identifiers else None)
            gender = patient.get("gender")
            if "sex" not in self.patient and gender in SEXES:
                self.patient["sex"] = gender
            birth = patient.get("birthDate")
            if "age" not in self.patient and birth:
                age = _age(str(birth), str(self.data.get("authored") or ""))
                if not 0 <= age <= 120:
                    raise CaseError(f"contained Patient birthDate {birth} gives age {age}, out of "
                                    "range 0 to 120", Location(self.name, getattr(patient, "line", 0)),
                                    "birthDate", "check the birthDate and authored dates")
                self.patient["age"] = age
        if identifier is None and reference and not reference.startswith("#"):
            identifier = reference
        if identifier is not None:
            self.patient = {"id": str(identifier), **self.patient}


def _age(birth: str, authored: str) -> int:
    """Whole years from a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD) to the authored day."""
    parts = [int(p) for p in birth.split("-")[:3]] + [1, 1]
    born = dt.date(parts[0], parts[1], parts[2])
    try:
        on = dt.date.fromisoformat(authored[:10]) if authored else dt.date.today()
    except ValueError:
        on = dt.date.today()
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def case_from_response(data: dict[str, Any], name: str, kb: m.KnowledgeBase) -> Case:
    """The case a QuestionnaireResponse describes; a `CaseError` names any bad item."""
    _validate(data, name)
    reader = _Reader(data, name, kb)
    reader.walk(data.get("item"), "")
    reader.subject_patient()
    patient = {key: reader.patient[key] for key in ("id", *PATIENT_ITEMS) if key in reader.patient}
    return Case(name, patient, reader.findings)
