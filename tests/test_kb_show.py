"""`imbalance kb show ID`: definition, users, consequences and sources of any entry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.authoring.catalogue import Catalogue, condition_lines
from engine.errors import InputError
from engine.kb.loader import load_layers
from tests.conftest import run_cli

MINI = Path(__file__).parent / "fixtures" / "mini_kb"
LOADED = load_layers((MINI,))
CAT = Catalogue(LOADED.kb, LOADED.disabled_rules)


def sections(ident: str, kind: str) -> dict[str, list[str]]:
    entry = next(e for e in CAT.show(ident) if e.kind == kind)
    return dict(entry.sections)


def test_rule_shows_definition_condition_sources_and_tests() -> None:
    (entry,) = CAT.show("chronic_back_pain")
    assert (entry.kind, entry.location.line) == ("rule", 28)
    assert entry.location.path.endswith("mini_kb/rules.yaml")
    got = dict(entry.sections)
    assert got["when"] == ["back_pain = true", "any of:", "  weeks >= 12 weeks",
                           "  sport in [running, cycling]"]
    assert got["then"] == ["condition chronic_pain, certainty 0.6",
                           "because: Twelve weeks is the usual threshold for persistent pain.",
                           "recommend: walk"]
    assert got["sources"] == ["guide: A guideline (2020) [high]", "evidence: high"]
    assert got["leads to"] == ["condition chronic_pain",
                               "  weakness_in_older_chronic -> cause weakness (0.4)"]
    assert got["tests"][0].startswith("must fire: older runner with persistent pain (")


def test_finding_shows_rules_and_what_it_leads_to() -> None:
    got = sections("back_pain", "finding")
    assert got["about"] == ["symptom, boolean: takes true or false", "question: Back pain?"]
    assert [line.split(" (")[0] for line in got["can trigger"]] == ["infection_fever",
                                                                "chronic_back_pain"]
    assert got["leads to"] == ["red flag infection", "condition chronic_pain",
                               "  weakness_in_older_chronic -> cause weakness (0.4)"]
    assert got["tests"] == ["given in 3 case tests"]


def test_conclusion_shows_producers_ceiling_and_sources() -> None:
    got = sections("weakness", "cause")
    assert got["concluded by"][0].startswith("weakness_in_older_chronic (")
    assert got["concluded by"][0].endswith("certainty 0.4, from concluded chronic_pain, age")
    assert got["certainty"] == ["can reach at most 0.24"]
    assert got["sources"] == ["blog.txt: A coach's blog [expert_opinion]"]


def test_red_flag_shows_urgency_and_action() -> None:
    got = sections("infection", "red flag")
    assert got["about"] == ["urgency: emergency",
                            "action (emergency): Send to the emergency department now."]


def test_muscle_recommendation_and_source() -> None:
    assert sections("hams", "muscle")["stretched by"][0].startswith("sciatica_leg_pain (")
    assert sections("walk", "recommendation")["recommended by"][0].startswith("chronic_back_pain (")
    cited = sections("blog.txt", "source")["cited by"]  # a source found by its file name
    assert cited[0].startswith("rule weakness_in_older_chronic (")


def test_unknown_id_suggests_the_closest() -> None:
    with pytest.raises(InputError) as err:
        CAT.show("back_pian")
    assert err.value.suggestion == "did you mean 'back_pain'?"


def test_condition_outline_for_not_and_clusters() -> None:
    from engine.kb.schema import Reader, read_condition
    from engine.kb.yamlsource import parse_text

    cond = read_condition(Reader("t", []), parse_text(
        "[{not: {fever: true}}, {at_least: 2, of: [{back_pain: true}, {leg_pain: true}, "
        "{concluded: sciatica, min_certainty: 0.4}]}]"), LOADED.kb.rules[0].location)
    assert cond is not None
    assert condition_lines(cond, LOADED.kb) == [
        "not: fever = true", "at least 2 of:", "  back_pain = true", "  leg_pain = true (any side)",
        "  concluded: sciatica (min_certainty 0.4)"]


def test_cli_show_rule_and_unknown_id() -> None:
    proc = run_cli("kb", "show", "fever")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("finding fever: ")
    assert lines[1].startswith("  defined at kb/vocabulary/")
    assert any(line.strip().startswith("can trigger") for line in lines)
    bad = run_cli("kb", "show", "saddle_anesthesia")
    assert bad.returncode == 2
    assert bad.stderr.strip() == (
        "error: unknown id 'saddle_anesthesia': no rule, finding, conclusion, muscle, "
        "recommendation, source or checklist has it (did you mean 'saddle_anaesthesia'?)")


def test_cli_show_disabled_rule_and_clinic_entries(tmp_path: Path) -> None:
    clinic = tmp_path / "clinic"
    clinic.mkdir()
    (clinic / "clinic.yaml").write_text((Path(__file__).parent / "fixtures" / "broken_kb" /
                                         "subsumed" / "rules.yaml").read_text())
    off = tmp_path / "off"
    off.mkdir()
    (off / "off.yaml").write_text("disable:\n  - rule: clinic_specific\n    reason: Too narrow.\n")
    proc = run_cli("--kb", str(clinic), "--kb", str(off), "kb", "show", "clinic_specific")
    assert proc.returncode == 0, proc.stderr
    assert f"  disabled: switched off by {off}/off.yaml:2: Too narrow." in proc.stdout.splitlines()
    data = json.loads(run_cli("--kb", str(clinic), "kb", "show", "clinic_condition", "--format",
                              "json").stdout)
    assert data[0]["kind"] == "condition"
    assert [line.split(" (")[0] for line in data[0]["sections"]["concluded by"]] == [
        "clinic_general", "clinic_specific"]


def test_cli_index_without_id() -> None:
    proc = run_cli("kb", "show")
    assert proc.returncode == 0
    assert "findings (" in proc.stdout and "  saddle_anaesthesia  Saddle anaesthesia" in proc.stdout


def test_a_guard_is_shown_as_a_gate_not_a_consequence() -> None:
    """Saddle numbness leads to the cauda equina red flag and its referral advice; the
    exercise advice that a red flag switches off (`not: {concluded: ...}`) is no consequence."""
    proc = run_cli("kb", "show", "saddle_anaesthesia", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    (entry,) = json.loads(proc.stdout)
    sections = entry["sections"]
    triggers = " ".join(sections["can trigger"])
    assert "ces_saddle_anaesthesia" in triggers
    gates = " ".join(sections["only gates (fire only while it is absent)"])
    assert "nslbp_red_flags_screened_negative" in gates and "ces_" not in gates
    leads = "\n".join(sections["leads to"])
    assert "advice_defer_exercise_red_flag" in leads
    assert "advice_it_band_syndrome" not in leads and "patellofemoral" not in leads
    red = run_cli("kb", "show", "cauda_equina_syndrome", "--format", "json")
    gated = json.loads(red.stdout)[0]["sections"]
    assert any(key.startswith("gates") for key in gated)
