"""Interview safety around the body chart (issue 11, item 5).

Ticking the leg or the buttock never records the spine as pain-free: the body chart's
`explicit_no` members are recorded as no only when the clinician says so ('none', 'no 1').
The body chart opens the consultation and the red-flag screen follows whatever was ticked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.cases.case import Case
from engine.inference.reasoner import Reasoner
from engine.interview.planner import Planner
from engine.interview.session import Session
from engine.interview.ticks import read_ticks
from engine.kb.loader import load_kb_collecting
from engine.kb.model import KnowledgeBase
from tests.conftest import run_cli
from tests.interview_support import SKIP_DETAILS, tick_line

SPINE = ("low_back_pain", "neck_pain", "thoracic_pain")


def test_the_body_chart_leaves_the_spine_open_unless_told(kb: KnowledgeBase) -> None:
    chart = kb.checklists["body_chart"]
    assert chart.first and set(chart.explicit_no) == set(SPINE)
    members = tuple(kb.findings[f] for f in chart.findings)
    leg = chart.findings.index("leg_pain_below_knee") + 1
    buttock = chart.findings.index("buttock_pain") + 1
    reply = read_ticks(members, f"{leg}r {buttock}r", chart.explicit_no)
    assert reply.kind == "answer"
    assert reply.ticks.values["leg_pain_below_knee"] == "right"
    assert reply.ticks.values["lateral_knee_pain"] is False  # other areas: unmarked means no
    assert not set(SPINE) & set(reply.ticks.values) and not set(SPINE) & set(reply.ticks.unknown)
    told = read_ticks(members, f"{leg}r no 1", chart.explicit_no)
    assert told.ticks.values["low_back_pain"] is False  # the clinician said so
    none = read_ticks(members, "none", chart.explicit_no)
    assert all(none.ticks.values[f] is False for f in SPINE)


def test_leg_and_buttock_ticked_then_the_whole_screen_is_asked() -> None:
    """Only leg and buttock on the chart: fever, drugs, cancer and weight loss are still asked,
    and the saved case does not say 'no back pain'."""
    lines = "3r 9r\n" + "none\n" * 12 + "quit\n"
    out = run_cli("interview", stdin=SKIP_DETAILS + lines)
    assert out.returncode == 0, out.stderr
    text = " ".join(out.stdout.split())
    assert "Where the symptoms are" in text.split("Question 2")[0]  # the chart opens
    assert "still open (say 'no N' to rule out): Low back pain, Neck pain" in text
    for label in ("Fever", "Intravenous drug use", "History of cancer", "Unexplained weight loss",
                  "Saddle anaesthesia"):
        assert f" {label}" in text, label


def test_a_saved_interview_keeps_back_pain_unknown(tmp_path: Path) -> None:
    target = tmp_path / "p.yaml"
    out = run_cli("interview", "--save", str(target), stdin=SKIP_DETAILS + "3r 9r\nquit\n")
    assert out.returncode == 0, out.stderr
    saved = target.read_text(encoding="utf-8")
    assert 'leg_pain_below_knee: "right"' in saved and 'buttock_pain: "right"' in saved
    assert "low_back_pain" not in saved and "neck_pain" not in saved


def test_explicit_no_must_name_members(write_files: Any) -> None:
    folder = write_files({"lists.yaml": """
        checklists:
          - id: my_chart
            label: My chart
            question: Where?
            findings: [lateral_knee_pain, anterior_knee_pain]
            explicit_no: [low_back_pain]
            first: yes please
    """})
    _, problems = load_kb_collecting((folder,))
    errors = [p.render() for p in problems if p.severity == "error"]
    assert any("'low_back_pain' in 'explicit_no' of checklist 'my_chart' is not one of its "
               "findings" in e for e in errors), errors
    assert any("'first' of checklist 'my_chart' must be true or false" in e for e in errors), errors


def _clinician_interview(kb: KnowledgeBase, reasoner: Reasoner, facts: dict[str, Any]) -> Any:
    """Drive a session as a clinician at the console: ticks what is present, 'skip' for what is
    not known, and never volunteers a 'no' for the spine (so those stay open until asked)."""
    session = Session.start(kb, reasoner, Planner(kb))
    for _ in range(4 * len(kb.findings)):
        question = session.next_question()
        if question is None:
            return session.assessment()
        if question.members:
            spared = question.checklist.explicit_no if question.checklist else ()
            reply = read_ticks(question.members, tick_line(question.members, facts), spared)
            assert reply.kind in ("answer", "skip"), reply.hint
            if reply.kind == "skip":
                session.answer_many({}, [f.id for f in question.members])
            else:
                session.answer_many(reply.ticks.values, reply.ticks.unknown)
        else:
            fid = question.finding.id
            session.answer_many({fid: facts[fid]} if fid in facts else {},
                                [] if fid in facts else [fid])
    raise AssertionError("the interview did not end")  # pragma: no cover


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_ticking_interview_raises_exactly_the_red_flags_of_assess(kb: KnowledgeBase,
                                                                   reasoner: Reasoner,
                                                                   data: Any) -> None:
    """Safety with the spine left open: the interview still raises exactly the red flags and
    triage that assess gives for the same patient."""
    sites = ["low_back_pain", "neck_pain", "thoracic_pain", "buttock_pain", "leg_pain_below_knee"]
    used = sorted({f for r in kb.rules if r.band == "red_flag" for f in r.findings_used()}
                  - {"age", "sex", "pain_duration_weeks"})
    chosen = data.draw(st.lists(st.sampled_from(used), unique=True, max_size=6))
    facts: dict[str, Any] = {}
    for fid in chosen + data.draw(st.lists(st.sampled_from(sites), unique=True, max_size=2)):
        kind = kb.findings[fid].type
        facts[fid] = data.draw(st.sampled_from([False, "left", "right", "bilateral"]
                                               if kind == "sided" else [True, False]))
    full = reasoner.assess(Case("full", {}, facts))
    got = _clinician_interview(kb, reasoner, facts)
    assert got.triage == full.triage
    assert [(r.id, r.urgency) for r in got.red_flags] == [(r.id, r.urgency) for r in full.red_flags]


def test_a_skipped_age_is_not_asked_again_and_a_known_one_never(tmp_path: Path) -> None:
    """Age is a finding the red-flag rules read (the aneurysm screen asks it): asked once, first,
    as a patient detail; skipped there, the planner does not ask it again."""
    skipped = run_cli("interview", stdin="\n\n\n7r\n" + "none\n" * 8 + "quit\n")
    assert skipped.returncode == 0, skipped.stderr
    assert "Patient details · Age" in skipped.stdout
    assert "\n  Age\n" not in skipped.stdout  # never again as a numbered question
    case = tmp_path / "known.yaml"
    case.write_text("patient: {id: P-3, age: 71, sex: male}\nfindings: {}\n", encoding="utf-8")
    resumed = run_cli("interview", str(case), stdin="7r\nquit\n")
    assert resumed.returncode == 0, resumed.stderr
    assert "Patient details" not in resumed.stdout and "\n  Age\n" not in resumed.stdout
