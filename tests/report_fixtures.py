"""A small, self-contained KB layer for the graph, explain and report tests.

Its findings and conclusions are its own (`t_*`), so what these tests expect holds whatever the
shipped knowledge base grows into: no shipped rule reads a `t_*` finding.
"""

from __future__ import annotations

import functools
from pathlib import Path

from engine.cases.case import load_case
from engine.inference.assessment import Assessment
from engine.inference.reasoner import Reasoner
from engine.kb.loader import load_kb
from engine.kb.model import KnowledgeBase
from reports.document import ReportDocument, build_document

LAYER = """\
knowledge_base:
  name: test-layer
  version: 0.1-test
findings:
  - id: t_sign_a
    label: Test sign A
    category: examination
    type: boolean
    question: Is test sign A present?
  - id: t_sign_b
    label: Test sign B
    category: examination
    type: boolean
    question: Is test sign B present?
  - id: t_alarm
    label: Test alarm symptom
    category: symptom
    type: boolean
    question: Is there the test alarm symptom?
  - id: t_hours
    label: Test hours
    category: activity
    type: number
    unit: hours per day
    range: [0, 24]
    question: How many test hours a day?
red_flags:
  - id: t_flag
    label: Test red flag
    description: A red flag used only by the tests.
    urgency: urgent
    action: Refer the test patient within two weeks.
conditions:
  - id: t_cond
    label: Test condition
    description: A condition used only by the tests.
  - id: t_chained
    label: Test chained condition
causes:
  - id: t_cause
    label: Test cause
recommendations:
  - id: t_advice
    kind: education
    text: Test advice for the test cause.
    sources: [seed_001]
rules:
  - id: t_flag_rule
    title: Alarm symptom with sign A raises the test red flag
    band: red_flag
    when:
      - t_alarm: true
      - t_sign_a: true
    then:
      red_flag: t_flag
      certainty: 0.7
      because: Test alarm with sign A.
    sources: [nice_ng59]
    evidence: high
  - id: t_cond_rule
    title: Signs A and B suggest the test condition
    band: condition
    when:
      - t_sign_a: true
      - t_sign_b: true
    then:
      condition: t_cond
      certainty: 0.6
      because: Both test signs.
      stretch: [iliopsoas]
      strengthen: [gluteus_maximus]
    sources: [seed_003]
    evidence: expert_opinion
  - id: t_chain_rule
    title: The test condition with long hours suggests the chained condition
    band: condition
    when:
      - concluded: t_cond
      - t_hours: {ge: 8}
    then:
      condition: t_chained
      certainty: 0.5
      because: Chained on the test condition.
    sources: [seed_003]
    evidence: low
  - id: t_cause_rule
    title: Sign A without the alarm symptom suggests the test cause
    band: cause
    when:
      - t_sign_a: true
      - not: {t_alarm: true}
    then:
      cause: t_cause
      certainty: 0.4
      because: Sign A alone.
      recommend: [t_advice]
    sources: [seed_001]
    evidence: low
"""

# Every t_* rule fires: condition, chained condition and cause; no red flag.
FULL = {"t_sign_a": True, "t_sign_b": True, "t_alarm": False, "t_hours": 9}
# The test red flag fires (urgent) and nothing else from the layer.
RED = {"t_alarm": True, "t_sign_a": True, "t_sign_b": False}
# Nothing fires; every t_* rule is a near miss with sign A satisfied.
PARTIAL = {"t_sign_a": True}


def write_layer(folder: Path, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "test_layer.yaml").write_text(LAYER + extra, encoding="utf-8")
    return folder


def case_yaml(findings: dict[str, object], patient: str = "") -> str:
    lines = [patient.rstrip()] if patient else []
    lines.append("findings:")
    for key, value in findings.items():
        lines.append(f"  {key}: {str(value).lower() if isinstance(value, bool) else value}")
    return "\n".join(lines) + "\n"


GENERATED = "2026-01-01 00:00 UTC"
EPOCH = {"SOURCE_DATE_EPOCH": "1767225600"}  # the same moment, for the real CLI


@functools.lru_cache(maxsize=1)
def shipped() -> tuple[KnowledgeBase, Reasoner]:
    """The shipped KB and one reasoner, shared by every report test in this process."""
    kb = load_kb()
    return kb, Reasoner(kb)


@functools.cache
def example(path: str) -> tuple[Assessment, ReportDocument]:
    """An example case assessed and built into a report document once per test run
    (WHAT IF re-runs the case many times, so building is the slow part of a report)."""
    kb, reasoner = shipped()
    result = reasoner.assess(load_case(path, kb))
    return result, build_document(result, reasoner, GENERATED)
