"""The complaint site gates the regional questions, never the red-flag screen.

Run on the shipped knowledge base: the gating is data (`sites:` on conditions), so these tests
check the data and the planner together, the way a clinician meets them.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.cases.case import load_case
from engine.inference.reasoner import Reasoner
from engine.interview.planner import Planner
from engine.interview.relevance import chart_answered, out_of_site
from engine.interview.session import Session, replay
from engine.kb.loader import load_kb
from engine.kb.model import KnowledgeBase
from tests.conftest import ROOT

SITES = tuple(f for c in load_kb().checklists.values() if c.first for f in c.findings)


def chart(kb: KnowledgeBase) -> tuple[str, ...]:
    """The body charts' areas (every checklist asked first)."""
    return tuple(f for c in kb.checklists.values() if c.first for f in c.findings)


def red_flag_findings(kb: KnowledgeBase) -> set[str]:
    return {f for rule in kb.rules if rule.kind == "red_flag" for f in rule.findings_used()}


def charted(kb: KnowledgeBase, site: str | None) -> dict[str, Any]:
    """The body chart with only `site` marked (None: nothing marked), every other area no."""
    return {fid: (fid == site) for fid in chart(kb)}


def test_a_knee_only_runner_is_not_asked_about_the_back_or_hamstrings(kb, reasoner) -> None:
    case = load_case(str(ROOT / "examples/cases/runner_it_band.yaml"), kb)
    gated = replay(kb, reasoner, case.facts, Planner(kb))
    before = replay(kb, reasoner, case.facts, Planner(kb, by_site=False))
    regional = {"laslett_positive_count", "leg_pain_walking_relieved_by_sitting",
                "previous_hamstring_injury"}
    assert regional & set(before.asked), "the ungated interview asked them: the test would be empty"
    assert not regional & set(gated.asked)
    assert gated.questions < before.questions
    assert [c.id for c in gated.assessment.conditions][:1] == ["it_band_syndrome"]
    assert gated.assessment.triage == before.assessment.triage == "routine"


def test_sites_gate_conditions_in_the_interview_never_red_flags(kb) -> None:
    """A red flag may name `sites` (which questions the incomplete-screen notice names,
    engine.inference.screen), but the interview pursues every red-flag rule whatever is charted."""
    flags = {c.id for c in kb.conclusions.values() if c.kind == "red_flag"}
    assert any(kb.conclusions[f].sites for f in flags), "no red flag names sites: vacuous"
    planner = Planner(kb)
    whole = set(chart(kb))
    for site in (None, *chart(kb)):
        gated = out_of_site(kb, charted(kb, site), whole)
        assert not flags & gated, site
        scope = planner.scope(gated)
        assert all(rule.id in scope for rule in kb.rules if rule.kind == "red_flag"), site
    assert kb.conclusions["si_joint_dysfunction"].sites
    assert set().union(*(c.sites for c in kb.conclusions.values())) <= set(chart(kb))


def test_a_site_closes_a_condition_only_when_its_sites_are_known_not_to_hurt(kb) -> None:
    knee = {"lateral_knee_pain": "right"}
    assert out_of_site(kb, knee, set(knee)) == frozenset()  # nothing else charted yet
    whole = set(chart(kb))
    assert out_of_site(kb, charted(kb, None), whole) == frozenset()  # pain-free: screen risks
    gated = out_of_site(kb, charted(kb, "lateral_knee_pain"), whole)
    assert {"si_joint_dysfunction", "lumbar_spinal_stenosis", "hamstring_strain_risk"} <= gated
    assert "it_band_syndrome" not in gated
    # the chart leaves the spine to an explicit no: ticking the knee alone clears the back ...
    body = kb.checklists["body_chart"]
    ticked = {f: f == "lateral_knee_pain" for f in body.findings if f not in body.explicit_no}
    assert chart_answered(body, set(ticked))
    assert "nonspecific_low_back_pain" in out_of_site(kb, ticked, set(ticked))
    # ... but while a site has not been charted its conditions stay in play
    partly = {f: v for f, v in ticked.items() if f != "buttock_pain"}
    assert not chart_answered(body, set(partly))
    assert "si_joint_dysfunction" not in out_of_site(kb, partly, set(partly))


@pytest.mark.parametrize("site", [None, *SITES])
def test_every_red_flag_question_survives_the_gate(kb, reasoner, site: str | None) -> None:
    """After the chart is answered with any one site marked (or none), every finding a red-flag
    rule reads that the ungated planner would still ask is still asked, for the same rules."""
    gated = Session.start(kb, reasoner, Planner(kb))
    ungated = Session.start(kb, reasoner, Planner(kb, by_site=False))
    for session in (gated, ungated):
        session.answer_many(charted(kb, site))
    with_gate, without = gated.survey(), ungated.survey()
    for fid in red_flag_findings(kb) & set(without.candidates):
        flags = {v.rule.id for v in without.candidates[fid] if v.rule.kind == "red_flag"}
        assert flags <= {v.rule.id for v in with_gate.candidates.get(fid, ())}, fid


def _answers(kb: KnowledgeBase) -> st.SearchStrategy[dict[str, Any]]:
    def value(fid: str) -> st.SearchStrategy[Any]:
        finding = kb.findings[fid]
        if finding.type == "boolean":
            return st.booleans()
        if finding.type == "sided":
            return st.sampled_from([False, "left", "right", "bilateral"])
        if finding.type == "enum":
            return st.sampled_from(finding.values)
        low = int(finding.minimum or 0)
        return st.integers(low, int(finding.maximum if finding.maximum is not None else low + 100))

    pool = sorted(red_flag_findings(kb) - set(chart(kb)))
    return st.lists(st.sampled_from(pool), unique=True, max_size=8).flatmap(
        lambda chosen: st.fixed_dictionaries({fid: value(fid) for fid in chosen}))


def screened(kb: KnowledgeBase, reasoner: Reasoner, facts: dict[str, Any],
             planner: Planner) -> tuple[set[str], set[str], Session]:
    """Interview answering from `facts` (absent: not known). Returns the findings asked while
    they could still decide a red-flag rule, every finding asked, and the session."""
    session = Session.start(kb, reasoner, planner)
    for_flags: set[str] = set()
    while (question := session.next_question()) is not None:
        fids = tuple(f.id for f in question.findings)
        candidates = session.survey().candidates
        for_flags.update(f for f in fids if any(v.rule.kind == "red_flag"
                                                for v in candidates.get(f, ())))
        session.answer_many({f: facts[f] for f in fids if f in facts},
                            [f for f in fids if f not in facts])
    return for_flags, {step.finding for step in session.history}, session


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(site=st.sampled_from([None, "lateral_knee_pain", "neck_pain", "lateral_hip_pain",
                             "anterior_knee_pain", "arm_pain", "buttock_pain"]),
       data=st.data())
def test_gated_interview_asks_the_same_red_flag_screen(kb, reasoner, site, data) -> None:
    """Whatever the site and the red-flag answers (absent: not known), the gated interview asks
    every question the ungated one asked while it could decide a red-flag rule, ends with no
    red-flag question left that could raise or escalate a flag, and raises the same flags."""
    facts = {**charted(kb, site), **data.draw(_answers(kb))}
    _, gated_asked, gated = screened(kb, reasoner, facts, Planner(kb))
    for_flags, _, ungated = screened(kb, reasoner, facts, Planner(kb, by_site=False))
    assert for_flags <= gated_asked
    assert gated.survey().screen_groups() == []
    assert gated.assessment().triage == ungated.assessment().triage
    assert ([(f.id, f.urgency) for f in gated.assessment().red_flags]
            == [(f.id, f.urgency) for f in ungated.assessment().red_flags])
