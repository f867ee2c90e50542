"""STarT Back: the nine contract items, the group the rules give, the `risk_group` JSON key, and
the interview asking the nine items as one checklist of every back-pain patient.

The rules (kb/rules/advice/6_startback.yaml) and the counting module (engine/inference/startback.py) state
the same published thresholds in two forms; every one of the 512 answer patterns is run through
the real reasoner to show they never disagree.
"""

from __future__ import annotations

import itertools
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.cases.case import case_from_data, load_case
from engine.inference.reasoner import Reasoner
from engine.inference.startback import ITEMS, PSYCHOSOCIAL, group_of, risk_group
from engine.interview.planner import Planner
from engine.interview.session import Session, replay
from engine.kb.model import KnowledgeBase
from tests.conftest import ROOT, run_cli

GROUP_RULES = {"startback_low_risk": "low", "startback_medium_risk": "medium",
               "startback_high_risk": "high"}


def _assess(reasoner: Reasoner, kb: KnowledgeBase, answers: dict[str, bool], **more: object):
    data = {"patient": {"age": 40}, "findings": {"low_back_pain": True, **answers, **more}}
    return reasoner.assess(case_from_data(data, "startback", kb))


def test_the_kb_checklist_asks_the_nine_contract_items_in_order(kb: KnowledgeBase) -> None:
    assert kb.checklists["startback"].findings == ITEMS
    assert all(kb.findings[item].type == "boolean" for item in ITEMS)
    assert ITEMS[4:] == PSYCHOSOCIAL


def test_published_thresholds() -> None:
    assert [group_of(total, 0) for total in range(10)] == ["low"] * 4 + ["medium"] * 6
    assert group_of(4, 3) == "medium" and group_of(4, 4) == "high" and group_of(9, 5) == "high"


def test_rules_and_json_agree_on_all_512_answer_patterns(kb: KnowledgeBase,
                                                        reasoner: Reasoner) -> None:
    for bits in itertools.product((False, True), repeat=9):
        answers = dict(zip(ITEMS, bits, strict=True))
        result = _assess(reasoner, kb, answers)
        group = result.to_dict()["risk_group"]
        assert group == {"tool": "startback", "id": group["id"], "score": sum(bits),
                         "psychosocial_score": sum(bits[4:])}
        fired = {GROUP_RULES[r] for r in result.fired_rules if r in GROUP_RULES}
        # medium and high share the physiotherapy rule; high adds its own (see the rule file)
        expected = {"low": {"low"}, "medium": {"medium"}, "high": {"medium", "high"}}[group["id"]]
        assert fired == expected, (answers, fired)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.booleans(), min_size=9, max_size=9),
       st.sets(st.sampled_from(ITEMS), min_size=1))
def test_any_unanswered_item_gives_null(bits: list[bool], missing: set[str]) -> None:
    answers = {item: bit for item, bit in zip(ITEMS, bits, strict=True) if item not in missing}
    assert risk_group(answers) is None
    assert risk_group(dict(zip(ITEMS, bits, strict=True))) is not None


def test_a_referral_flag_keeps_the_score_but_withholds_the_pathway(kb: KnowledgeBase,
                                                                   reasoner: Reasoner) -> None:
    result = _assess(reasoner, kb, dict.fromkeys(ITEMS, True), saddle_anaesthesia=True)
    assert result.triage == "emergency"
    assert result.to_dict()["risk_group"]["id"] == "high"
    assert not set(GROUP_RULES) & set(result.fired_rules)


def test_json_and_text_through_the_console_script() -> None:
    case = str(ROOT / "examples" / "cases" / "startback_high_risk.yaml")
    proc = run_cli("assess", case, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["risk_group"] == {"tool": "startback", "id": "high", "score": 6,
                                 "psychosocial_score": 4}
    ids = [r["id"] for r in out["recommendations"]]
    assert "startback_high_risk_care" in ids and "startback_low_risk_care" not in ids
    text = run_cli("assess", case).stdout
    assert "STarT Back: high risk (total 6 of 9, distress subscale 4 of 5)" in text
    other = json.loads(run_cli("assess", str(ROOT / "examples" / "cases" / "runner_it_band.yaml"),
                               "--format", "json").stdout)
    assert other["risk_group"] is None


def _questions(kb: KnowledgeBase, reasoner: Reasoner, facts: dict[str, object]) -> list[tuple[str, ...]]:
    """Each question of an interview answered from `facts` (absent = skip), as its finding ids."""
    session = Session.start(kb, reasoner, Planner(kb))
    asked: list[tuple[str, ...]] = []
    while (question := session.next_question()) is not None:
        fids = tuple(f.id for f in question.findings)
        asked.append(fids)
        session.answer_many({f: facts[f] for f in fids if f in facts},
                            [f for f in fids if f not in facts])
    return asked


def test_interview_asks_the_nine_items_as_one_checklist_for_back_pain(kb: KnowledgeBase,
                                                                    reasoner: Reasoner) -> None:
    case = load_case(str(ROOT / "examples" / "cases" / "startback_high_risk.yaml"), kb)
    asked = _questions(kb, reasoner, case.facts)
    with_items = [q for q in asked if set(q) & set(ITEMS)]
    assert with_items == [ITEMS], "all nine items on one line, asked once"
    result = replay(kb, reasoner, case.facts, Planner(kb))
    assert result.assessment.risk_group == {"tool": "startback", "id": "high", "score": 6,
                                            "psychosocial_score": 4}


def test_interview_does_not_ask_startback_without_back_pain(kb: KnowledgeBase,
                                                            reasoner: Reasoner) -> None:
    case = load_case(str(ROOT / "examples" / "cases" / "runner_it_band.yaml"), kb)
    asked = {fid for question in _questions(kb, reasoner, case.facts) for fid in question}
    assert not asked & set(ITEMS)
