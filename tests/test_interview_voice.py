"""One voice and no ids: every prompt speaks to the clinician about the patient, and no prompt or
WHY line shows a finding, rule or conclusion id (ids are for case files and `kb show`)."""

from __future__ import annotations

import re

import pytest

from engine.cases.case import load_case
from engine.inference.reasoner import Reasoner
from engine.interview.planner import Planner
from engine.interview.session import Session
from engine.kb.loader import load_kb
from engine.kb.model import KnowledgeBase
from reports.interview_text import checklist_why_lines, why_lines
from tests.conftest import ROOT, run_cli
from tests.interview_support import script_for

KB = load_kb()
SECOND_PERSON = re.compile(r"\b(you|your|yours|yourself)\b", re.IGNORECASE)


def ids(kb: KnowledgeBase) -> set[str]:
    """Ids that could leak: the ones with an underscore (a one-word id is also a plain word)."""
    every = {*kb.findings, *kb.conclusions, *(rule.id for rule in kb.rules), *kb.checklists}
    return {i for i in every if "_" in i}


def leaked(text: str, kb: KnowledgeBase) -> list[str]:
    return sorted(i for i in ids(kb) if re.search(rf"(?<![\w/.-]){re.escape(i)}(?![\w/.-])", text))


@pytest.mark.parametrize("fid", sorted(KB.findings))
def test_every_question_speaks_to_the_clinician_about_the_patient(fid: str) -> None:
    question = KB.findings[fid].question
    assert question.strip().endswith("?"), question
    assert not SECOND_PERSON.search(question), f"{fid}: {question!r} (ask 'Does the patient ...')"


@pytest.mark.parametrize("cid", sorted(KB.checklists))
def test_checklists_never_ask_the_patient_directly(cid: str) -> None:
    question = KB.checklists[cid].question
    assert not re.search(r"\b(your|yours|yourself)\b", question, re.IGNORECASE), question


def test_no_id_in_any_label_question_or_why_line() -> None:
    reasoner = Reasoner(KB)
    case = load_case(str(ROOT / "examples/cases/si_joint_postpartum.yaml"), KB)
    session = Session.start(KB, reasoner, Planner(KB))
    seen: list[str] = []
    while (question := session.next_question()) is not None:
        seen.extend(f.label + "\n" + f.question for f in question.findings)
        if question.checklist is not None:
            seen.append(question.checklist.label + "\n" + question.checklist.question)
            seen.extend(checklist_why_lines(question, session.survey(), KB))
        for finding in question.findings:
            seen.extend(why_lines(session.why(finding.id), KB, session.facts))
        fids = [f.id for f in question.findings]
        session.answer_many({f: case.facts[f] for f in fids if f in case.facts},
                            [f for f in fids if f not in case.facts])
    text = "\n".join(seen)
    assert "Why ask about" in text and "Why this checklist" in text  # the test saw WHY lines
    assert leaked(text, KB) == []


def test_the_console_transcript_shows_no_id() -> None:
    facts = load_case(str(ROOT / "examples/cases/runner_it_band.yaml"), KB).facts
    lines, _ = script_for(KB, facts)
    lines.insert(5, "?")  # a WHY on the way
    proc = run_cli("interview", stdin="\n".join(lines) + "\n")
    assert proc.returncode == 0, proc.stderr
    conversation = proc.stdout.split("Interview complete", 1)[0]
    assert "Why ask about" in conversation or "Why this checklist" in conversation
    assert leaked(conversation, KB) == []


def test_site_checklists_are_headed_as_sites_not_as_one_suspicion() -> None:
    """The body chart and the other sites asked first serve every red flag and condition at once:
    a header such as 'Red-flag screen: suspected cauda equina syndrome' over 'Where does the
    patient have pain?' tells the clinician something the answers have not said."""
    first = [c for c in KB.checklists.values() if c.first]
    assert first, "the shipped KB asks its body chart first"
    stdin = "\n\n\n1\n" + "none\n" * 60  # no details; low back pain; then none to everything
    out = run_cli("interview", stdin=stdin).stdout
    pairs = re.findall(r"^(Question \d+ of at most \d+ · .*)\n  (.+)$", out, re.MULTILINE)
    by_label = {label: header for header, label in pairs}
    shown = [c for c in first if c.label in by_label]
    assert shown, out[:2000]
    for checklist in shown:
        assert by_label[checklist.label].endswith("· Where it hurts: this decides which questions follow")
    assert any("Red-flag screen: " in header for header, _ in pairs)  # the screen keeps its topics
