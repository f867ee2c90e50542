"""Case files: every kind of bad input names file, line, key and a suggestion."""

from __future__ import annotations

import pytest

from engine.cases.case import parse_case
from engine.errors import CaseError


def bad(text: str, kb) -> CaseError:
    with pytest.raises(CaseError) as err:
        parse_case(text, "case.yaml", kb)
    return err.value


def test_valid_case_keeps_unknown_apart_from_false(kb) -> None:
    case = parse_case("patient: {id: P1, age: 45, sex: female}\nfindings:\n  fever: false\n"
                      "  saddle_anaesthesia: null\n", "c", kb)
    assert case.findings == {"fever": False}
    assert case.facts == {"fever": False, "age": 45, "sex": "female"}


def test_unknown_finding_suggests(kb) -> None:
    err = bad("findings:\n  low_back_pain: true\n  saddle_anesthesia: true\n", kb)
    assert err.render() == ("case.yaml:3: unknown finding 'saddle_anesthesia' "
                            "(did you mean 'saddle_anaesthesia'?)")
    assert err.key == "saddle_anesthesia"


def test_wrong_type_and_range(kb) -> None:
    assert "expects true or false" in bad("findings:\n  fever: 38.5\n", kb).render()
    err = bad("findings:\n  sitting_hours_per_day: 30\n", kb)
    assert err.render().startswith("case.yaml:2: finding 'sitting_hours_per_day' is 30, out of range")
    assert "expects true, false, left, right" in bad("findings:\n  lateral_knee_pain: up\n", kb).render()


def test_structure_errors(kb) -> None:
    assert "empty" in bad("", kb).render()
    assert "'findings' must be a mapping" in bad("findings: [fever]\n", kb).render()
    assert "a case must be a mapping" in bad("- fever\n", kb).render()
    err = bad("patient: {age: 40}\nfinding:\n  fever: true\n", kb)
    assert err.render() == "case.yaml:2: unknown key 'finding' (did you mean 'findings'?)"
    assert "no 'findings:' block" in bad("patient: {age: 40}\n", kb).render()


def test_patient_block_checks(kb) -> None:
    assert "age must be a number of years" in bad("patient: {age: 200}\nfindings: {}\n", kb).render()
    assert "did you mean 'female'?" in bad("patient: {sex: femal}\nfindings: {}\n", kb).render()
    assert "belongs in the 'patient:' block" in bad("findings: {age: 40}\n", kb).render()


def test_malformed_yaml_has_line(kb) -> None:
    err = bad("findings:\n  fever: true\n  runner: [yes\n", kb)
    assert err.location is not None and err.location.line >= 3
    assert "malformed" in err.message
