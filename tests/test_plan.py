"""The contract's `plan`, `review` and condition `side` (issue 14), and the advice behind them:
grouped by phase, without exercises a listed programme already contains, with what to avoid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from cli import main
from engine.cases.case import load_case
from engine.inference.plan import PLAN_SIZE, merge_sides
from engine.inference.reasoner import Reasoner
from engine.kb import model as m
from engine.kb.loader import load_kb
from tests.conftest import ROOT

EXAMPLES = sorted((ROOT / "examples" / "cases").glob("*.yaml"))
EXERCISE_PHASES = ("restore", "build", "return")


def assess_json(path: Path | str) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["assess", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def outputs() -> dict[str, dict[str, Any]]:
    return {path.stem: assess_json(path) for path in EXAMPLES}


def test_every_example_has_a_short_plan_from_its_recommendations(outputs: dict[str, Any]) -> None:
    for name, data in outputs.items():
        plan = data["plan"]
        assert 1 <= len(plan) <= PLAN_SIZE, name
        given = {r["id"]: r for r in data["recommendations"]}
        for item in plan:
            assert item["id"] in given, (name, item["id"])
            assert item["text"] == given[item["id"]]["text"]


def test_referral_leads_the_plan_and_no_exercise_follows(outputs: dict[str, Any]) -> None:
    referred = 0
    for name, data in outputs.items():
        if data["triage"] not in ("emergency", "urgent"):
            continue
        referred += 1
        flags = [f"act_now_{flag['id']}" for flag in data["red_flags"]]
        ids = [item["id"] for item in data["plan"]]
        assert ids[0] == flags[0], name
        assert set(flags) <= set(ids), name
        assert all(item["phase"] not in EXERCISE_PHASES for item in data["plan"]), name
        assert all(item["side"] is None for item in data["plan"]), name
    assert referred >= 4


def test_review_is_always_present(outputs: dict[str, Any]) -> None:
    for name, data in outputs.items():
        review = data["review"]
        assert isinstance(review["after_weeks"], (int, float)) and review["after_weeks"] >= 0, name
        assert len(review["why"]) > 20, name
        if data["triage"] == "emergency":
            assert review["after_weeks"] == 0 and "hospital" in review["why"], name
        elif data["triage"] == "urgent":
            assert review["after_weeks"] <= 2, name


def test_it_band_runner_answer(outputs: dict[str, Any]) -> None:
    data = outputs["runner_it_band"]
    top = data["conditions"][0]
    assert (top["id"], top["side"]) == ("it_band_syndrome", "right")
    ids = [r["id"] for r in data["recommendations"]]
    # the six-week programme contains the side-lying leg raise: listed once, inside it
    assert "gluteus_medius_strengthening_itbs" in ids and "lateral_leg_raise" not in ids
    first = data["plan"][0]
    assert (first["id"], first["side"]) == ("gluteus_medius_strengthening_itbs", "right")
    assert data["review"]["after_weeks"] == 6
    assert "hip abductor strength" in data["review"]["why"]
    assert "six months" in data["review"]["why"]
    assert any("downhill" in text for text in data["avoid"])


def test_recommendations_are_grouped_by_phase(outputs: dict[str, Any]) -> None:
    order = {None: 0, **{phase: i + 1 for i, phase in enumerate(m.PHASES)}}
    for name, data in outputs.items():
        ranks = [order[r["phase"]] for r in data["recommendations"] if not r["id"].startswith("act_now_")]
        assert ranks == sorted(ranks), name
    runner = [r["id"] for r in outputs["runner_it_band"]["recommendations"]]
    assert runner.index("reduce_downhill_running") < runner.index("plyometrics")


def test_muscle_imbalance_programme_is_reviewed_at_six_months(outputs: dict[str, Any]) -> None:
    """Seed 002_19521e4af3dd7a01.txt: a corrective programme is reviewed every six months."""
    assert outputs["lower_crossed_desk_worker"]["review"]["after_weeks"] == 26
    assert "seed 002" in outputs["lower_crossed_desk_worker"]["review"]["why"]


def test_cause_evidence_names_only_its_own_findings(outputs: dict[str, Any]) -> None:
    causes = {c["id"]: c for c in outputs["runner_it_band"]["causes"]}
    overuse = causes["overuse"]["evidence"]
    assert "positive_noble_test" not in overuse and "positive_ober_test" not in overuse
    assert "mileage_increase_pct" in overuse
    assert causes["worn_footwear"]["evidence"] == ["worn_shoes"]


def test_every_condition_carries_a_side(outputs: dict[str, Any]) -> None:
    for name, data in outputs.items():
        for condition in data["conditions"]:
            assert condition["side"] in (None, "left", "right", "bilateral"), name
    assert outputs["si_joint_postpartum"]["conditions"][0]["side"] == "left"


def test_side_follows_the_sided_findings(tmp_path: Path) -> None:
    case = tmp_path / "left.yaml"
    case.write_text((ROOT / "examples/cases/runner_it_band.yaml").read_text()
                    .replace("lateral_knee_pain: right", "lateral_knee_pain: left"))
    data = assess_json(case)
    assert data["conditions"][0]["side"] == "left"
    assert data["plan"][0]["side"] == "left"
    case.write_text((ROOT / "examples/cases/runner_it_band.yaml").read_text()
                    .replace("lateral_knee_pain: right", "lateral_knee_pain: true"))
    assert assess_json(case)["conditions"][0]["side"] is None


@given(st.lists(st.sampled_from([True, False, None, "left", "right", "bilateral", 3])))
def test_merge_sides(values: list[Any]) -> None:
    side = merge_sides(values)
    named = {v for v in values if v in m.SIDES}
    if not named:
        assert side is None
    elif named in ({"left"}, {"right"}):
        assert side == next(iter(named))
    else:
        assert side == "bilateral"


def test_plan_matches_the_full_recommendations_ranking() -> None:
    kb = load_kb()
    result = Reasoner(kb).assess(load_case(str(ROOT / "examples/cases/lower_crossed_desk_worker.yaml"), kb))
    assert set(a.id for a in result.plan) <= set(a.id for a in result.recommendations)
    assert len(result.plan) == min(PLAN_SIZE, len(result.recommendations))


@pytest.mark.parametrize(("entry", "message"), [
    ("    phase: later\n", "'phase' of recommendation 'extra' is 'later'"),
    ("    subsumes: [no_such_advice]\n", "unknown recommendation 'no_such_advice'"),
    ("    sided: maybe\n", "'sided' of recommendation 'extra' must be true or false"),
])
def test_bad_advice_fields_are_load_errors(tmp_path: Path, entry: str, message: str) -> None:
    layer = tmp_path / "layer"
    layer.mkdir()
    (layer / "advice.yaml").write_text("recommendations:\n  - id: extra\n    text: Walk daily.\n"
                                       "    evidence: expert_opinion\n" + entry)
    result = CliRunner().invoke(main, ["--kb", str(layer), "kb", "lint"])
    assert result.exit_code in (1, 2)
    assert message in result.output
    assert "advice.yaml:" in result.output


def test_bad_review_is_a_load_error(tmp_path: Path) -> None:
    layer = tmp_path / "layer"
    layer.mkdir()
    (layer / "c.yaml").write_text("conditions:\n  - id: extra_condition\n    label: Extra\n"
                                  "    review: {after_weeks: 0, why: too soon}\n")
    result = CliRunner().invoke(main, ["--kb", str(layer), "kb", "lint"])
    assert result.exit_code in (1, 2)
    assert "'after_weeks' of review of condition 'extra_condition' is 0" in result.output
