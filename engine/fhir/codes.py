"""The names our FHIR resources share: canonical URLs, group linkIds, side codes, units.

Kept in one place so the Questionnaire we print and the QuestionnaireResponse reader can never
disagree about what a code or a group linkId means.
"""

from __future__ import annotations

from typing import Any

from engine.kb.model import SIDES

# Canonical URL of the generated Questionnaire (a URI that names it; it is not fetched).
QUESTIONNAIRE_URL = "urn:imbalance-kb:questionnaire:findings"
# The code system of sided answers: a side, or present / absent without a side.
SIDE_SYSTEM = "urn:imbalance-kb:codesystem:side"
PRESENT = "present"
ABSENT = "absent"
SIDE_CODES: dict[str, Any] = {PRESENT: True, "left": "left", "right": "right",
                              "bilateral": "bilateral", ABSENT: False}
SIDE_DISPLAY = {PRESENT: "Yes (side not recorded)", "left": "Left", "right": "Right",
                "bilateral": "Both sides", ABSENT: "No"}
# Words accepted in valueString (and valueCoding.code) for a sided answer, besides the codes.
SIDE_WORDS: dict[str, Any] = {**SIDE_CODES, "yes": True, "true": True, "no": False, "false": False,
                              "both": "bilateral"}
ENUM_SYSTEM = "urn:imbalance-kb:codesystem:"  # + finding id, for enum findings (sex)

# Group linkIds carry a prefix a finding id can never have (ids are snake_case words).
SECTION = "section:"
CHECKLIST = "checklist:"
RED_FLAG_SCREEN = SECTION + "red_flag_screen"
PATIENT_SECTION = SECTION + "patient"

# FHIR core extensions used on numeric items.
UNIT_EXTENSION = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"
MIN_EXTENSION = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_EXTENSION = "http://hl7.org/fhir/StructureDefinition/maxValue"
UCUM = "http://unitsofmeasure.org"
# Our units as UCUM codes where UCUM has one; others are given by display only.
UCUM_CODES = {"years": "a", "weeks": "wk", "percent": "%", "hours per day": "h/d", "minutes": "min"}


def side_value(word: str) -> Any:
    """The case value for a sided answer word or code, or None when it is not one."""
    return SIDE_WORDS.get(word.strip().lower())


def side_code(value: Any) -> str:
    """The code for a case value of a sided finding (true, false or a side)."""
    if value is True:
        return PRESENT
    if value is False:
        return ABSENT
    if value in SIDES:
        return str(value)
    raise ValueError(f"not a sided value: {value!r}")
