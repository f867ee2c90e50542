"""The safety policy in code: a referral-level red flag (urgent or emergency) leaves no exercise,
stretch or strengthen item anywhere in the output, whatever layer added it; the referral leads.

The property test writes random clinic layers that add exercise advice (through advice, condition
and cause rules, some reading the red flags themselves) to temporary folders, loads them with the
real loader, and assesses random cases against them.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.cases.case import Case
from engine.inference.reasoner import Reasoner
from engine.inference.safety import REFERRAL_URGENCIES, Withheld, apply_policy, gate
from engine.kb import model as m
from engine.kb.loader import load_layers, shipped_kb_dir
from engine.testing.casetests import exercise_given
from reports.html import report_html
from reports.markdown import render_markdown
from reports.text import render_text
from tests.conftest import run_cli

SHIPPED = load_layers((shipped_kb_dir(),)).kb
MARK = "Zqxlayer"  # in every layer text the patient could read, so outputs can be searched
BOOLEAN = sorted(f.id for f in SHIPPED.findings.values() if f.type in ("boolean", "sided"))
RED_FLAGS = sorted(c.id for c in SHIPPED.conclusions.values() if c.kind == "red_flag")
CONDITIONS = sorted(c.id for c in SHIPPED.conclusions.values() if c.kind == "condition")
# findings that raise referral-level flags on their own or together, so many cases refer
SERIOUS = ["saddle_anaesthesia", "bladder_dysfunction", "fever", "iv_drug_use", "major_trauma",
           "chest_pain", "arm_pain", "history_of_cancer", "progressive_neurological_deficit",
           "low_back_pain", "bilateral_leg_symptoms", "leg_pain_below_knee", "osteoporosis",
           "long_term_steroid_use", "minor_trauma", "unexplained_weight_loss", "night_pain"]


@st.composite
def layers(draw: st.DrawFn) -> str:
    """A clinic layer adding exercise-kind recommendations and muscles through several rules."""
    n_recs = draw(st.integers(1, 3))
    kinds = [draw(st.sampled_from(m.EXERCISE_KINDS)) for _ in range(n_recs)]
    recs = "".join(f"  - {{id: layer_rec_{i}, kind: {kind}, text: '{MARK} advice {i}.', "
                   "sources: [seed_001], evidence: low}\n" for i, kind in enumerate(kinds))
    muscles = f"  - {{id: layer_muscle, label: {MARK} muscle}}\n"
    rules = []
    for i in range(draw(st.integers(1, 4))):
        band = draw(st.sampled_from(["advice", "condition", "cause"]))
        trigger = draw(st.one_of(
            st.sampled_from(BOOLEAN).map(lambda f: f"{{{f}: true}}"),
            st.sampled_from(RED_FLAGS).map(lambda c: f"{{concluded: {c}}}"),
            st.sampled_from(CONDITIONS).map(lambda c: f"{{concluded: {c}}}")))
        if band != "advice" and trigger.startswith("{concluded"):
            band = "advice"  # conclusions are read in their own band or a later one
        then = {"recommend": f"[layer_rec_{draw(st.integers(0, n_recs - 1))}]",
                "stretch": draw(st.sampled_from(["[layer_muscle]", "[hamstrings]", "[]"])),
                "strengthen": draw(st.sampled_from(["[layer_muscle]", "[gluteus_maximus]", "[]"]))}
        if band == "condition":
            then["condition"] = "layer_condition"
        elif band == "cause":
            then["cause"] = "layer_cause"
        if band != "advice":
            then.update(certainty="0.6", because="Layer rule.")
        body = ", ".join(f"{k}: {v}" for k, v in then.items())
        rules.append(f"  - {{id: layer_rule_{i}, title: Layer rule {i}, band: {band}, "
                     f"when: [{trigger}], then: {{{body}}}, sources: [seed_001], evidence: low}}\n")
    return ("knowledge_base: {name: clinic, version: '1'}\n"
            "conditions:\n  - {id: layer_condition, label: Layer condition}\n"
            "causes:\n  - {id: layer_cause, label: Layer cause}\n"
            f"muscles:\n{muscles}recommendations:\n{recs}rules:\n{''.join(rules)}")


cases = st.fixed_dictionaries({}, optional={
    **{fid: st.sampled_from([True, False]) for fid in SERIOUS},
    **{fid: st.just(True) for fid in BOOLEAN[::5]},
    "age": st.integers(18, 90)})


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layer=layers(), findings=st.lists(cases, min_size=1, max_size=6))
def test_no_exercise_anywhere_with_a_referral_level_flag(layer: str, findings: list[dict[str, Any]]) \
        -> None:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "clinic.yaml").write_text(layer)
        loaded = load_layers((shipped_kb_dir(), folder))
    assert loaded.errors == [], [p.render() for p in loaded.errors]
    reasoner = Reasoner(loaded.kb)
    rendered = False
    for case_findings in findings:
        patient = {"age": case_findings.pop("age")} if "age" in case_findings else {}
        result = reasoner.assess(Case("case.yaml", patient, case_findings))
        data = result.to_dict()
        referral = [f["id"] for f in data["red_flags"] if f["urgency"] in REFERRAL_URGENCIES]
        if not referral:
            assert data["withheld"]["because"] == []
            continue
        kinds = {r["id"]: r["kind"] for r in data["recommendations"]}
        assert set(kinds.values()) <= set(m.REFERRAL_KINDS), kinds
        assert data["muscles"] == {"stretch": [], "strengthen": []}
        assert data["recommendations"][0]["id"] == f"act_now_{data['red_flags'][0]['id']}"
        assert data["withheld"]["because"] == referral
        assert exercise_given(result) == []
        assert json.loads(json.dumps(data)) == data
        if not rendered:  # the outputs a person reads: one per layer keeps the test quick
            rendered = True
            for text in (render_text(result, color=False), render_markdown(result, reasoner),
                         report_html(result, reasoner)):
                words = " ".join(text.replace("\n  ! ", " ").split())
                assert f"{MARK} advice" not in words.split("Recommendations", 1)[-1]
                assert "advice is withheld until the red flag is cleared" in words
            assert f"{MARK} muscle" not in render_text(result, color=False)


def test_the_policy_also_gates_items_built_later() -> None:
    """`gate` is the one gate: anything made from recommendations (the plan) passes through it."""

    class Item:
        def __init__(self, ident: str, kind: str) -> None:
            self.id, self.kind = ident, kind

    class Flag:
        def __init__(self, urgency: str) -> None:
            self.id, self.urgency = "flag", urgency

    items = [Item("bridge", "strengthen"), Item("net", "safety_net"), Item("go", "referral"),
             Item("load", "load_management")]
    assert [i.id for i in gate(items, [Flag("emergency")])] == ["go", "net"]
    assert [i.id for i in gate(items, [Flag("urgent")])] == ["go", "net"]
    assert [i.id for i in gate(items, [Flag("soon")])] == ["go", "bridge", "net", "load"]
    assert [i.id for i in gate(items, [])] == ["go", "bridge", "net", "load"]
    _, stretch, strengthen, withheld = apply_policy([Flag("urgent")], items, ["calves"], ["quads"])
    assert (stretch, strengthen) == ((), ())
    assert withheld == Withheld(("flag",), ("bridge", "load"), ("calves",), ("quads",))
    _, stretch, _, withheld = apply_policy([Flag("soon")], items, ["calves"], [])
    assert stretch == ("calves",) and not withheld


ACT_NOW_LAYER = """knowledge_base: {name: clinic, version: '1'}
recommendations:
  - {id: act_now_call_the_team, kind: referral, text: Call the spinal team., sources: [seed_002],
     evidence: expert_opinion}
rules:
  - id: clinic_call_team
    title: Cauda equina, also call the team
    band: advice
    when: [{concluded: cauda_equina_syndrome}]
    then: {recommend: [act_now_call_the_team]}
    sources: [seed_002]
    evidence: expert_opinion
"""


def test_a_layer_recommendation_named_act_now_does_not_crash_assess(tmp_path: Path) -> None:
    (tmp_path / "clinic.yaml").write_text(ACT_NOW_LAYER)
    proc = run_cli("--kb", str(tmp_path), "assess", "examples/cases/cauda_equina_emergency.yaml",
                   "--format", "json")
    assert proc.returncode == 0, proc.stderr
    recs = json.loads(proc.stdout)["recommendations"]
    assert (recs[0]["id"], recs[0]["kind"]) == ("act_now_cauda_equina_syndrome", "referral")
    assert {"id": "act_now_call_the_team", "kind": "referral",
            "text": "Call the spinal team."}.items() <= next(
        r for r in recs if r["id"] == "act_now_call_the_team").items()


def test_the_engine_referral_ids_are_reserved(tmp_path: Path) -> None:
    (tmp_path / "clinic.yaml").write_text(ACT_NOW_LAYER.replace("act_now_call_the_team",
                                                                "act_now_spinal_infection"))
    proc = run_cli("--kb", str(tmp_path), "assess", "examples/cases/cauda_equina_emergency.yaml")
    assert proc.returncode == 2
    assert f"{tmp_path}/clinic.yaml:3: recommendation id 'act_now_spinal_infection' is reserved" \
        in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_recommendation_without_a_kind_does_not_load(tmp_path: Path) -> None:
    (tmp_path / "clinic.yaml").write_text(
        "recommendations:\n  - {id: clinic_walk, text: Walk., sources: [seed_001], evidence: low}\n")
    proc = run_cli("--kb", str(tmp_path), "kb", "lint")
    assert proc.returncode == 1
    assert f"{tmp_path}/clinic.yaml:2: error: recommendation 'clinic_walk' is missing 'kind'" \
        in proc.stdout


CES_GLUTES = """knowledge_base: {name: clinic, version: '1'}
rules:
  - id: clinic_ces_glutes
    title: Cauda equina, keep the glutes strong
    band: advice
    when: [{concluded: cauda_equina_syndrome}]
    then: {strengthen: [gluteus_maximus], recommend: [glute_bridge]}
    sources: [seed_001]
    evidence: expert_opinion
  - id: clinic_cord_glutes
    title: Cord compression, keep the glutes strong
    band: advice
    when: [{concluded: spinal_cord_compression}]
    then: {strengthen: [gluteus_maximus], recommend: [glute_bridge]}
    sources: [seed_001]
    evidence: expert_opinion
"""


def test_a_layer_strengthening_glutes_in_a_ces_emergency_is_withheld_and_warned(tmp_path: Path) \
        -> None:
    """Issue 11: a clinic rule added 'strengthen gluteus maximus' to a cauda equina emergency and
    `kb lint` was clean. Now the output never has it, and lint warns."""
    (tmp_path / "clinic.yaml").write_text(CES_GLUTES)
    data = json.loads(run_cli("--kb", str(tmp_path), "assess",
                              "examples/cases/cauda_equina_emergency.yaml", "--format", "json").stdout)
    assert "clinic_ces_glutes" in data["fired_rules"]
    assert data["muscles"] == {"stretch": [], "strengthen": []}
    assert "glute_bridge" not in [r["id"] for r in data["recommendations"]]
    assert data["withheld"]["strengthen"] == ["gluteus_maximus"]
    assert "glute_bridge" in data["withheld"]["recommendations"]
    # Cauda equina can also be raised at 'soon' (stable bilateral symptoms: a safety net, not a
    # referral), so advice reading it is not always withheld; cord compression is always an
    # emergency, so advice reading it always is, and lint says so.
    lint = run_cli("--kb", str(tmp_path), "kb", "lint")
    assert lint.returncode == 1
    assert f"{tmp_path}/clinic.yaml:10: warning: rule 'clinic_cord_glutes' fires only with red flag " \
        "'spinal_cord_compression', which calls for referral, so the safety policy always withholds " \
        "strengthen gluteus_maximus, glute_bridge" in lint.stdout


def test_the_policy_is_what_withholds_the_advice(monkeypatch: Any) -> None:
    """Without the policy the same shipped KB would advise exercise in an emergency: the guard is
    the code, not the rules."""
    import engine.inference.assessment as assessment

    case = Case("case.yaml", {}, {"saddle_anaesthesia": True, "low_back_pain": True,
                                  "weak_core": True, "tight_hamstrings": True})
    reasoner = Reasoner(SHIPPED)
    assert exercise_given(reasoner.assess(case)) == []
    monkeypatch.setattr(assessment, "apply_policy",
                        lambda red, recs, s, t: (list(recs), tuple(s), tuple(t), Withheld()))
    assert exercise_given(reasoner.assess(case)) != []
