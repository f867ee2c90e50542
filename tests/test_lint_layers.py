"""Clinic layers: add entries, switch shipped rules off only with a reason, never replace one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import InputError
from engine.kb.loader import display_path, load_layers
from engine.lint import lint
from tests.conftest import run_cli

MINI = Path(__file__).parent / "fixtures" / "mini_kb"


def layer(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.yaml").write_text(text)
    return folder


def rendered(folders: tuple[Path, ...]) -> list[str]:
    return [p.render() for p in load_layers(folders).problems]


RULE_AGAIN = """rules:
  - id: sciatica_leg_pain
    title: Our own version
    band: condition
    when: [{leg_pain: true}]
    then: {condition: sciatica, certainty: 0.7, because: Local audit.}
    sources: [guide]
    evidence: high
"""


def test_a_layer_cannot_silently_replace_a_rule(tmp_path: Path) -> None:
    clinic = layer(tmp_path, "clinic", RULE_AGAIN)
    (problem,) = rendered((MINI, clinic))
    assert problem == (
        f"{clinic}/clinic.yaml:2: duplicate id 'sciatica_leg_pain': a rule with this id is already "
        f"defined at {display_path(MINI / 'rules.yaml')}:14 (ids must be unique across all "
        "knowledge-base folders; to replace a shipped rule, switch it off with "
        "'disable: [{rule: sciatica_leg_pain, reason: ...}]' and add yours under a new id)")


def test_replacing_a_rule_the_supported_way(tmp_path: Path) -> None:
    clinic = layer(tmp_path, "clinic", RULE_AGAIN.replace("id: sciatica_leg_pain", "id: our_sciatica")
                   + "disable:\n  - rule: sciatica_leg_pain\n    reason: Replaced by our_sciatica.\n")
    loaded = load_layers((MINI, clinic))
    assert loaded.errors == []
    assert loaded.kb.rule("sciatica_leg_pain") is None and loaded.kb.rule("our_sciatica")
    assert loaded.kb.disabled[0].reason == "Replaced by our_sciatica."
    assert loaded.disabled_rules["sciatica_leg_pain"].location.path.endswith("mini_kb/rules.yaml")
    assert loaded.kb.rule("our_sciatica").layer == str(clinic)  # type: ignore[union-attr]
    report = lint(loaded)
    assert report.problems == ()  # 'hams' is still used: by the disabled rule's definition


@pytest.mark.parametrize(("text", "message"), [
    ("disable:\n  - rule: sciatica_leg_pain\n", "2: switching off rule 'sciatica_leg_pain' needs a stated "
     "'reason' (add 'reason: ...' saying why your clinic does not use it; reports show it)"),
    ("disable:\n  - rule: sciatica_leg_pian\n    reason: x\n",
     "2: cannot disable unknown rule 'sciatica_leg_pian' (did you mean 'sciatica_leg_pain'?)"),
    ("disable:\n  - rule: sciatica_leg_pain\n    reason: ''\n",
     "3: 'reason' of disable entry 'sciatica_leg_pain' must be non-empty text"),
])
def test_disable_mistakes(tmp_path: Path, text: str, message: str) -> None:
    clinic = layer(tmp_path, "clinic", text)
    assert rendered((MINI, clinic)) == [f"{clinic}/clinic.yaml:{message}"]


def test_disable_twice_and_disable_own_rule(tmp_path: Path) -> None:
    clinic = layer(tmp_path, "clinic", RULE_AGAIN.replace("id: sciatica_leg_pain", "id: ours") +
                   "disable:\n  - {rule: chronic_back_pain, reason: a}\n  - {rule: chronic_back_pain, "
                   "reason: b}\n  - {rule: ours, reason: c}\n")
    assert rendered((MINI, clinic)) == [
        f"{clinic}/clinic.yaml:11: rule 'chronic_back_pain' is already disabled at "
        f"{clinic}/clinic.yaml:10 (disable a rule once)",
        f"{clinic}/clinic.yaml:12: rule 'ours' is defined in this same folder ({clinic}/clinic.yaml:2)"
        "; delete it instead of disabling it",
    ]


def test_a_later_clinic_layer_may_disable_an_earlier_clinics_rule(tmp_path: Path) -> None:
    first = layer(tmp_path, "first", RULE_AGAIN.replace("id: sciatica_leg_pain", "id: ours"))
    second = layer(tmp_path, "second", "disable:\n  - {rule: ours, reason: Regional policy.}\n")
    loaded = load_layers((MINI, first, second))
    assert loaded.errors == [] and loaded.kb.rule("ours") is None
    assert [x.name for x in loaded.kb.layers] == ["mini", "first", "second"]


def test_disabling_the_only_rule_of_a_red_flag_is_flagged_by_lint(tmp_path: Path) -> None:
    clinic = layer(tmp_path, "clinic", "disable:\n  - {rule: infection_fever, reason: Own triage.}\n")
    report = lint(load_layers((MINI, clinic)))
    assert [p.message for p in report.problems] == [
        "red-flag rule 'infection_fever' (infection) is switched off: Own triage.",
        "red flag 'infection' can never be reached: every rule concluding it is disabled by a layer "
        "('infection_fever')"]
    assert report.problems[0].location.path.endswith("clinic/clinic.yaml")
    assert report.problems[0].location.line == 2
    assert report.problems[0].code == "disabled_red_flag_rule"


def test_reading_a_conclusion_only_disabled_rules_reach(tmp_path: Path) -> None:
    clinic = layer(tmp_path, "clinic", "disable:\n  - {rule: chronic_back_pain, reason: Own rule.}\n")
    report = lint(load_layers((MINI, clinic)), only=("never_fires",))
    assert [p.message for p in report.problems] == [
        "rule 'weakness_in_older_chronic' can never fire: 'chronic_pain' is concluded only by rules "
        "a layer disabled ('chronic_back_pain')"]


def test_case_tests_may_name_a_disabled_rule(tmp_path: Path) -> None:
    clinic = layer(tmp_path, "clinic", "disable:\n  - {rule: infection_fever, reason: Own triage.}\n")
    assert load_layers((MINI, clinic)).errors == []  # mini's tests name infection_fever


def test_the_same_folder_twice_is_bad_usage(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is given twice"):
        load_layers((MINI, MINI))


def test_hidden_folders_and_two_knowledge_base_headers(tmp_path: Path) -> None:
    clinic = layer(tmp_path, "clinic", "knowledge_base: {name: a, version: '1'}\n")
    (clinic / "b.yaml").write_text("knowledge_base: {name: b, version: '2'}\n")
    (clinic / ".git").mkdir()
    (clinic / ".git" / "junk.yaml").write_text(": not yaml [\n")
    assert rendered((MINI, clinic)) == [
        f"{clinic}/clinic.yaml:1: 'knowledge_base' is given twice in one folder (also at "
        f"{clinic}/b.yaml:1) (keep one 'knowledge_base:' section per folder)"]


def test_disabled_rule_does_not_fire_in_assess(tmp_path: Path) -> None:
    clinic = layer(tmp_path, "clinic",
                   "disable:\n  - {rule: ces_saddle_anaesthesia, reason: Local test of disabling.}\n")
    case = '{"findings": {"saddle_anaesthesia": true}}'
    plain = json.loads(run_cli("assess", "-", "--format", "json", stdin=case).stdout)
    layered = run_cli("--kb", str(clinic), "assess", "-", "--format", "json", stdin=case)
    assert layered.returncode == 0, layered.stderr
    assert "ces_saddle_anaesthesia" in plain["fired_rules"]
    assert "ces_saddle_anaesthesia" not in json.loads(layered.stdout)["fired_rules"]
