"""Shared by the FHIR tests: a hypothesis strategy for random cases over the shipped vocabulary."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from engine.cases.case import Case
from engine.kb import model as m


def value_strategy(finding: m.Finding) -> st.SearchStrategy[Any]:
    if finding.type == "boolean":
        return st.booleans()
    if finding.type == "sided":
        return st.sampled_from([True, False, "left", "right", "bilateral"])
    if finding.type == "enum":
        return st.sampled_from(finding.values)
    low = int(finding.minimum if finding.minimum is not None else 0)
    high = int(finding.maximum if finding.maximum is not None else low + 100)
    if finding.integer:  # a count: 1.5 positive tests is refused
        return st.integers(low, high)
    return st.one_of(st.integers(low, high),
                     st.floats(low, high, allow_nan=False).map(lambda x: round(x, 1)))


@st.composite
def cases(draw: st.DrawFn, kb: m.KnowledgeBase) -> Case:
    """A random case: some findings known (true, false, a side, a number), the rest unknown."""
    ids = [fid for fid, f in kb.findings.items() if f.category != "patient"]
    chosen = draw(st.lists(st.sampled_from(ids), unique=True, max_size=25))
    findings = {fid: draw(value_strategy(kb.findings[fid])) for fid in chosen}
    patient: dict[str, Any] = {}
    if draw(st.booleans()):
        patient["id"] = draw(st.from_regex(r"P-[0-9]{1,4}", fullmatch=True))
    if draw(st.booleans()):
        patient["age"] = draw(st.integers(0, 120))
    if draw(st.booleans()):
        patient["sex"] = draw(st.sampled_from(["female", "male", "other", "unknown"]))
    return Case("random", patient, findings)
