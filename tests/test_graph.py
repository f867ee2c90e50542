"""The reasoning graph is built from the firing trace: one node per finding, firing and conclusion."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from engine.cases.case import Case, load_case
from engine.explain.graph import (
    CONCLUDES,
    CONCLUSION,
    FINDING,
    FIRING,
    PREMISE,
    RULE,
    case_graph,
    kb_graph,
    node_id,
    nodes_of,
    subgraph_around,
)
from engine.inference.reasoner import Reasoner
from engine.kb.loader import load_kb
from engine.kb.model import KnowledgeBase
from reports.svg import layers, layout
from tests.conftest import ROOT
from tests.report_fixtures import FULL, RED, write_layer

EXAMPLES = sorted((ROOT / "examples" / "cases").glob("*.yaml"))


@pytest.fixture(scope="module")
def layer_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return load_kb((write_layer(tmp_path_factory.mktemp("layer")),))


@pytest.fixture(scope="module")
def layer_reasoner(layer_kb: KnowledgeBase) -> Reasoner:
    return Reasoner(layer_kb)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_one_node_per_finding_firing_and_conclusion(path: Path, kb, reasoner) -> None:
    result = reasoner.assess(load_case(str(path), kb))
    graph = case_graph(result)
    matched = {fid for event in result.events for fid, _ in event.matched}
    reached = {r.id for r in (*result.red_flags, *result.conditions, *result.causes)}
    assert {graph.nodes[n]["ref"] for n in nodes_of(graph, FINDING)} == matched
    assert [graph.nodes[n]["ref"] for n in nodes_of(graph, FIRING)] == result.fired_rules
    # a conclusion that evidence against took to 0 or below keeps its node (its firings explain
    # WHY NOT) but is not reached
    shown = {graph.nodes[n]["ref"]: graph.nodes[n]["certainty"] for n in nodes_of(graph, CONCLUSION)}
    assert {cid for cid, cf in shown.items() if cf > 0} == reached
    lowered = {e.concluded for e in result.events if e.concluded} - reached
    assert set(shown) - reached == lowered
    assert graph.number_of_nodes() == len(matched) + len(result.events) + len(reached) + len(lowered)
    assert nx.is_directed_acyclic_graph(graph)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_edges_carry_values_and_contributions(path: Path, kb, reasoner) -> None:
    result = reasoner.assess(load_case(str(path), kb))
    graph = case_graph(result)
    for event in result.events:
        firing = node_id(FIRING, event.rule.id)
        for fid, value in event.matched:
            edge = graph.edges[node_id(FINDING, fid), firing]
            assert edge["role"] == PREMISE and edge["value"] == value
            assert graph.nodes[node_id(FINDING, fid)]["value"] == result.case.facts[fid]
        if event.rule.concludes:
            edge = graph.edges[firing, node_id(CONCLUSION, event.rule.concludes)]
            assert edge["role"] == CONCLUDES
            assert edge["contribution"] == pytest.approx(event.contribution)
    for reached in (*result.red_flags, *result.conditions, *result.causes):
        assert graph.nodes[node_id(CONCLUSION, reached.id)]["certainty"] == pytest.approx(reached.certainty)


def test_chained_conclusion_is_a_premise_edge(layer_kb, layer_reasoner) -> None:
    result = layer_reasoner.assess(Case("t", {}, dict(FULL)))
    graph = case_graph(result)
    used = graph.edges[node_id(CONCLUSION, "t_cond"), node_id(FIRING, "t_chain_rule")]
    assert used["role"] == PREMISE and used["certainty"] == pytest.approx(0.6)
    assert graph.nodes[node_id(CONCLUSION, "t_chained")]["certainty"] == pytest.approx(0.5 * 0.6)
    # columns: findings, rules, conclusions, chained rule, chained conclusion
    column = layers(graph)
    assert column[node_id(FINDING, "t_sign_a")] == 0
    assert column[node_id(FIRING, "t_cond_rule")] == 1
    assert column[node_id(CONCLUSION, "t_cond")] == 2
    assert column[node_id(FIRING, "t_chain_rule")] == 3
    assert column[node_id(CONCLUSION, "t_chained")] == 4
    assert column[node_id(FINDING, "t_hours")] == 0


def test_red_flag_path_is_marked(layer_kb, layer_reasoner) -> None:
    graph = case_graph(layer_reasoner.assess(Case("t", {}, dict(RED))))
    flag = node_id(CONCLUSION, "t_flag")
    assert graph.nodes[flag]["red"]
    for node in nx.ancestors(graph, flag):
        assert graph.nodes[node]["red"]
    assert graph.edges[node_id(FINDING, "t_alarm"), node_id(FIRING, "t_flag_rule")]["red"]
    benign = case_graph(layer_reasoner.assess(Case("t", {}, dict(FULL))))
    assert not any(d["red"] for _, d in benign.nodes(data=True))


def test_kb_graph_has_every_rule_and_what_it_reads(layer_kb) -> None:
    graph = kb_graph(layer_kb)
    assert {graph.nodes[n]["ref"] for n in nodes_of(graph, RULE)} == {r.id for r in layer_kb.rules}
    for rule in layer_kb.rules:
        node = node_id(RULE, rule.id)
        for fid in rule.findings_used():
            assert graph.has_edge(node_id(FINDING, fid), node)
        for cid in rule.conclusions_used():
            assert graph.has_edge(node_id(CONCLUSION, cid), node)
        if rule.concludes:
            assert graph.has_edge(node, node_id(CONCLUSION, rule.concludes))
    negated = graph.edges[node_id(FINDING, "t_alarm"), node_id(RULE, "t_cause_rule")]
    assert negated["negated"] is True
    assert nx.is_directed_acyclic_graph(graph)
    focused = subgraph_around(graph, [node_id(CONCLUSION, "t_chained")])
    assert node_id(RULE, "t_cond_rule") in focused and node_id(RULE, "t_flag_rule") not in focused


def test_layout_is_left_to_right_and_deterministic(layer_kb, layer_reasoner) -> None:
    graph = case_graph(layer_reasoner.assess(Case("t", {}, dict(FULL))))
    drawing = layout(graph)
    boxes = {box.key: box for box in drawing.nodes}
    assert set(boxes) == set(graph.nodes)
    for source, target in graph.edges:
        assert boxes[source].right < boxes[target].x
    assert layout(graph) == drawing
    for a in drawing.nodes:  # no two boxes overlap
        for b in drawing.nodes:
            if a.key < b.key and a.x == b.x:
                assert a.y + a.height <= b.y or b.y + b.height <= a.y
