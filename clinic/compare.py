"""What changed: between two assessments of one visit (a newer KB), or between two visits.

Both read the stored contract JSON, never the engine, so a comparison shows exactly what each
clinician saw. Each row says in words whether it changed, so the highlight is never colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.kb import model as m
from engine.wording import answer_text

SAME_CERTAINTY = 0.005


@dataclass(frozen=True)
class Row:
    label: str
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class Part:
    title: str
    rows: tuple[Row, ...]

    @property
    def changes(self) -> int:
        return sum(row.changed for row in self.rows)


def with_defaults(result: dict[str, Any]) -> dict[str, Any]:
    """A stored result with every key a page reads, so results saved by older versions (or
    before `plan` and `review` existed) still show."""
    out: dict[str, Any] = {"triage": "routine", "red_flags": [], "conditions": [], "causes": [],
                           "muscles": {}, "recommendations": [], "review": None, **result}
    out["muscles"] = {"stretch": [], "strengthen": [], **(out["muscles"] or {})}
    out["red_flags"] = [{"id": "", "label": f.get("id", ""), "urgency": "", "action": "", **f}
                        for f in out["red_flags"]]
    for key in ("conditions", "causes"):
        out[key] = [{"label": c.get("id", ""), "certainty": 0.0, "side": None, **c} for c in out[key]]
    return out


def _finding_label(kb: m.KnowledgeBase, fid: str) -> str:
    finding = kb.findings.get(fid)
    return finding.label if finding else fid


def _value(kb: m.KnowledgeBase, fid: str, findings: dict[str, Any]) -> str:
    if fid not in findings:
        return "not asked"
    value = findings[fid]
    return answer_text(kb.findings.get(fid), value)


def _conclusions(result: dict[str, Any], key: str) -> dict[str, tuple[str, float, str]]:
    return {item["id"]: (item.get("label", item["id"]), float(item.get("certainty", 0.0)),
                         item.get("urgency", "")) for item in result.get(key, [])}


def _certainty(entry: tuple[str, float, str] | None) -> str:
    if entry is None:
        return "not reached"
    return f"{entry[1]:.2f}" + (f" ({entry[2]})" if entry[2] else "")


def _conclusion_rows(before: dict[str, Any], after: dict[str, Any], key: str) -> tuple[Row, ...]:
    a, b = _conclusions(before, key), _conclusions(after, key)
    def strongest(cid: str) -> float:
        return -max(a.get(cid, ("", 0.0, ""))[1], b.get(cid, ("", 0.0, ""))[1])

    ids = sorted(a.keys() | b.keys(), key=strongest)
    rows = []
    for cid in ids:
        label = (a.get(cid) or b[cid])[0]
        left, right = _certainty(a.get(cid)), _certainty(b.get(cid))
        if cid in a and cid in b and abs(a[cid][1] - b[cid][1]) < SAME_CERTAINTY and a[cid][2] == b[cid][2]:
            right = left
        rows.append(Row(label, left, right))
    return tuple(rows)


def plan_lines(result: dict[str, Any]) -> list[str]:
    """The plan (the contract's `plan`, most important first) or, for results made before plans
    existed, the recommendations."""
    items = result.get("plan") or result.get("recommendations") or []
    return [str(item.get("text", item.get("id", ""))) for item in items]


def _plan_rows(before: dict[str, Any], after: dict[str, Any]) -> tuple[Row, ...]:
    a, b = plan_lines(before), plan_lines(after)
    return tuple(Row(text, "in the plan" if text in a else "not in the plan",
                     "in the plan" if text in b else "not in the plan") for text in dict.fromkeys([*a, *b]))


def _review(result: dict[str, Any]) -> str:
    review = result.get("review")
    if isinstance(review, dict) and review.get("after_weeks"):
        return f"after {review['after_weeks']} weeks"
    return "not given"


def compare_results(before: dict[str, Any], after: dict[str, Any]) -> list[Part]:
    return [
        Part("Triage", (Row("Triage", before.get("triage", ""), after.get("triage", "")),
                        Row("Review", _review(before), _review(after)))),
        Part("Red flags", _conclusion_rows(before, after, "red_flags")),
        Part("Conditions (certainty)", _conclusion_rows(before, after, "conditions")),
        Part("Causes (certainty)", _conclusion_rows(before, after, "causes")),
        Part("Plan", _plan_rows(before, after)),
    ]


def compare_findings(kb: m.KnowledgeBase, before: dict[str, Any], after: dict[str, Any]) -> Part:
    order = {fid: i for i, fid in enumerate(kb.findings)}
    ids = sorted(before.keys() | after.keys(), key=lambda fid: order.get(fid, len(order)))
    return Part("Findings", tuple(Row(_finding_label(kb, fid), _value(kb, fid, before),
                                      _value(kb, fid, after)) for fid in ids))
