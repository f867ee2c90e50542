"""A value reads the same in every output: '9 hours per day', never '9.0 hours per day'."""

from __future__ import annotations

from engine.explain.explainer import answer_text
from engine.kb import model as m
from reports.wording import finding_phrase, show_value


def test_a_whole_number_reads_without_a_decimal_point(kb: m.KnowledgeBase) -> None:
    finding = kb.findings["sitting_hours_per_day"]
    assert finding_phrase(kb, finding.id, 9.0) == "Sitting time: 9 hours per day"
    assert finding_phrase(kb, finding.id, 9) == finding_phrase(kb, finding.id, 9.0)
    assert finding_phrase(kb, finding.id, 7.5) == "Sitting time: 7.5 hours per day"
    assert "9.0" not in answer_text(finding, 9.0)


def test_yes_and_no(kb: m.KnowledgeBase) -> None:
    assert (show_value(True), show_value(False), show_value("left")) == ("yes", "no", "left")
