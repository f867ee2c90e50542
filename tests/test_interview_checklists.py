"""Checklists: related findings asked on one line (a red-flag screen, the body chart, a test
battery), through the tick parser, the session, the shipped KB and the real console script."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.cases.case import Case, load_case
from engine.inference.reasoner import Reasoner
from engine.interview.planner import Planner
from engine.interview.session import Session, replay
from engine.interview.ticks import read_ticks
from engine.kb.model import KnowledgeBase
from tests.conftest import ROOT, run_cli
from tests.interview_support import SKIP_DETAILS, script_for, tick_line

EXAMPLES = ROOT / "examples" / "cases"


@pytest.fixture(scope="module")
def body(kb: KnowledgeBase) -> tuple[Any, ...]:
    """The body chart's findings in their order: 1 low back ... 9 leg below knee, 10 arm."""
    return tuple(kb.findings[f] for f in kb.checklists["body_chart"].findings)


# --- reading a ticked line ---------------------------------------------------------------------


@pytest.mark.parametrize("text, yes, unknown", [
    ("none", {}, ()),
    ("No", {}, ()),
    ("1 9", {"low_back_pain": True, "leg_pain_below_knee": True}, ()),
    ("1, 9r", {"low_back_pain": True, "leg_pain_below_knee": "right"}, ()),
    ("9 left 3b", {"leg_pain_below_knee": "left", "buttock_pain": "bilateral"}, ()),
    ("9 both", {"leg_pain_below_knee": "bilateral"}, ()),
    ("1 skip 2 10", {"low_back_pain": True}, ("neck_pain", "arm_pain")),
    ("skip 2 yes 1", {"low_back_pain": True}, ("neck_pain",)),
    ("1 no 2", {"low_back_pain": True}, ()),
])
def test_a_ticked_line_gives_every_item_a_value_or_unknown(body, text, yes, unknown) -> None:
    reply = read_ticks(body, text)
    assert reply.kind == "answer", reply.hint
    assert reply.ticks.unknown == unknown
    assert {k: v for k, v in reply.ticks.values.items() if v is not False} == yes
    assert set(reply.ticks.values) | set(unknown) == {f.id for f in body}  # nothing left out


@pytest.mark.parametrize("text, kind, item", [
    ("?", "why", None), ("why", "why", None), ("? 3", "why", 2), ("skip", "skip", None),
    ("each", "each", None), ("one by one", "each", None), ("back", "back", None),
    ("quit", "quit", None), ("help", "help", None),
])
def test_commands_on_a_checklist(body, text, kind, item) -> None:
    reply = read_ticks(body, text)
    assert (reply.kind, reply.item) == (kind, item)


@pytest.mark.parametrize("text, hint", [
    ("", "none, or the numbers that apply"),
    ("12", "there is no item 12; the items are 1 to 11"),
    ("? 0", "there is no item 0"),
    ("1r", "item 1 (Low back pain) has no side; type just 1"),
    ("1 1", "item 1 is given twice"),
    ("1 skip 1", "item 1 is given twice"),
    ("skip 9r", "a side goes only with an item that applies"),
    ("9x", "'x' after item 9 is not a side"),
    ("knee", "'knee' is not an item number"),
    ("yes", "which ones? type the numbers that apply"),  # never read as 'all no'
    ("y", "which ones?"),
])
def test_a_line_that_fits_nothing_is_asked_again_with_a_hint(body, text, hint) -> None:
    reply = read_ticks(body, text)
    assert reply.kind == "invalid"
    assert hint in reply.hint


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.sampled_from(list("0123456789 lrb,;?skipnoeachyes\t-")), max_size=30))
def test_reading_ticks_never_raises(body, text: str) -> None:
    reply = read_ticks(body, text)
    assert reply.kind in ("answer", "why", "skip", "each", "back", "quit", "help", "invalid")
    if reply.kind == "answer":
        assert set(reply.ticks.values) | set(reply.ticks.unknown) == {f.id for f in body}
        assert not set(reply.ticks.values) & set(reply.ticks.unknown)


# --- the session and the planner -----------------------------------------------------------


def test_first_question_is_the_body_chart_with_only_what_can_matter(kb, reasoner) -> None:
    question = Session.start(kb, reasoner).next_question()
    assert question is not None and question.checklist is not None
    assert question.checklist.id == "body_chart" and question.phase == "screen"
    assert question.finding in question.members  # the planner's best finding leads
    survey = Session.start(kb, reasoner).survey()
    assert all(f.id in survey.candidates for f in question.members)


def test_one_by_one_asks_single_findings(kb, reasoner) -> None:
    question = Session.start(kb, reasoner, Planner(kb, checklists=False)).next_question()
    assert question is not None and question.members == () and question.checklist is None
    assert question.findings == (question.finding,)


def test_a_checklist_is_one_question_and_back_undoes_all_of_it(kb, reasoner) -> None:
    session = Session.start(kb, reasoner)
    question = session.next_question()
    members = [f.id for f in question.members]
    session.answer_many({members[0]: True, members[1]: False}, members[2:])
    assert session.prompts == 1 and session.number == 2 and len(session.history) == len(members)
    assert session.facts[members[0]] is True and set(members[2:]) <= session.skipped
    undone = session.back()
    assert [step.finding for step in undone] == members
    assert session.prompts == 0 and session.facts == {} and not session.skipped
    again = session.next_question()
    assert [f.id for f in again.members] == members  # the same checklist, asked again


def test_each_asks_the_members_one_at_a_time_in_order(kb, reasoner) -> None:
    session = Session.start(kb, reasoner)
    question = session.next_question()
    session.one_at_a_time(question)
    asked = []
    for _ in question.members:
        single = session.next_question()
        if single is None or single.finding.id not in {f.id for f in question.members}:
            break
        assert single.members == ()
        asked.append(single.finding.id)
        session.answer(single.finding.id, False)
    assert asked == [f.id for f in question.members][:len(asked)] and len(asked) >= 2


def test_skipped_members_are_saved_as_null(kb, reasoner) -> None:
    session = Session.start(kb, reasoner)
    members = [f.id for f in session.next_question().members]
    session.answer_many({members[0]: True}, members[1:])
    text = session.case_text()
    assert f"  {members[0]}: true" in text
    assert all(f"  {fid}: null" in text for fid in members[1:])


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_checklists_ask_fewer_questions_and_reach_the_same_red_flags(kb, reasoner, path: Path) -> None:
    facts = load_case(str(path), kb).facts
    grouped = replay(kb, reasoner, facts, Planner(kb))
    single = replay(kb, reasoner, facts, Planner(kb, checklists=False))
    assert grouped.questions < single.questions
    assert [(r.id, r.urgency) for r in grouped.assessment.red_flags] == [
        (r.id, r.urgency) for r in single.assessment.red_flags]
    assert grouped.assessment.triage == single.assessment.triage



@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_red_flag_is_missed_whatever_the_answers(kb, reasoner, data) -> None:
    """Safety: answering from any set of red-flag findings (true, false or unknown), the
    interview with checklists raises exactly the red flags and triage assess gives."""
    used = sorted({f for r in kb.rules if r.band == "red_flag" for f in r.findings_used()})
    chosen = data.draw(st.lists(st.sampled_from(used), unique=True, max_size=12))
    facts: dict[str, Any] = {}
    for fid in chosen:
        finding = kb.findings[fid]
        if finding.type == "number":
            facts[fid] = data.draw(st.integers(int(finding.minimum or 0), int(finding.maximum or 100)))
        elif finding.type == "sided":
            facts[fid] = data.draw(st.sampled_from([True, False, "left", "right", "bilateral"]))
        elif finding.type == "enum":
            facts[fid] = data.draw(st.sampled_from(finding.values))
        else:
            facts[fid] = data.draw(st.booleans())
    patient = {k: facts.pop(k) for k in ("age", "sex") if k in facts}
    full = reasoner.assess(Case("full", patient, facts))
    got = replay(kb, reasoner, {**facts, **patient}, Planner(kb)).assessment
    assert got.triage == full.triage
    assert [(r.id, r.urgency, round(r.certainty, 6)) for r in got.red_flags] == [
        (r.id, r.urgency, round(r.certainty, 6)) for r in full.red_flags]


# --- at the console ------------------------------------------------------------------------


def test_piped_checklist_interview_of_an_example_matches_assess(kb) -> None:
    path = EXAMPLES / "runner_it_band.yaml"
    facts = load_case(str(path), kb).facts
    lines, _ = script_for(kb, facts)
    proc = run_cli("interview", stdin="\n".join(lines) + "\n")  # the details come first
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "  Where the symptoms are" in out and "    7  Lateral knee pain  (side: l, r or b)" in out
    assert "Recorded yes: Lateral knee pain (right)" in out
    details = 3  # id, age and sex: not numbered questions
    assert f"Interview complete after {len(lines) - details} questions." in out
    assessed = run_cli("assess", str(path)).stdout
    assert out.split("Interview complete", 1)[1].count("Iliotibial band syndrome") >= 1
    assert assessed.splitlines()[0] in out  # the same triage line


def test_checklist_why_help_and_a_bad_line(kb) -> None:
    stdin = SKIP_DETAILS + "?\n? 1\nhelp\n12\n1 skip 2\nquit\n"
    proc = run_cli("interview", stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    out = " ".join(proc.stdout.split())
    assert "Why this checklist (red-flag screen)? Each item can still decide:" in out
    assert "1 Low back pain: would raise the red flag" in out
    assert "Type ? and an item's number (? 2) for the full reasoning behind it." in out
    assert 'Why ask about "Low back pain" (red-flag screen)? The answer can still decide' in out
    assert "1 skip 4 5 item 1 yes, items 4 and 5 not known, the rest no" in out
    assert "10 Does the patient have pain in one or both arms?" in out  # help lists the items in full
    assert ("Not understood: there is no item 12; the items are 1 to 11. Type ? for why it is "
            "asked, help for examples.") in out
    assert "Recorded yes: Low back pain; not known: Neck pain; no: Buttock pain" in out
    assert "Interview stopped after 1 question." in out


def test_back_on_a_checklist_asks_it_again_and_save_keeps_the_revision(tmp_path: Path) -> None:
    out_file = tmp_path / "p.yaml"
    proc = run_cli("interview", "--save", str(out_file), stdin=SKIP_DETAILS + "1\nback\n2\nquit\n")
    assert proc.returncode == 0, proc.stderr
    # the 9 items the line recorded come back; neck and mid-back pain were never ruled out
    assert "still open (say 'no N' to rule out): Neck pain, Thoracic (mid or upper back) pain" \
        in " ".join(proc.stdout.split())
    assert "Back to the previous question (a checklist of 9 items)." in proc.stdout
    assert proc.stdout.count("Question 1 of at most") == 2
    saved = out_file.read_text(encoding="utf-8")
    # ticking the buttock says nothing about the low back: it stays unasked, not 'no'
    assert "buttock_pain: true" in saved and "low_back_pain" not in saved
    assert "posterior_thigh_pain: false" in saved


def test_each_then_single_questions_at_the_console() -> None:
    proc = run_cli("interview", stdin=SKIP_DETAILS + "each\nyes\nquit\n")
    assert proc.returncode == 0, proc.stderr
    assert "One at a time, then." in proc.stdout
    assert "  Low back pain\n  Does the patient have pain in the lower back?" in proc.stdout


def test_one_by_one_flag_shows_no_checklist() -> None:
    proc = run_cli("interview", "--one-by-one", stdin=SKIP_DETAILS + "no\nquit\n")
    assert proc.returncode == 0, proc.stderr
    assert "Where the symptoms are" not in proc.stdout
    first = proc.stdout.split("Question 1", 1)[1].split("\n> ", 1)[0]
    assert "  Answer: " in first  # one finding asked (yes/no or a number), no numbered list
    assert "Mark every area" not in first and "the numbers that apply" not in first


def test_tick_line_of_the_test_driver(body) -> None:
    assert tick_line(body, {}) == "skip"
    assert tick_line(body, {f.id: False for f in body}) == "none"
    facts = {f.id: False for f in body} | {"leg_pain_below_knee": "left"}
    del facts["neck_pain"]
    assert tick_line(body, facts) == "9l skip 2"


def test_replay_counts_a_checklist_once(kb: KnowledgeBase, reasoner: Reasoner) -> None:
    result = replay(kb, reasoner, {"low_back_pain": True}, Planner(kb))
    assert result.questions < len(result.asked)


def test_kb_show_lists_a_checklist_and_where_a_finding_is_asked() -> None:
    shown = run_cli("kb", "show", "neurological_warning_signs")
    assert shown.returncode == 0, shown.stderr
    assert "checklist neurological_warning_signs: Neurological warning signs" in shown.stdout
    assert "defined at kb/vocabulary/checklists.yaml:" in shown.stdout
    assert "1  saddle_anaesthesia  Saddle anaesthesia; read by" in shown.stdout
    finding = run_cli("kb", "show", "fever").stdout
    assert "asked in checklist infection_screen (Infection and its risk factors" in finding
    assert "body_chart  Where the symptoms are" in run_cli("kb", "show").stdout


CLINIC_GROUPING = """\
knowledge_base: {name: my-clinic, version: "2026.1"}
disable:
  - checklist: infection_screen
    reason: We ask about signs now and risk factors in the history separately.
checklists:
  - id: infection_signs
    label: Signs of infection now
    question: "Any of these now?"
    findings: [fever, systemically_unwell, urinary_tract_infection]
  - id: infection_risk
    label: Infection risk factors
    question: "Any of these in the history?"
    findings: [iv_drug_use, immunosuppression, organ_transplant, recent_infection]
"""


def test_a_clinic_layer_can_regroup_a_shipped_checklist(tmp_path: Path) -> None:
    layer = tmp_path / "clinic"
    layer.mkdir()
    (layer / "checklists.yaml").write_text(CLINIC_GROUPING, encoding="utf-8")
    from engine.kb.loader import load_kb

    clinic = load_kb((layer,))
    assert "infection_screen" not in clinic.checklists
    assert clinic.checklists["infection_signs"].findings == (
        "fever", "systemically_unwell", "urinary_tract_infection")
    assert [d.rule for d in clinic.disabled] == []  # reports list switched-off rules only
    # back pain and nothing else known: the interview reaches the infection screen in two parts
    proc = run_cli("--kb", str(layer), "interview", stdin=SKIP_DETAILS + "1\n" + "skip\n" * 12)
    assert proc.returncode == 0, proc.stderr
    assert "  Signs of infection now" in proc.stdout and "  Infection risk factors" in proc.stdout
    assert "  Infection and its risk factors" not in proc.stdout
    assert run_cli("--kb", str(layer), "kb", "lint").returncode == 0
