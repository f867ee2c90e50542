"""The words of a WHY: a condition read aloud with what is already known."""

from __future__ import annotations

from pathlib import Path

from engine.inference.premises import Evaluator
from engine.inference.reasoner import Reasoner
from engine.interview.planner import Planner
from engine.interview.session import Session
from engine.wording import cond_phrase
from reports.interview_text import describe, why_lines
from tests.interview_support import CLINIC, rules_kb


def test_conditions_read_aloud_with_marks(tmp_path: Path) -> None:
    kb = rules_kb(tmp_path / "layer", CLINIC)
    facts = {"low_back_pain": True, "night_pain": False, "age": 61}
    said = {rule.id: describe(kb, rule.when, facts, Evaluator(kb)) for rule in kb.rules}
    assert said["t_cancer_cluster"] == ("all of: Low back pain ✓; at least 2 of: Unexplained weight "
                                        "loss ?; Night pain ✗; Age over 50 years ✓")
    assert said["t_piriformis"] == ("all of: Buttock pain ?; Pain worse sitting ?; no positive "
                                    "straight leg raise ?")
    assert said["t_ces_bilateral"] == ("all of: Low back pain ✓; Leg pain radiating below the knee: "
                                       "bilateral ?")
    assert said["t_weak"] == ("all of: Iliotibial band syndrome suggested (certainty at least 0.5); "
                              "Weak hip abductors ?")
    assert said["t_sitting_advice"] == ("all of: Sitting time at least 8 hours per day ?; "
                                        "Low back pain ✓")


def test_the_interview_and_why_not_phrase_every_premise_alike(kb) -> None:
    """One wording: the interview's WHY reads a rule exactly as the report's WHY NOT does, with
    only the ✓ / ✗ / ? marks added."""
    evaluator = Evaluator(kb)
    for rule in kb.rules:
        marked = describe(kb, rule.when, {}, evaluator)
        assert marked.replace(" ?", "") == cond_phrase(kb, rule.when), rule.id


def test_why_lines_list_open_rules_then_settled_ones(tmp_path: Path) -> None:
    kb = rules_kb(tmp_path / "layer", CLINIC)
    session = Session.start(kb, Reasoner(kb), Planner(kb, thorough=True))
    session.answer("low_back_pain", True)
    session.answer("history_of_cancer", False)
    lines = why_lines(session.why("night_pain"), kb, session.facts)
    assert lines[0] == '  Why ask about "Night pain" (red-flag screen)?'
    assert lines[1] == "  The answer can still decide 1 rule:"
    assert lines[2] == "  - Two or more cancer pointers with back pain"
    assert lines[3] == ("      would raise the red flag Possible spinal malignancy (soon), "
                        "certainty 0.4")
    advice = why_lines(session.why("sitting_hours_per_day"), kb, session.facts)
    assert "      would add advice: stretch Iliopsoas (hip flexor)" in advice
    settled = why_lines(session.why("progressive_neurological_deficit"), kb, session.facts)
    assert settled[-1] == ("  Already settled by other answers: Cancer history with a progressive "
                           "deficit.")
