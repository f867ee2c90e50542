"""HOW, WHY NOT and WHAT IF, through the Explainer and through `imbalance explain`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cases.case import Case, load_case
from engine.explain.explainer import (
    CONTRADICTED,
    SATISFIED,
    UNKNOWN,
    Explainer,
)
from engine.inference.reasoner import Reasoner
from engine.kb.loader import load_kb
from engine.kb.model import KnowledgeBase
from engine.wording import answer_text, cond_phrase
from reports.explanation import explanation_dict, render_explanation
from tests.conftest import ROOT, run_cli
from tests.report_fixtures import FULL, PARTIAL, RED, case_yaml, write_layer

EXAMPLES = sorted((ROOT / "examples" / "cases").glob("*.yaml"))


@pytest.fixture(scope="module")
def layer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_layer(tmp_path_factory.mktemp("layer"))


@pytest.fixture(scope="module")
def layer_kb(layer_dir: Path) -> KnowledgeBase:
    return load_kb((layer_dir,))


@pytest.fixture(scope="module")
def layer_reasoner(layer_kb: KnowledgeBase) -> Reasoner:
    return Reasoner(layer_kb)


def explainer(reasoner: Reasoner, findings: dict[str, object]) -> Explainer:
    return Explainer(reasoner.assess(Case("t", {}, dict(findings))), reasoner)


# --- HOW -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_how_matches_the_trace_for_every_reached_conclusion(path: Path, kb, reasoner) -> None:
    result = reasoner.assess(load_case(str(path), kb))
    ex = Explainer(result, reasoner)
    for reached in (*result.red_flags, *result.conditions, *result.causes):
        support = ex.how(reached.id)
        assert support is not None
        assert support.certainty == pytest.approx(reached.certainty)
        assert [s.rule.id for s in support.steps] == list(reached.rules)
        events = {e.rule.id: e for e in result.events}
        for step in support.steps:
            assert step.contribution == pytest.approx(events[step.rule.id].contribution)
            assert dict(step.findings) == dict(events[step.rule.id].matched)


def test_how_follows_chains_through_earlier_conclusions(layer_reasoner) -> None:
    support = explainer(layer_reasoner, FULL).how("t_chained")
    assert support is not None
    (step,) = support.steps
    assert step.rule.id == "t_chain_rule"
    assert step.findings == (("t_hours", 9),)
    (inner, cf), = step.used
    assert inner.conclusion.id == "t_cond" and cf == pytest.approx(0.6)
    assert [s.rule.id for s in inner.steps] == ["t_cond_rule"]
    assert step.premise_cf == pytest.approx(0.6) and step.contribution == pytest.approx(0.3)
    assert [r.id for r in support.rules()] == ["t_chain_rule", "t_cond_rule"]


def test_how_is_none_when_not_reached(layer_reasoner) -> None:
    assert explainer(layer_reasoner, PARTIAL).how("t_cond") is None


# --- WHY NOT -------------------------------------------------------------------------------------


def test_why_not_marks_each_premise(layer_reasoner) -> None:
    ex = explainer(layer_reasoner, {"t_sign_a": True, "t_alarm": True, "t_sign_b": False})
    why = ex.why_not("t_cond")
    assert not why.reached
    (miss,) = why.near_misses
    assert [(p.text, p.status) for p in miss.premises] == [
        ("Test sign A", SATISFIED), ("Test sign B", CONTRADICTED)]
    assert miss.blocked
    cause = ex.why_not("t_cause").near_misses[0]
    assert [(p.text, p.status) for p in cause.premises] == [
        ("Test sign A", SATISFIED), ("no test alarm symptom", CONTRADICTED)]


def test_unknown_is_not_asked_and_nearest_rule_first(layer_reasoner, layer_dir, tmp_path) -> None:
    extra = """
  - id: t_cond_far
    title: Sign B, long hours and the alarm symptom also suggest the test condition
    band: condition
    when:
      - t_sign_b: true
      - t_hours: {gt: 10}
      - t_alarm: true
    then:
      condition: t_cond
      certainty: 0.3
      because: A weaker, longer route.
    sources: [seed_003]
    evidence: low
"""
    kb2 = load_kb((write_layer(tmp_path / "layer2", extra),))
    reasoner2 = Reasoner(kb2)
    ex = explainer(reasoner2, {"t_sign_a": True, "t_hours": 4})
    why = ex.why_not("t_cond")
    assert [m.rule.id for m in why.near_misses] == ["t_cond_rule", "t_cond_far"]
    near, far = why.near_misses
    assert [p.status for p in near.premises] == [SATISFIED, UNKNOWN]
    assert near.premises[1].unknown == ("t_sign_b",)
    assert [p.status for p in far.premises] == [UNKNOWN, CONTRADICTED, UNKNOWN]
    assert far.premises[1].given == (("t_hours", 4),)


def test_concluded_premise_is_unknown_while_it_can_still_be_reached(layer_reasoner) -> None:
    miss = explainer(layer_reasoner, PARTIAL).why_not("t_chained").near_misses[0]
    assert [p.status for p in miss.premises] == [UNKNOWN, UNKNOWN]
    blocked = explainer(layer_reasoner, {"t_sign_a": True, "t_sign_b": False, "t_hours": 9})
    assert [p.status for p in blocked.why_not("t_chained").near_misses[0].premises] == [
        CONTRADICTED, SATISFIED]


def test_strongest_near_misses_are_open_and_partly_met(layer_reasoner) -> None:
    ex = explainer(layer_reasoner, PARTIAL)
    shown = [w.conclusion.id for w in ex.strongest_near_misses(limit=10)]
    assert {"t_flag", "t_cond", "t_cause"} <= set(shown)
    assert "t_chained" not in shown  # nothing of it satisfied yet
    for why in ex.strongest_near_misses(limit=10):
        assert not why.reached or why.certainty < 0.35


# --- WHAT IF -------------------------------------------------------------------------------------


def test_what_if_finds_answers_that_change_triage_or_add_a_condition(layer_reasoner) -> None:
    ex = explainer(layer_reasoner, PARTIAL)
    found = {(w.finding.id, w.value): w for w in ex.what_if()}
    alarm = found[("t_alarm", True)]
    assert alarm.triage_before == "routine" and alarm.triage_after == "urgent"
    assert [g.conclusion.id for g in alarm.gains] == ["t_flag"]
    assert alarm.rules == ("t_flag_rule",)
    sign_b = found[("t_sign_b", True)]
    assert not sign_b.changes_triage and [g.conclusion.id for g in sign_b.gains] == ["t_cond"]
    assert ("t_alarm", False) not in found  # adds only a cause: neither triage nor a condition
    ours = [k for k in found if k[0].startswith("t_")]
    assert ours.index(("t_alarm", True)) < ours.index(("t_sign_b", True))  # triage changes first


def test_what_if_is_bounded_and_reuses_one_reasoner(layer_reasoner, monkeypatch) -> None:
    ex = explainer(layer_reasoner, PARTIAL)
    assert {f.id for f, _ in ex.relevant_unknowns()} == {"t_alarm", "t_sign_b"}  # shown as unknown
    relevant = {f.id for f, _ in ex.relevant_unknowns(screening=True)}  # + open red-flag questions
    assert {"t_alarm", "t_sign_b"} <= relevant and "t_hours" not in relevant
    tried: list[dict[str, object]] = []
    original = layer_reasoner.run

    def spy(facts: dict[str, object]):  # type: ignore[no-untyped-def]
        tried.append(dict(facts))
        return original(facts)

    monkeypatch.setattr(layer_reasoner, "run", spy)
    ex.what_if()
    assert tried, "WHAT IF must re-run the case"
    for facts in tried:
        (added,) = set(facts) - set(PARTIAL)
        assert added in relevant
    assert not any("t_hours" in facts for facts in tried)
    assert ("t_sign_b", False) not in {(k, v) for facts in tried for k, v in facts.items()
                                       if k not in PARTIAL}  # no rule would hold: not re-run


def test_what_if_on_a_red_flag_case_leaves_the_assessment_untouched(layer_reasoner) -> None:
    result = layer_reasoner.assess(Case("t", {}, dict(RED)))
    before = result.to_dict()
    Explainer(result, layer_reasoner).what_if()
    assert result.to_dict() == before


def test_describe_reads_like_a_sentence(layer_kb) -> None:
    rule = layer_kb.rule("t_chain_rule")
    assert rule is not None
    assert cond_phrase(layer_kb, rule.when) == ("all of: Test condition suggested; "
                                             "Test hours at least 8 hours per day")
    assert answer_text(layer_kb.findings["t_hours"], 1) == "1 hour per day"


# --- the command -------------------------------------------------------------------------------


def test_explain_how_text(layer_dir, tmp_path) -> None:
    case = tmp_path / "case.yaml"
    case.write_text(case_yaml(FULL), encoding="utf-8")
    proc = run_cli("--kb", str(layer_dir), "explain", str(case), "t_chained")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Test chained condition (t_chained, condition): reached" in out
    assert "HOW" in out and "t_chain_rule" in out and "t_cond_rule" in out  # the whole chain
    assert "0.50 x 0.60 = +0.30" in out
    assert "Sources" in out and "Seed 003" in out
    assert "not a probability" in out and "\x1b[" not in out


def test_explain_why_not_text_and_json(layer_dir, tmp_path) -> None:
    case = tmp_path / "case.yaml"
    case.write_text(case_yaml(PARTIAL), encoding="utf-8")
    proc = run_cli("--kb", str(layer_dir), "explain", str(case), "t_flag")
    assert proc.returncode == 0, proc.stderr
    assert "not reached" in proc.stdout and "WHY NOT" in proc.stdout
    assert "satisfied     Test sign A" in proc.stdout
    assert "unknown       Test alarm symptom (not asked)" in proc.stdout
    assert "ask about: Test alarm symptom" in proc.stdout
    kb2 = load_kb((layer_dir,))
    reasoner2 = Reasoner(kb2)
    data = explanation_dict(explainer(reasoner2, PARTIAL), "t_flag")
    assert data["reached"] is False and data["how"] == []
    (miss,) = data["why_not"]
    assert miss["rule"] == "t_flag_rule"
    assert [p["status"] for p in miss["premises"]] == ["unknown", "satisfied"]


def test_explain_json_how(layer_dir, tmp_path) -> None:
    case = tmp_path / "case.yaml"
    case.write_text(case_yaml(FULL), encoding="utf-8")
    data = json.loads(run_cli("--kb", str(layer_dir), "explain", str(case), "t_chained",
                              "--format", "json").stdout)
    assert data["reached"] and data["certainty"] == pytest.approx(0.3)
    (step,) = data["how"]
    assert step["uses"][0]["conclusion"] == "t_cond"
    assert step["uses"][0]["how"][0]["rule"] == "t_cond_rule"
    assert step["sources"][0]["id"] == "seed_003"


def test_explain_red_flag_example_shows_the_action(kb, reasoner) -> None:
    red = [p for p in EXAMPLES if reasoner.assess(load_case(str(p), kb)).red_flags]
    assert red, "the examples must include a case that raises a red flag"
    flag = reasoner.assess(load_case(str(red[0]), kb)).red_flags[0]
    proc = run_cli("explain", str(red[0]), flag.id)
    assert proc.returncode == 0
    assert "reached" in proc.stdout.splitlines()[0] and "Do now:" in proc.stdout
    assert all(rule in proc.stdout for rule in flag.rules)
    text = render_explanation(Explainer(reasoner.assess(load_case(str(red[0]), kb)), reasoner), flag.id,
                              color=False)
    assert text == proc.stdout


def test_explain_unknown_conclusion_exits_2() -> None:
    proc = run_cli("explain", str(EXAMPLES[0]), "cauda_equina_syndrom")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ")
    assert ("unknown conclusion 'cauda_equina_syndrom' (did you mean 'cauda_equina_syndrome'?)"
            in proc.stderr)
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_explain_bad_case_exits_2(tmp_path) -> None:
    proc = run_cli("explain", str(tmp_path / "missing.yaml"), "sciatica")
    assert proc.returncode == 2 and "does not exist" in proc.stderr


def test_findings_of_an_already_satisfied_premise_are_not_worth_asking(tmp_path) -> None:
    extra = """
  - id: t_any_rule
    title: Sign A or very long hours, with sign B
    band: condition
    when:
      - any:
          - t_sign_a: true
          - t_hours: {gt: 20}
      - t_sign_b: true
    then:
      condition: t_cond
      certainty: 0.2
      because: Either route with sign B.
    sources: [seed_003]
    evidence: low
"""
    reasoner2 = Reasoner(load_kb((write_layer(tmp_path / "layer", extra),)))
    ex = explainer(reasoner2, PARTIAL)
    premise = ex.near_miss(ex.kb.rule("t_any_rule")).premises[0]  # type: ignore[arg-type]
    assert premise.status == SATISFIED and premise.unknown == ("t_hours",)
    assert {f.id for f, _ in ex.relevant_unknowns()} == {"t_alarm", "t_sign_b"}
