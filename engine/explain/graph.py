"""The reasoning graph: one networkx DiGraph per case, built from the recorded firing trace.

It is the single source for HOW / WHY NOT / WHAT IF, the HTML report, the markdown output and
`imbalance explain`, so they can never disagree. Nodes are findings (with their values), rule
firings and conclusions (with their combined certainty); edges run from each matched premise to
the firing and from the firing to what it concluded, carrying the firing's contribution.
`kb_graph` builds the same shape for the whole knowledge base (every rule, fired or not).

Node ids are `finding:<id>`, `firing:<rule id>` (`rule:<rule id>` in the KB graph) and
`conclusion:<id>`; a rule fires at most once per case, so one node per firing is exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import networkx as nx

from engine.inference.assessment import Assessment
from engine.inference.compiler import Event
from engine.kb import model as m

FINDING = "finding"
FIRING = "firing"
RULE = "rule"
CONCLUSION = "conclusion"

PREMISE = "premise"
CONCLUDES = "concludes"


def node_id(kind: str, ref: str) -> str:
    """The graph key of a finding, firing, rule or conclusion."""
    return f"{kind}:{ref}"


def ref_of(node: str) -> str:
    """The KB id inside a graph key (`finding:fever` -> `fever`)."""
    return node.split(":", 1)[1]


def reasoning_graph(kb: m.KnowledgeBase, events: Iterable[Event], facts: Mapping[str, Any],
                    urgency: Mapping[str, str] | None = None) -> nx.DiGraph:
    """The case's reasoning graph from its firing trace, in firing order."""
    urgency = urgency or {}
    graph: nx.DiGraph = nx.DiGraph(kind="case", kb_version=kb.version)
    certainty: dict[str, float] = {}
    for event in events:
        rule = event.rule
        firing = node_id(FIRING, rule.id)
        graph.add_node(firing, kind=FIRING, ref=rule.id, label=rule.title, band=rule.band,
                       index=event.index, rule_certainty=rule.certainty,
                       premise_cf=event.premise_cf, contribution=event.contribution,
                       certainty_after=event.certainty_after, because=rule.because,
                       sources=rule.sources, evidence=rule.evidence, red=False)
        for fid, value in event.matched:
            node = node_id(FINDING, fid)
            if node not in graph:
                finding = kb.findings.get(fid)
                graph.add_node(node, kind=FINDING, ref=fid, label=finding.label if finding else fid,
                               value=facts.get(fid, value), red=False)
            graph.add_edge(node, firing, role=PREMISE, value=value, red=False)
        for cid, cf in event.used:
            _add_conclusion(graph, kb, cid)
            graph.add_edge(node_id(CONCLUSION, cid), firing, role=PREMISE, certainty=cf, red=False)
        if rule.concludes:
            target = node_id(CONCLUSION, rule.concludes)
            certainty[rule.concludes] = event.certainty_after
            _add_conclusion(graph, kb, rule.concludes)
            graph.add_edge(firing, target, role=CONCLUDES, contribution=event.contribution,
                           certainty_after=event.certainty_after, red=False)
    for cid, cf in certainty.items():
        graph.nodes[node_id(CONCLUSION, cid)].update(certainty=cf, urgency=urgency.get(cid, ""))
    _mark_red_paths(graph)
    return graph


def case_graph(result: Assessment) -> nx.DiGraph:
    """The reasoning graph of an assessed case."""
    urgency = {flag.id: flag.urgency for flag in result.red_flags}
    return reasoning_graph(result.kb, result.events, result.case.facts, urgency)


def kb_graph(kb: m.KnowledgeBase) -> nx.DiGraph:
    """Every rule as a node between the findings it reads and the conclusion it draws."""
    graph: nx.DiGraph = nx.DiGraph(kind="kb", kb_version=kb.version)
    for rule in kb.rules:
        node = node_id(RULE, rule.id)
        graph.add_node(node, kind=RULE, ref=rule.id, label=rule.title, band=rule.band,
                       rule_certainty=rule.certainty, because=rule.because, sources=rule.sources,
                       evidence=rule.evidence, layer_name=rule.layer, order=rule.order, red=False)
        for fid, negated in _finding_leaves(rule.when):
            source = node_id(FINDING, fid)
            if source not in graph:
                finding = kb.findings.get(fid)
                graph.add_node(source, kind=FINDING, ref=fid, red=False,
                               label=finding.label if finding else fid,
                               category=finding.category if finding else "")
            graph.add_edge(source, node, role=PREMISE, negated=negated, red=False)
        for cid in rule.conclusions_used():
            _add_conclusion(graph, kb, cid)
            graph.add_edge(node_id(CONCLUSION, cid), node, role=PREMISE, negated=False, red=False)
        if rule.concludes:
            _add_conclusion(graph, kb, rule.concludes)
            graph.add_edge(node, node_id(CONCLUSION, rule.concludes), role=CONCLUDES,
                           certainty=rule.certainty, red=False)
    _mark_red_paths(graph)
    return graph


def _add_conclusion(graph: nx.DiGraph, kb: m.KnowledgeBase, cid: str) -> None:
    node = node_id(CONCLUSION, cid)
    if node in graph:
        return
    conclusion = kb.conclusions.get(cid)
    graph.add_node(node, kind=CONCLUSION, ref=cid, label=conclusion.label if conclusion else cid,
                   conclusion_kind=conclusion.kind if conclusion else "", certainty=0.0,
                   urgency=conclusion.urgency if conclusion else "", red=False)


def _finding_leaves(cond: m.Cond, negated: bool = False) -> list[tuple[str, bool]]:
    """(finding id, read under an odd number of `not`s) for every finding test, deduplicated."""
    if isinstance(cond, m.Test):
        return [(cond.finding, negated)]
    if isinstance(cond, m.Concluded):
        return []
    if isinstance(cond, m.Not):
        return _finding_leaves(cond.item, not negated)
    out: dict[str, bool] = {}
    for item in cond.items:
        for fid, neg in _finding_leaves(item, negated):
            out[fid] = out.get(fid, False) or neg
    return list(out.items())


def _mark_red_paths(graph: nx.DiGraph) -> None:
    """Flag every node and edge that leads to a red flag, so drawings can highlight the path."""
    flags = [n for n, d in graph.nodes(data=True)
             if d["kind"] == CONCLUSION and d.get("conclusion_kind") == "red_flag"]
    on_path: set[str] = set(flags)
    for flag in flags:
        on_path |= nx.ancestors(graph, flag)
    for node in on_path:
        graph.nodes[node]["red"] = True
    for source, target, data in graph.edges(data=True):
        data["red"] = source in on_path and target in on_path


def nodes_of(graph: nx.DiGraph, kind: str) -> list[str]:
    """Nodes of one kind, in insertion (firing) order."""
    return [n for n, d in graph.nodes(data=True) if d["kind"] == kind]


def supporting_firings(graph: nx.DiGraph, conclusion: str) -> list[str]:
    """The firings that concluded `conclusion`, in firing order."""
    node = node_id(CONCLUSION, conclusion)
    if node not in graph:
        return []
    return sorted(graph.predecessors(node), key=lambda n: graph.nodes[n].get("index", 0))


def premises_of(graph: nx.DiGraph, firing: str) -> tuple[list[str], list[str]]:
    """(finding nodes, conclusion nodes) that a firing matched, in stable order."""
    findings = [n for n in graph.predecessors(firing) if graph.nodes[n]["kind"] == FINDING]
    used = [n for n in graph.predecessors(firing) if graph.nodes[n]["kind"] == CONCLUSION]
    return sorted(findings), sorted(used)


def subgraph_around(graph: nx.DiGraph, nodes: Iterable[str]) -> nx.DiGraph:
    """The given nodes with everything upstream and downstream of them (for focused drawings)."""
    keep: set[str] = set()
    for node in nodes:
        if node in graph:
            keep |= {node} | nx.ancestors(graph, node) | nx.descendants(graph, node)
    return graph.subgraph(n for n in graph.nodes if n in keep).copy()
