"""The self-contained HTML report: one file with inline CSS and SVG, no script, no external URL.

A Content-Security-Policy meta tag forbids scripts and every remote resource, so the file reads
the same offline, in a mail attachment or in a patient record. Text comes from the
`ReportDocument` through Jinja2 with autoescape, so patient free text is always shown as text.
"""

from __future__ import annotations

import networkx as nx
from markupsafe import Markup

from engine.explain.graph import CONCLUSION, FINDING, RULE, kb_graph, node_id, ref_of, subgraph_around
from engine.inference.assessment import Assessment
from engine.inference.reasoner import Reasoner
from engine.kb.model import BANDS, KnowledgeBase
from engine.kb.references import resolve_source
from reports.document import ReportDocument, build_document, report_time
from reports.drawing import case_svg, kb_svg
from reports.templating import environment

TEXT_WIDTH_PX = 1050  # a little wider than the text column scales down well; wider graphs get the window


def render_html(doc: ReportDocument) -> str:
    """The report for a built document."""
    svg, width = case_svg(doc.graph, doc.kb) if doc.graph.number_of_nodes() else ("", 0.0)
    # The SVG comes from our own autoescaped template; Markup stops it being escaped twice.
    return environment().get_template("report.html.j2").render(doc=doc, svg=Markup(svg),
                                                               wide=width > TEXT_WIDTH_PX)


def report_html(result: Assessment, reasoner: Reasoner, generated: str | None = None) -> str:
    """The report for an assessed case (timestamp from SOURCE_DATE_EPOCH or now)."""
    return render_html(build_document(result, reasoner, generated or report_time()))


def kb_graph_html(kb: KnowledgeBase, generated: str | None = None, focus: str | None = None) -> str:
    """The whole knowledge base (or the part around `focus`) as a dependency graph page: one
    overview, then for each conclusion the small graph of everything that leads to it."""
    graph = kb_graph(kb)
    if focus:
        graph = subgraph_around(graph, [node_id(kind, focus) for kind in (FINDING, RULE, CONCLUSION)])
    svg, _ = kb_svg(graph, kb, "kb") if graph.number_of_nodes() else ("", 0.0)
    shown = {ref_of(n) for n, d in graph.nodes(data=True) if d["kind"] == RULE}
    band_order = {band: i for i, band in enumerate(BANDS)}
    rules = sorted((r for r in kb.rules if r.id in shown), key=lambda r: (band_order[r.band], r.order))
    kind_order = {"red_flag": 0, "condition": 1, "cause": 2}
    shown_conclusions = sorted((ref_of(n) for n, d in graph.nodes(data=True) if d["kind"] == CONCLUSION),
                               key=lambda c: (kind_order.get(kb.conclusions[c].kind, 3), c))
    conclusions = []
    for cid in shown_conclusions:
        node = node_id(CONCLUSION, cid)
        upstream = graph.subgraph([node, *nx.ancestors(graph, node)]).copy()
        small, _ = kb_svg(upstream, kb, f"kb-{cid}")
        conclusions.append((kb.conclusions[cid], [r for r in rules if r.concludes == cid], Markup(small)))
    counts = {kind: sum(1 for _, d in graph.nodes(data=True) if d["kind"] == kind)
              for kind in (FINDING, RULE, CONCLUSION)}
    return environment().get_template("kb_graph.html.j2").render(
        kb=kb, svg=Markup(svg), rules=rules, generated=generated or report_time(), counts=counts,
        focus=focus or "", conclusions=conclusions,
        sources={r.id: [(s, resolve_source(kb, s)) for s in r.sources] for r in rules})
