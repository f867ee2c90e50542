"""The red-flag screen notice (engine/inference/screen.py): unknown is not 'no'.

A case that records no red-flag answer must say that the screen was never done, in every output;
a case that answered the key negatives must not be nagged. Checked on the shipped KB through the
function, hypothesis properties, and the real console script (JSON, text, markdown, HTML, batch).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.cases.case import Case
from engine.inference.assessment import Assessment
from engine.inference.reasoner import Reasoner
from engine.inference.screen import applies, red_flag_screen
from engine.kb import model as m
from engine.kb.model import KnowledgeBase
from engine.kb.sites import site_findings
from tests.conftest import ROOT, run_script
from tests.fhir_support import value_strategy

# a routine back case whose clinician asked the whole screen and recorded each answer
SCREENED_BACK: dict[str, Any] = {
    "low_back_pain": True, "pain_duration_weeks": 3, "saddle_anaesthesia": False,
    "bladder_dysfunction": False, "bowel_dysfunction": False, "sexual_dysfunction": False,
    "bilateral_leg_symptoms": False, "progressive_neurological_deficit": False,
    "gait_disturbance": False, "multilevel_neurological_deficit": False, "fever": False,
    "systemically_unwell": False, "recent_infection": False, "urinary_tract_infection": False,
    "iv_drug_use": False, "immunosuppression": False, "organ_transplant": False,
    "history_of_cancer": False, "unexplained_weight_loss": False, "night_pain": False,
    "constant_progressive_pain": False, "major_trauma": False, "minor_trauma": False,
    "back_contusion_or_abrasion": False, "osteoporosis": False, "long_term_steroid_use": False,
    "pulsatile_abdominal_mass": False,
}
ADULT = {"age": 45, "sex": "male"}


def assess(reasoner: Reasoner, findings: dict[str, Any],
           patient: dict[str, Any] | None = None) -> Assessment:
    return reasoner.assess(Case("test", dict(patient or {}), dict(findings)))


def unanswered(result: Assessment) -> dict[str, tuple[str, ...]]:
    return {u.red_flag: u.findings for u in result.screen.unanswered}


# --- what the screen is ---------------------------------------------------------------------------


def test_back_pain_alone_lists_the_spinal_screen_and_reads_incomplete(reasoner: Reasoner) -> None:
    result = assess(reasoner, {"low_back_pain": True})
    assert result.triage == "routine" and not result.screen.complete
    open_flags = unanswered(result)
    assert {"saddle_anaesthesia", "bladder_dysfunction", "bowel_dysfunction",
            "sexual_dysfunction"} <= set(open_flags["cauda_equina_syndrome"])
    assert {"fever", "iv_drug_use"} <= set(open_flags["spinal_infection"])
    assert "history_of_cancer" in open_flags["spinal_malignancy"]
    assert "major_trauma" in open_flags["spinal_fracture"]
    assert "pulsatile_abdominal_mass" in open_flags["abdominal_aortic_aneurysm"]  # a back site
    assert "cardiac_event" not in open_flags and "hamstring_avulsion" not in open_flags
    # most urgent first, the general screen before a site's own flags within a level
    assert result.screen.unanswered[0].red_flag == "cauda_equina_syndrome"


def test_no_site_at_all_gets_the_general_screen_only(kb: KnowledgeBase, reasoner: Reasoner) -> None:
    result = assess(reasoner, {})
    flags = set(unanswered(result))
    general = {c.id for c in kb.conclusions.values() if c.kind == "red_flag" and not c.sites}
    assert flags == general
    assert {"cauda_equina_syndrome", "spinal_infection", "spinal_fracture",
            "spinal_malignancy", "spinal_cord_compression"} <= flags


@pytest.mark.parametrize(("site", "flag", "question"), [
    ("neck_pain", "cardiac_event", "chest_pain"),
    ("arm_pain", "cardiac_event", "chest_pain"),
    ("groin_pain", "abdominal_aortic_aneurysm", "pulsatile_abdominal_mass"),
    ("posterior_thigh_pain", "hamstring_avulsion", "palpable_hamstring_gap"),
])
def test_a_site_adds_its_own_red_flags(reasoner: Reasoner, site: str, flag: str,
                                       question: str) -> None:
    assert question in unanswered(assess(reasoner, {site: True}))[flag]
    assert flag not in unanswered(assess(reasoner, {}))


def test_a_screened_routine_back_case_is_complete(reasoner: Reasoner) -> None:
    result = assess(reasoner, SCREENED_BACK, ADULT)
    assert result.triage == "routine"
    assert result.screen.complete and result.screen.to_dict() == {"complete": True, "unanswered": []}
    # one key negative left out: exactly that question comes back, under its flag
    less = {k: v for k, v in SCREENED_BACK.items() if k != "saddle_anaesthesia"}
    assert unanswered(assess(reasoner, less, ADULT)) == {
        "cauda_equina_syndrome": ("saddle_anaesthesia",)}


def test_a_red_flag_found_is_not_unscreened(reasoner: Reasoner) -> None:
    result = assess(reasoner, {"low_back_pain": True, "saddle_anaesthesia": True})
    assert result.triage == "emergency"
    assert "cauda_equina_syndrome" not in unanswered(result)
    assert "spinal_infection" in unanswered(result)  # the rest of the screen is still asked for


def test_pain_sites_are_never_listed(kb: KnowledgeBase, reasoner: Reasoner) -> None:
    sites = site_findings(kb)
    for findings in ({}, {"low_back_pain": True}, {"neck_pain": True}, {"bladder_dysfunction": False}):
        assert not sites & set(assess(reasoner, findings).screen.findings)


# --- properties -----------------------------------------------------------------------------------


def _values(kb: KnowledgeBase, fid: str) -> st.SearchStrategy[Any]:
    return value_strategy(kb.findings[fid])


def _screen_findings(kb: KnowledgeBase) -> list[str]:
    """Every finding a red-flag rule reads, and the pain sites (they scope the screen)."""
    read = {f for rule in kb.rules if rule.kind == "red_flag" for f in rule.findings_used()}
    return sorted((read | site_findings(kb)) & set(kb.findings))


@st.composite
def cases(draw: st.DrawFn, kb: KnowledgeBase) -> dict[str, Any]:
    pool = _screen_findings(kb)
    chosen = draw(st.lists(st.sampled_from(pool), unique=True, max_size=12))
    return {fid: draw(_values(kb, fid)) for fid in chosen}


def _split(kb: KnowledgeBase, facts: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    patient = {k: facts[k] for k in ("age", "sex") if k in facts}
    return {k: v for k, v in facts.items() if k not in patient}, patient


PROPERTY = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@PROPERTY
@given(data=st.data())
def test_answering_every_listed_question_screens_the_flag(kb: KnowledgeBase, reasoner: Reasoner,
                                                          data: st.DataObject) -> None:
    facts = data.draw(cases(kb))
    result = assess(reasoner, *_split(kb, facts))
    for item in result.screen.unanswered:
        answers = {fid: data.draw(_values(kb, fid)) for fid in item.findings}
        after = assess(reasoner, *_split(kb, {**facts, **answers}))
        raised = {r.id for r in after.red_flags}
        assert item.red_flag in raised or item.red_flag not in unanswered(after), (facts, answers)


@PROPERTY
@given(data=st.data())
def test_an_answer_never_reopens_a_screened_flag(kb: KnowledgeBase, reasoner: Reasoner,
                                                 data: st.DataObject) -> None:
    facts = data.draw(cases(kb))
    fid = data.draw(st.sampled_from([f for f in _screen_findings(kb) if f not in facts]))
    before = assess(reasoner, *_split(kb, facts))
    after = assess(reasoner, *_split(kb, {**facts, fid: data.draw(_values(kb, fid))}))
    presentation = {s for s in site_findings(kb) if facts.get(s) not in (None, False)}
    raised = {r.id for r in before.red_flags}
    screened = {c.id for c in kb.conclusions.values() if c.kind == "red_flag"
                and applies(c, presentation) and c.id not in raised} - set(unanswered(before))
    reopened = screened & set(unanswered(after))
    assert not reopened, (facts, fid, reopened)
    # and no flag still unscreened gains a question it did not list before
    for flag, questions in unanswered(after).items():
        if flag in unanswered(before):
            assert set(questions) <= set(unanswered(before)[flag]), (facts, fid, flag)


@PROPERTY
@given(data=st.data())
def test_the_notice_never_changes_the_answer(kb: KnowledgeBase, reasoner: Reasoner,
                                             data: st.DataObject) -> None:
    findings, patient = _split(kb, data.draw(cases(kb)))
    plain = assess(reasoner, findings, patient)
    keys = ("triage", "red_flags", "conditions", "causes", "muscles", "recommendations", "plan",
            "review", "fired_rules")
    before = {k: v for k, v in plain.to_dict().items() if k in keys}  # to_dict reads the screen
    first = assess(reasoner, findings, patient)
    found_at = {r.id: r.urgency for r in first.red_flags}
    screen = red_flag_screen(kb, first.case.facts, found_at,
                             {r.id: r.certainty for r in (*first.red_flags, *first.conditions,
                                                          *first.causes)})
    assert screen == first.screen
    assert {k: v for k, v in first.to_dict().items() if k in keys} == before
    for item in screen.unanswered:
        # a flag found is listed only with questions that could make it more urgent
        assert item.raised_at == found_at.get(item.red_flag, "")
        if item.raised_at:
            assert m.urgency_rank(item.urgency) < m.urgency_rank(item.raised_at)
        assert item.findings and not set(item.findings) & set(first.case.facts)


# --- every output, through the installed command --------------------------------------------------


def _case(tmp_path: Path, findings: dict[str, Any], name: str = "case.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"findings": findings}), encoding="utf-8")
    return path


def test_json_and_batch_lines_carry_the_screen(tmp_path: Path) -> None:
    back = _case(tmp_path, {"low_back_pain": True})
    proc = run_script("assess", str(back), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["triage"] == "routine" and data["screen"]["complete"] is False
    first = data["screen"]["unanswered"][0]
    assert set(first) == {"red_flag", "urgency", "findings", "raised_at"}
    assert first["raised_at"] is None  # not found: the whole screen for it is unasked
    assert first["red_flag"] == "cauda_equina_syndrome" and "saddle_anaesthesia" in first["findings"]
    folder = tmp_path / "many"
    folder.mkdir()
    _case(folder, {"low_back_pain": True}, "a.json")
    (folder / "b.json").write_text(json.dumps(
        {"patient": ADULT, "findings": SCREENED_BACK}), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    proc = run_script("batch", str(folder), "-o", str(out), "-j", "1")
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(line["screen"]["complete"] for line in lines) == [False, True]


def test_text_markdown_and_html_say_it_under_the_triage(tmp_path: Path) -> None:
    back = _case(tmp_path, {"low_back_pain": True})
    text = run_script("assess", str(back)).stdout.splitlines()
    at = next(i for i, line in enumerate(text) if line.startswith("Triage: ROUTINE"))
    assert text[at + 1].strip().startswith("! Red-flag screen incomplete: not asked about")
    block = " ".join(text[at + 1:at + 20])
    assert "saddle anaesthesia" in block and "Unknown is not 'no'." in block
    assert "ask these questions before relying on ROUTINE" in block
    md = run_script("assess", str(back), "--format", "markdown").stdout
    assert md.index("**Triage: ROUTINE**") < md.index("Red-flag screen incomplete") \
        < md.index("## Conditions to consider")
    html_path = tmp_path / "r.html"
    assert run_script("report", str(back), "-o", str(html_path)).returncode == 0
    html = html_path.read_text(encoding="utf-8")
    assert html.index('id="triage"') < html.index('id="red-flag-screen"') < html.index('id="plan"')
    screened = tmp_path / "screened.json"
    screened.write_text(json.dumps({"patient": ADULT, "findings": SCREENED_BACK}), encoding="utf-8")
    for fmt in ("text", "markdown"):
        assert "Red-flag screen incomplete" not in run_script(
            "assess", str(screened), "--format", fmt).stdout


def test_with_red_flags_the_notice_follows_them(tmp_path: Path) -> None:
    ces = ROOT / "examples" / "cases" / "cauda_equina_emergency.yaml"
    text = run_script("assess", str(ces)).stdout
    assert text.index("Suspected cauda equina syndrome") < text.index("Red-flag screen incomplete")
    assert "after acting on the red flags above, ask these too" in text


def test_a_flag_found_below_its_most_urgent_lists_what_could_escalate_it(reasoner: Reasoner) -> None:
    """Bilateral leg symptoms with back pain raise cauda equina syndrome at SOON; saddle
    anaesthesia or a new bladder change would make it an emergency, so while they are unasked
    the notice lists them under the flag, marked as found, and the JSON says where it stands."""
    result = assess(reasoner, {"low_back_pain": True, "bilateral_leg_symptoms": True}, ADULT)
    assert {r.id: r.urgency for r in result.red_flags}["cauda_equina_syndrome"] == "soon"
    entry = next(u for u in result.screen.unanswered if u.red_flag == "cauda_equina_syndrome")
    assert (entry.raised_at, entry.urgency) == ("soon", "emergency")
    assert {"saddle_anaesthesia", "bladder_dysfunction"} <= set(entry.findings)
    assert "bilateral_leg_symptoms" not in entry.findings
    assert {"red_flag": "cauda_equina_syndrome", "urgency": "emergency", "raised_at": "soon"}.items() \
        <= next(u for u in result.to_dict()["screen"]["unanswered"]
                if u["red_flag"] == "cauda_equina_syndrome").items()
    # answered no: nothing could escalate it any more, and it is not listed
    answered = assess(reasoner, {"low_back_pain": True, "bilateral_leg_symptoms": True,
                                 **dict.fromkeys(entry.findings, False)}, ADULT)
    assert "cauda_equina_syndrome" in {r.id for r in answered.red_flags}
    assert "cauda_equina_syndrome" not in unanswered(answered)


def test_a_flag_found_at_its_most_urgent_is_not_listed(reasoner: Reasoner) -> None:
    result = assess(reasoner, {"low_back_pain": True, "saddle_anaesthesia": True}, ADULT)
    assert {r.id: r.urgency for r in result.red_flags}["cauda_equina_syndrome"] == "emergency"
    assert "cauda_equina_syndrome" not in unanswered(result)
