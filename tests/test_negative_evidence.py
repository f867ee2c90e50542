"""Evidence against (`against: true`): EMYCIN's combination, equal to multiplying likelihood
ratios (Heckerman 1986), so firing order never matters; red flags are never lowered."""

from __future__ import annotations

import itertools
import json
import math
from functools import reduce
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.cases.case import Case
from engine.inference.premises import combine
from engine.inference.reasoner import Reasoner
from engine.kb.loader import load_kb
from tests.conftest import run_cli

KB = load_kb()
REASONER = Reasoner(KB)
BOOLEANS = {f.id for f in KB.findings.values() if f.type == "boolean"}

factors = st.floats(-0.99, 0.99, allow_nan=False).filter(lambda x: abs(x) > 1e-6)


def likelihood_ratio(cf: float) -> float:
    """Heckerman's reading of a certainty factor as a likelihood ratio."""
    return 1.0 / (1.0 - cf) if cf >= 0 else 1.0 + cf


def certainty_factor(lr: float) -> float:
    return 1.0 - 1.0 / lr if lr >= 1 else lr - 1.0


@given(st.lists(factors, min_size=1, max_size=5))
def test_combining_is_multiplying_likelihood_ratios_in_any_order(cfs: list[float]) -> None:
    expected = certainty_factor(math.prod(likelihood_ratio(cf) for cf in cfs))
    for order in itertools.islice(itertools.permutations(cfs), 24):
        assert math.isclose(reduce(combine, order, 0.0), expected, abs_tol=1e-9)


@given(factors, factors)
def test_combining_stays_in_minus_one_to_one_and_support_still_adds_up(a: float, b: float) -> None:
    assert -1.0 <= combine(a, b) <= 1.0
    if a >= 0 and b >= 0:
        assert combine(a, b) == a + b * (1 - a)  # MYCIN's positive combination, unchanged


def test_the_published_negative_slr_figure_reads_as_its_likelihood_ratio() -> None:
    # sciatica 0.5 from pain below the knee (LR 2) and a negative SLR with normal neurology
    # (certainty against 0.65, LR- 0.35): LR 0.7, below 1, so sciatica is not reached
    assert math.isclose(combine(0.5, -0.65), certainty_factor(2 * 0.35))
    assert combine(0.5, -0.65) < 0


CASE = "findings: {leg_pain_below_knee: right, positive_straight_leg_raise: false, " \
    "normal_neurological_exam: true, buttock_pain: right, pain_worse_sitting: true, " \
    "positive_fair_test: true}\n"


def test_lowered_sciatica_is_not_reported_and_piriformis_is(tmp_path: Path) -> None:
    case = tmp_path / "case.yaml"
    case.write_text(CASE)
    data = json.loads(run_cli("assess", str(case), "--format", "json").stdout)
    ids = [c["id"] for c in data["conditions"]]
    assert "sciatica" not in ids and ids[0] == "piriformis_syndrome"
    assert all(0 < c["certainty"] <= 1 for c in (*data["conditions"], *data["causes"]))
    assert "sciatica_negative_slr_normal_neurology" in data["fired_rules"]
    explained = json.loads(run_cli("explain", str(case), "sciatica", "--format", "json").stdout)
    assert explained["reached"] is False and explained["certainty"] == 0.0
    assert [s["rule"] for s in explained["lowered_by"]] == [
        "sciatica_pain_below_knee", "sciatica_negative_slr_normal_neurology"]
    text = run_cli("explain", str(case), "sciatica").stdout
    assert "Evidence against outweighed the support" in text
    assert "lowers   0.65 x 1.00 = -0.65; combined -0.30" in text


def test_a_red_flag_is_never_lowered(tmp_path: Path) -> None:
    (tmp_path / "clinic.yaml").write_text("""rules:
  - id: clinic_no_ces
    title: Normal anal tone
    band: red_flag
    when: [{saddle_anaesthesia: false}]
    then: {red_flag: cauda_equina_syndrome, certainty: 0.5, against: true}
    sources: [seed_002]
    evidence: low
""")
    proc = run_cli("--kb", str(tmp_path), "assess", "examples/cases/cauda_equina_emergency.yaml")
    assert proc.returncode == 2
    assert f"{tmp_path}/clinic.yaml:6: rule 'clinic_no_ces' lowers a red flag" in proc.stderr


def test_against_needs_a_conclusion_and_a_yes_or_no(tmp_path: Path) -> None:
    (tmp_path / "clinic.yaml").write_text("""rules:
  - id: clinic_odd
    title: Odd
    band: condition
    when: [{lateral_knee_pain: false}]
    then: {condition: it_band_syndrome, certainty: 0.5, against: maybe, because: Test.}
    sources: [seed_001]
    evidence: low
""")
    proc = run_cli("--kb", str(tmp_path), "kb", "lint")
    assert "clinic.yaml:6: error: 'against' of rule 'clinic_odd' must be true or false" in proc.stdout


def _negatives() -> dict[str, object]:
    """Values that make every rule against fire, for findings no red-flag rule reads."""
    kb = KB
    red = {fid for r in kb.rules if r.band == "red_flag" for fid in r.findings_used()}
    values = {"positive_straight_leg_raise": False, "normal_neurological_exam": True,
              "laslett_positive_count": 0, "positive_fair_test": False}
    against = {fid for r in kb.rules if r.against for fid in r.findings_used()}
    assert against <= set(values), "a new rule against: give its negative value here"
    return {fid: v for fid, v in values.items() if fid not in red}


NEGATIVES = _negatives()


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(BOOLEANS)), st.booleans(), max_size=12))
def test_known_negatives_never_change_the_red_flags_nor_raise_a_conclusion(
        findings: dict[str, bool]) -> None:
    before = REASONER.assess(Case("case.yaml", {}, findings))
    after = REASONER.assess(Case("case.yaml", {}, {**findings, **NEGATIVES}))
    assert [(f.id, f.urgency) for f in after.red_flags] == \
        [(f.id, f.urgency) for f in before.red_flags]
    assert after.triage == before.triage
    lowered = {"sciatica", "si_joint_dysfunction", "piriformis_syndrome"}
    for item in before.conditions:
        if item.id in lowered:
            now = after.reached(item.id)
            assert now is None or now.certainty <= item.certainty + 1e-9
