"""`settle: true` on a checklist: a default interview also settles the rules that read it.

Default interviews stop once red flags and conditions are settled; a screening tool a guideline
asks at first contact (STarT Back in NICE NG59) feeds advice rules only, so without the flag it
would be asked only with --thorough.
"""

from __future__ import annotations

from pathlib import Path

from engine.inference.reasoner import Reasoner
from engine.inference.startback import ITEMS
from engine.interview.planner import Planner
from engine.interview.session import replay
from engine.kb.loader import load_kb
from tests.conftest import run_cli

PLAIN_STARTBACK = """\
disable:
  - {checklist: startback, reason: regrouped without settle for this test}
checklists:
  - id: startback_plain
    label: STarT Back, not settled
    question: "Which did the patient agree with?"
    findings: [startback_leg_pain, startback_shoulder_or_neck_pain,
               startback_walks_short_distances_only, startback_dresses_slowly,
               startback_unsafe_to_be_active, startback_worrying_thoughts,
               startback_feels_terrible, startback_not_enjoyed_things, startback_very_bothersome]
"""
BACK_PAIN = {"low_back_pain": True, "age": 40, **dict.fromkeys(ITEMS, False)}


def test_the_shipped_startback_checklist_is_settled(kb) -> None:
    planner = Planner(kb)
    assert kb.checklists["startback"].settle
    assert {"startback_low_risk", "startback_medium_risk", "startback_high_risk"} <= planner.settled
    assert not any(c.settle for c in kb.checklists.values() if c.id != "startback")
    asked = replay(kb, Reasoner(kb), BACK_PAIN, planner).asked
    assert set(ITEMS) <= set(asked)


def test_without_settle_only_a_thorough_interview_asks_it(tmp_path: Path) -> None:
    layer = tmp_path / "clinic"
    layer.mkdir()
    (layer / "startback.yaml").write_text(PLAIN_STARTBACK, encoding="utf-8")
    clinic = load_kb((layer,))
    reasoner = Reasoner(clinic)
    assert not Planner(clinic).settled
    assert not set(ITEMS) & set(replay(clinic, reasoner, BACK_PAIN, Planner(clinic)).asked)
    thorough = Planner(clinic, thorough=True)
    assert set(ITEMS) <= set(replay(clinic, reasoner, BACK_PAIN, thorough).asked)


def test_settle_must_be_true_or_false(tmp_path: Path) -> None:
    layer = tmp_path / "clinic"
    layer.mkdir()
    (layer / "bad.yaml").write_text(PLAIN_STARTBACK.replace(
        "    label: STarT Back, not settled\n",
        "    label: STarT Back, not settled\n    settle: often\n"), encoding="utf-8")
    proc = run_cli("--kb", str(layer), "kb", "lint")
    assert proc.returncode == 1
    assert "bad.yaml:6:" in proc.stdout and "'settle' must be true or false" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
