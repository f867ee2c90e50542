"""The self-contained HTML report: one file with inline CSS and SVG, no script, no external URL.

A Content-Security-Policy meta tag forbids scripts and every remote resource, so the file reads
the same offline, in a mail attachment or in a patient record. Text comes from the
`ReportDocument` through Jinja2 with autoescape, so patient free text is always shown as text.
"""

from __future__ import annotations

from markupsafe import Markup

from engine.assessment import Assessment
from engine.graph import kb_graph
from engine.model import KnowledgeBase
from engine.reasoner import Reasoner
from reports.document import ReportDocument, build_document, report_time
from reports.drawing import case_svg, kb_svg
from reports.templating import environment

TEXT_WIDTH_PX = 900  # the report's text column; wider graphs get the full window width


def render_html(doc: ReportDocument) -> str:
    """The report for a built document."""
    svg, width = case_svg(doc.graph, doc.kb) if doc.graph.number_of_nodes() else ("", 0.0)
    # The SVG comes from our own autoescaped template; Markup stops it being escaped twice.
    return environment().get_template("report.html.j2").render(doc=doc, svg=Markup(svg),
                                                               wide=width > TEXT_WIDTH_PX)


def report_html(result: Assessment, reasoner: Reasoner, generated: str | None = None) -> str:
    """The report for an assessed case (timestamp from SOURCE_DATE_EPOCH or now)."""
    return render_html(build_document(result, reasoner, generated or report_time()))


def kb_graph_html(kb: KnowledgeBase, generated: str | None = None) -> str:
    """The whole knowledge base as a dependency graph page, drawn by the report's machinery."""
    graph = kb_graph(kb)
    svg, _ = kb_svg(graph, kb) if graph.number_of_nodes() else ("", 0.0)
    rules = sorted(kb.rules, key=lambda r: (r.band != "red_flag", r.band, r.id))
    return environment().get_template("kb_graph.html.j2").render(
        kb=kb, svg=Markup(svg), rules=rules, generated=generated or report_time(),
        counts={kind: sum(1 for _, d in graph.nodes(data=True) if d["kind"] == kind)
                for kind in ("finding", "rule", "conclusion")})
