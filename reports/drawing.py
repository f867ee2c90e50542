"""What each node of a reasoning graph looks like: the display attributes `reports.svg` draws.

The reasoning graphs in `engine.explain.graph` hold clinical data (values, certainties, contributions);
this module turns that into short labels, notes, tones and groups. A case drawing and the
whole-KB drawing differ only here; the layering and the SVG are shared.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from engine.explain.graph import CONCLUSION, FINDING, FIRING, RULE
from engine.kb import model as m
from engine.wording import answer_text, certainty_word
from reports.svg import render_svg

GROUP = {"red_flag": 0, "condition": 1, "cause": 2}
ADVICE_GROUP = 3
CASE_HEADERS = {FINDING: "Findings given", FIRING: "Rules that fired", CONCLUSION: "Conclusions"}
KB_HEADERS = {FINDING: "Findings", RULE: "Rules", CONCLUSION: "Conclusions"}


def _conclusion_attrs(data: dict[str, Any], kb: m.KnowledgeBase, case: bool) -> dict[str, Any]:
    kind = data.get("conclusion_kind", "")
    conclusion = kb.conclusions.get(data["ref"])
    attrs: dict[str, Any] = {
        "title": data["label"], "tone": kind or "plain", "group": GROUP.get(kind, ADVICE_GROUP),
        "tooltip": conclusion.description if conclusion else "",
    }
    if case:
        cf = float(data.get("certainty", 0.0))
        attrs["rank"] = -cf
        attrs["href"] = f"#how-{data['ref']}"
        if kind == "red_flag":
            attrs["note"] = f"{(data.get('urgency') or 'red flag').upper()} · {cf:.2f}"
        elif cf <= 0:  # evidence against outweighed the support: drawn, but not reached
            attrs["note"] = "not reached · lowered"
            attrs["bar"] = 0.0
            attrs.pop("href")  # it has no HOW section
        else:
            attrs["note"] = f"{cf:.2f} · {certainty_word(cf)}"
            attrs["bar"] = cf
    else:
        attrs["note"] = {"red_flag": "red flag", "condition": "condition", "cause": "cause"}.get(kind, "")
        attrs["href"] = f"#c-{data['ref']}"
    return attrs


def case_drawing(graph: nx.DiGraph, kb: m.KnowledgeBase) -> nx.DiGraph:
    """A copy of a case's reasoning graph with display attributes for the report."""
    drawn = graph.copy()
    for _, data in drawn.nodes(data=True):
        if data["kind"] == CONCLUSION:
            data.update(_conclusion_attrs(data, kb, case=True))
    for node, data in drawn.nodes(data=True):
        if data["kind"] == FIRING:
            targets = list(drawn.successors(node))
            group = min((drawn.nodes[t]["group"] for t in targets), default=ADVICE_GROUP)
            tone = "red" if data["red"] else "plain"
            if targets:
                note = (f"{data['rule_certainty']:.2f} \N{MULTIPLICATION SIGN} {data['premise_cf']:.2f} → "
                        f"{data['contribution']:+.2f}")
            else:  # an advice rule: it adds recommendations, not certainty; drawn small
                note, tone = "", "advice"
                data["max_lines"] = 2
            data.update(title=data["label"], note=note, tone=tone,
                        group=group, rank=float(data["index"]),
                        tooltip=f"{data['ref']}: {data['because']}".rstrip(": "),
                        href=drawn.nodes[targets[0]].get("href", "") if targets else "")
    for node, data in drawn.nodes(data=True):
        if data["kind"] == FINDING:
            readers = list(drawn.successors(node))
            finding = kb.findings.get(data["ref"])
            data.update(title=data["label"], note=answer_text(kb.findings.get(data["ref"]), data["value"]),
                        tone="red" if data["red"] else "plain",
                        group=min((drawn.nodes[r]["group"] for r in readers), default=ADVICE_GROUP),
                        rank=min((drawn.nodes[r]["rank"] for r in readers), default=0.0),
                        tooltip=finding.question if finding else "")
    return drawn


def kb_drawing(graph: nx.DiGraph, kb: m.KnowledgeBase) -> nx.DiGraph:
    """A copy of the whole-KB graph with display attributes for `imbalance kb graph`."""
    drawn = graph.copy()
    for _, data in drawn.nodes(data=True):
        if data["kind"] == CONCLUSION:
            data.update(_conclusion_attrs(data, kb, case=False))
    for node, data in drawn.nodes(data=True):
        if data["kind"] == RULE:
            targets = list(drawn.successors(node))
            group = min((drawn.nodes[t]["group"] for t in targets), default=ADVICE_GROUP)
            tone = "red" if data["band"] == "red_flag" else ("plain" if targets else "advice")
            data.update(title=data["label"], note=f"{data['ref']} · {data['rule_certainty']:.2f}",
                        tone=tone, group=group, rank=float(data.get("order", 0)),
                        href=f"#r-{data['ref']}", tooltip=f"{data['ref']}: {data['because']}")
    for _, target, data in drawn.edges(data=True):
        # the whole KB is one big screen for red flags: only the last step into each is red
        data["red"] = drawn.nodes[target].get("conclusion_kind") == "red_flag"
    for node, data in drawn.nodes(data=True):
        if data["kind"] == FINDING:
            readers = list(drawn.successors(node))
            finding = kb.findings.get(data["ref"])
            data.update(title=data["label"], note=data["ref"], tone="plain",
                        group=min((drawn.nodes[r]["group"] for r in readers), default=ADVICE_GROUP),
                        rank=min((drawn.nodes[r]["rank"] for r in readers), default=0.0),
                        tooltip=finding.question if finding else "")
    return drawn


def case_svg(graph: nx.DiGraph, kb: m.KnowledgeBase) -> tuple[str, float]:
    """The report's reasoning graph as inline SVG."""
    return render_svg(case_drawing(graph, kb), CASE_HEADERS,
                      "Reasoning graph: findings, the rules they fired, and the conclusions reached",
                      css_id="reasoning")


def kb_svg(graph: nx.DiGraph, kb: m.KnowledgeBase, css_id: str = "kb") -> tuple[str, float]:
    """The knowledge base's dependency graph (or a part of it) as inline SVG."""
    return render_svg(kb_drawing(graph, kb), KB_HEADERS,
                      "Knowledge base: findings, the rules that read them, and what they conclude",
                      css_id=css_id)
