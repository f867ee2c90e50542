"""Lint checks, one by one, on a small clean KB (tests/fixtures/mini_kb) plus an inline layer."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.kb.loader import load_layers, shipped_kb_dir
from engine.lint import CHECKS, LintReport, lint
from tests.conftest import run_cli

MINI = Path(__file__).parent / "fixtures" / "mini_kb"

Write = Callable[[dict[str, str]], Path]

EXPECTED_CHECKS = {
    # judged while loading
    "yaml", "schema", "duplicate_id", "unknown_reference", "type_mismatch", "value_out_of_type",
    "kind_mismatch", "certainty_range", "cycle", "justification", "missing_action", "cluster_size",
    "too_complex", "reserved_word", "empty_file", "empty_layer",
    # lint checks, switchable per entry
    "never_fires", "dead_branch", "unreachable_conclusion", "band_order", "red_flag_band",
    "red_flag_action", "band_mismatch", "no_source", "no_evidence", "evidence_level",
    "unused_finding", "unused_muscle", "unused_recommendation", "unused_source", "subsumed",
    "stretch_and_strengthen", "disabled_red_flag_rule", "withheld_advice", "overdue_review",
    "deprecated_in_use",
    # about the switches themselves
    "bad_suppression", "unused_suppression",
}

RULE = """
  - id: {id}
    title: A test rule
    band: {band}
    when:
{when}
    then:
      {kind}: {concludes}
      certainty: {cf}
      because: Because.
    sources: [guide]
    evidence: high
"""


def rule(id: str, when: str, concludes: str = "sciatica", kind: str = "condition",
         band: str = "", cf: float = 0.5) -> str:
    body = textwrap.indent(textwrap.dedent(when).strip("\n"), "      ")
    return RULE.format(id=id, band=band or kind, when=body, kind=kind, concludes=concludes, cf=cf)


def lint_with(write_files: Write, text: str, *checks: str) -> LintReport:
    folder = write_files({"clinic.yaml": text})
    return lint(load_layers((MINI, folder)), only=checks or None)


def lines(report: LintReport) -> list[str]:
    """Problems as rendered, with the temp folder cut off the path."""
    out = []
    for p in report.problems:
        text = f"{p.render(with_severity=True)} [{p.code}]"
        out.append(text[text.index("layer/"):] if "layer/" in text else text)
    return out


def test_registry_holds_exactly_the_documented_checks() -> None:
    assert set(CHECKS) == EXPECTED_CHECKS
    for cid, check in CHECKS.items():
        assert check.id == cid and check.description.endswith(".") and check.severity in (
            "error", "warning")
    assert not CHECKS["schema"].switchable() and CHECKS["subsumed"].switchable()
    assert not CHECKS["unused_suppression"].switchable()


def test_mini_kb_lints_clean() -> None:
    report = lint(load_layers((MINI,)))
    assert report.problems == ()
    assert report.exit_code == 0
    assert set(report.checks_run) == {c for c, k in CHECKS.items() if k.stage == "lint"}
    assert report.summary() == ("kb lint: no problems in 3 files (4 rules, 6 findings, "
                                "4 conclusions, 4 tests)")


def test_shipped_kb_has_no_lint_errors_and_only_known_codes() -> None:
    """The full shipped KB must lint clean (`imbalance kb lint`); whatever it reports while it
    grows, every code is a registered check and nothing is an error."""
    report = lint(load_layers((shipped_kb_dir(),)))
    assert report.loaded
    assert [p.render() for p in report.problems] == []


def test_shipped_kb_lints_clean_through_the_cli() -> None:
    proc = run_cli("kb", "lint")
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.startswith("kb lint: no problems in ")


def test_contradiction_names_both_premises_and_the_line(write_files: Write) -> None:
    report = lint_with(write_files, "rules:" + rule("hot_and_cold", """
        - fever: true
        - back_pain: true
        - fever: false
    """), "never_fires")
    assert lines(report) == [
        "layer/clinic.yaml:8: error: rule 'hot_and_cold' can never fire: 'fever = true' (line 6) "
        "and 'fever = false' cannot both hold (every premise of a rule must be able to hold at "
        "the same time) [never_fires]"]
    assert report.exit_code == 1


@pytest.mark.parametrize(("when", "why"), [
    ("- weeks: {gt: 60, lt: 40}", "'weeks > 60' (line 6) and 'weeks < 40' cannot both hold"),
    ("- weeks: {gt: 104}", "'weeks > 104' can never hold; 'weeks' takes a number from 0 to 104 weeks"),
    ("- sport: {in: [running]}\n- sport: cycling",
     "'sport in [running]' (line 6) and 'sport = cycling' cannot both hold"),
    ("- leg_pain: left\n- not: {leg_pain: true}",
     "'leg_pain = left' (line 6) and 'not leg_pain = true' cannot both hold"),
    ("- concluded: sciatica\n  min_certainty: 0.9",
     "'sciatica' reaches at most certainty 0.50, below min_certainty 0.9"),
    ("- at_least: 2\n  of:\n    - fever: true\n    - fever: false\n    - back_pain: true\n"
     "- back_pain: false", "none of its 3 alternatives can hold"),
])
def test_impossible_conditions(write_files: Write, when: str, why: str) -> None:
    report = lint_with(write_files, "rules:" + rule("never", when, "chronic_pain"), "never_fires")
    assert len(report.problems) == 1
    assert f"rule 'never' can never fire: {why}" in report.problems[0].message


def test_possible_conditions_are_not_reported(write_files: Write) -> None:
    """Sided left and right both hold for 'bilateral'; ranges that touch are satisfiable."""
    report = lint_with(write_files, "rules:" + rule("fine", """
        - leg_pain: left
        - leg_pain: right
        - weeks: {ge: 12, le: 12}
        - not: {concluded: chronic_pain}
    """, "weakness", "cause"), "never_fires", "dead_branch")
    assert report.problems == ()


def test_reading_a_conclusion_nobody_reaches(write_files: Write) -> None:
    text = """
conditions:
  - {id: orphan, label: Orphan}
rules:""" + rule("reads_orphan", "- concluded: orphan", "weakness", "cause")
    report = lint_with(write_files, text, "never_fires", "unreachable_conclusion")
    assert lines(report) == [
        "layer/clinic.yaml:2: warning: condition 'orphan' can never be reached: no rule concludes "
        "it (add a rule with 'condition: orphan', or remove it) [unreachable_conclusion]",
        "layer/clinic.yaml:8: error: rule 'reads_orphan' can never fire: no rule concludes "
        "'orphan' (every premise of a rule must be able to hold at the same time) [never_fires]",
    ]


def test_conclusion_reached_only_by_a_dead_rule(write_files: Write) -> None:
    text = "conditions:\n  - {id: dead_end, label: Dead end}\nrules:" + rule(
        "dead", "- fever: true\n- fever: false", "dead_end")
    report = lint_with(write_files, text, "unreachable_conclusion")
    assert [p.message for p in report.problems] == [
        "condition 'dead_end' can never be reached: the rules concluding it can never fire ('dead')"]


def test_dead_branch_of_any(write_files: Write) -> None:
    report = lint_with(write_files, "rules:" + rule("branchy", """
        - fever: true
        - any:
            - back_pain: true
            - fever: false
    """), "dead_branch", "never_fires")
    assert lines(report) == [
        "layer/clinic.yaml:9: warning: this alternative of 'any' in rule 'branchy' can never hold: "
        "'fever = true' (line 6) and 'fever = false' cannot both hold (remove it or correct its "
        "values) [dead_branch]"]


def test_unused_vocabulary(write_files: Write) -> None:
    report = lint_with(write_files, """
findings:
  - {id: hot_knee, label: Hot knee, category: examination, type: boolean, question: Hot knee?}
  - {id: height, label: Height, category: patient, type: number, unit: cm, range: [40, 250],
     question: Height?}
muscles:
  - {id: calves, label: Calves}
recommendations:
  - {id: rest, kind: load_management, text: Rest.}
sources:
  - {id: unused_paper, citation: A paper, level: moderate}
""", "unused_finding", "unused_muscle", "unused_recommendation", "unused_source")
    assert [(p.location.line, p.code, p.message) for p in report.problems] == [
        (2, "unused_finding", "finding 'hot_knee' is used by no rule"),
        (6, "unused_muscle", "muscle 'calves' is stretched or strengthened by no rule"),
        (8, "unused_recommendation", "recommendation 'rest' is recommended by no rule"),
        (10, "unused_source", "source 'unused_paper' is cited by no rule or recommendation"),
    ]  # 'height' is a patient detail: exempt


def test_rules_need_a_source_and_an_evidence_level(write_files: Write) -> None:
    text = "rules:" + rule("bare", "- back_pain: true", "chronic_pain").replace(
        "    sources: [guide]\n    evidence: high\n", "    sources: []\n")
    report = lint_with(write_files, text, "no_source", "no_evidence")
    assert lines(report) == [
        "layer/clinic.yaml:2: error: rule 'bare' gives no evidence level (add 'evidence: ' with one "
        "of high, moderate, low, expert_opinion) [no_evidence]",
        "layer/clinic.yaml:2: error: rule 'bare' cites no source (add 'sources: [id]' naming an "
        "entry of a sources file (or a seed's file name)) [no_source]",
    ]


def test_evidence_stronger_than_sources(write_files: Write) -> None:
    text = "rules:" + rule("overclaims", "- back_pain: true", "chronic_pain").replace(
        "sources: [guide]", "sources: [blog]")
    report = lint_with(write_files, text, "evidence_level")
    assert [p.message for p in report.problems] == [
        "rule 'overclaims' claims evidence 'high' but its strongest source, 'blog', is "
        "'expert_opinion'"]


def test_red_flag_rules_belong_in_the_red_flag_band(write_files: Write) -> None:
    text = "rules:" + rule("late_flag", "- fever: true", "infection", "red_flag", band="condition") \
        + rule("early_condition", "- fever: true", "chronic_pain", band="red_flag")
    report = lint_with(write_files, text, "red_flag_band", "band_mismatch")
    assert [p.message for p in report.problems] == [
        "red-flag rule 'late_flag' is in band 'condition'; red flags must be judged before "
        "everything else",
        "rule 'early_condition' concludes condition 'chronic_pain' but is in band 'red_flag'",
        "rule 'early_condition' is in band 'red_flag' but concludes condition 'chronic_pain'",
    ]


def test_red_flag_without_an_action_for_its_urgency(write_files: Write) -> None:
    text = "rules:" + rule("soon_flag", "- fever: true", "infection", "red_flag").replace(
        "      because: Because.\n", "      urgency: soon\n")
    report = lint_with(write_files, text, "red_flag_action")
    assert [p.message for p in report.problems] == [
        "rule 'soon_flag' raises 'infection' as soon, but 'infection' has no action for soon; the "
        "emergency action would be shown"]
    assert "under 'action' of red flag 'infection'" in report.problems[0].suggestion


def test_red_flag_without_any_action_does_not_load(write_files: Write) -> None:
    report = lint_with(write_files, "red_flags:\n  - {id: new_flag, label: New, urgency: urgent}\n")
    assert not report.loaded
    assert [(p.code, p.message) for p in report.problems] == [
        ("missing_action", "red flag 'new_flag' is missing 'action': what to do now, in plain words")]


def test_subsumed_rule(write_files: Write) -> None:
    text = "rules:" + rule("older_sciatica", """
        - leg_pain: left
        - not: {fever: true}
        - age: {gt: 40}
    """, cf=0.5)
    report = lint_with(write_files, text, "subsumed")
    assert len(report.problems) == 1
    problem = report.problems[0]
    assert problem.message.startswith(
        "rule 'older_sciatica' is subsumed by rule 'sciatica_leg_pain' (")
    assert problem.message.endswith("its certainty 0.5 is not higher than 0.5")
    assert problem.location.line == 2


def test_more_certain_specific_rule_is_not_subsumed(write_files: Write) -> None:
    text = "rules:" + rule("confident", "- leg_pain: left\n- not: {fever: true}\n- age: {gt: 40}",
                           cf=0.7)
    assert lint_with(write_files, text, "subsumed").problems == ()


def test_repeated_rule_is_reported_once_on_the_later(write_files: Write) -> None:
    text = "rules:" + rule("again", "- not: {fever: true}\n- leg_pain: true")
    report = lint_with(write_files, text, "subsumed")
    assert [p.message.split(" (")[0] for p in report.problems] == [
        "rule 'again' repeats rule 'sciatica_leg_pain'"]


def test_band_order(write_files: Write) -> None:
    text = "rules:" + rule("reads_cause", "- concluded: weakness", "sciatica")
    report = lint_with(write_files, text, "band_order")
    assert [p.message for p in report.problems] == [
        "rule 'reads_cause' (band condition) reads 'weakness', which rule "
        "'weakness_in_older_chronic' concludes in the later band 'cause'; it fires before that "
        "support is in"]


def test_stretch_and_strengthen_the_same_muscle(write_files: Write) -> None:
    text = "rules:" + rule("mixed", "- back_pain: true", "chronic_pain").replace(
        "      because: Because.\n",
        "      because: Because.\n      stretch: [hams]\n      strengthen: [glutes, hams]\n")
    report = lint_with(write_files, text, "stretch_and_strengthen")
    assert [p.message for p in report.problems] == [
        "rule 'mixed' both stretches and strengthens 'hams'"]


def test_switching_a_check_off_with_a_reason(write_files: Write) -> None:
    text = "rules:" + rule("mixed", "- back_pain: true", "chronic_pain").replace(
        "      because: Because.\n",
        "      because: Because.\n      stretch: [hams]\n      strengthen: [hams]\n") + \
        "    lint:\n      stretch_and_strengthen: Eccentric loading lengthens and strengthens.\n"
    report = lint_with(write_files, text, "stretch_and_strengthen", "unused_suppression",
                       "bad_suppression")
    assert report.problems == ()
    assert [(s.issue.check, s.reason) for s in report.switched_off] == [
        ("stretch_and_strengthen", "Eccentric loading lengthens and strengthens.")]
    assert "1 issue switched off with a reason" in report.summary()
    assert report.lines(show_switched_off=True)[0].endswith(
        "switched off: rule 'mixed' both stretches and strengthens 'hams' [stretch_and_strengthen] "
        "because: Eccentric loading lengthens and strengthens.")


def test_switching_off_on_a_vocabulary_entry(write_files: Write) -> None:
    text = """
findings:
  - id: hot_knee
    label: Hot knee
    category: examination
    type: boolean
    question: Hot knee?
    lint: {unused_finding: Asked for the clinic's audit; no rule yet.}
"""
    report = lint_with(write_files, text, "unused_finding", "unused_suppression")
    assert report.problems == () and len(report.switched_off) == 1


def test_bad_and_unused_switches(write_files: Write) -> None:
    text = "rules:" + rule("switchy", "- back_pain: true\n- fever: false", "chronic_pain", cf=0.9) + \
        "    lint:\n      never_fire: typo\n      schema: nope\n      subsumed: not needed\n"
    report = lint_with(write_files, text)
    assert lines(report) == [
        "layer/clinic.yaml:2: error: rule 'switchy' switches off check 'schema', which cannot be "
        "switched off (fix the problem instead) [bad_suppression]",
        "layer/clinic.yaml:2: error: rule 'switchy' switches off unknown lint check 'never_fire' "
        "(did you mean 'never_fires'?) [bad_suppression]",
        "layer/clinic.yaml:2: warning: rule 'switchy' switches off 'subsumed', but that check "
        "finds nothing here (remove 'subsumed' from its 'lint:' mapping) [unused_suppression]",
    ]


def test_switch_without_reason_is_a_schema_error(write_files: Write) -> None:
    text = "rules:" + rule("switchy", "- back_pain: true", "chronic_pain") + \
        "    lint:\n      subsumed:\n"
    report = lint_with(write_files, text)
    assert not report.loaded
    assert lines(report) == [
        "layer/clinic.yaml:14: error: switching off check 'subsumed' in rule 'switchy' needs a "
        "reason (write 'subsumed: why it does not apply here') [schema]"]


def test_load_errors_are_reported_alone_in_lint_format(write_files: Write) -> None:
    text = "rules:" + rule("typo", "- fevr: true", "chronic_pain")
    report = lint_with(write_files, text)
    assert not report.loaded and report.exit_code == 1
    assert lines(report) == [
        "layer/clinic.yaml:6: error: unknown finding 'fevr' (did you mean 'fever'?) "
        "[unknown_reference]"]
    assert report.summary() == ("kb lint: 1 error; the knowledge base does not load, so the other "
                                "checks run once these are fixed")


def test_json_report_shape(write_files: Write) -> None:
    report = lint_with(write_files, "rules:" + rule("hot_and_cold", "- fever: true\n- fever: false"),
                       "never_fires")
    data = report.to_dict()
    assert data["ok"] is False and data["errors"] == 1 and data["warnings"] == 0
    (problem,) = data["problems"]
    assert problem["line"] == 7 and problem["check"] == "never_fires"
    assert problem["path"].endswith("layer/clinic.yaml") and problem["severity"] == "error"
