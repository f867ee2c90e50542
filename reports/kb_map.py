"""`imbalance kb map -o DIR`: the knowledge base as a folder of small pages that stay readable.

One page holding every rule (`kb graph`) grows with the KB: at 200 rules it is tens of
thousands of pixels tall and its edges pile up. The map splits it the way an author looks for
things: an index page; a page per conclusion (everything that leads to it, what it leads on to
by triggering other rules, and the rules it only gates); and a page per area, one rule file
each (the KB keeps a file per region or topic, e.g. `conditions/hip`). Each page draws only its
own small graph with the same drawing code as the report, so no page grows with the KB.
Pages link to each other with relative links; no script, no remote resource.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

import networkx as nx
from jinja2 import Template
from markupsafe import Markup

from engine.authoring.polarity import TRIGGER, gated_by, role, triggered_by
from engine.explain.graph import CONCLUSION, FINDING, RULE, kb_graph, node_id
from engine.kb.model import BANDS, Conclusion, KnowledgeBase, Rule
from engine.kb.references import resolve_source
from reports.document import report_time
from reports.drawing import kb_svg
from reports.templating import environment

KIND_ORDER = {"red_flag": 0, "condition": 1, "cause": 2}


@dataclass(frozen=True)
class Area:
    """The rules of one file: a region or topic, as the KB's authors grouped them."""

    slug: str
    title: str
    path: str
    rules: tuple[Rule, ...]


def area_of(rule: Rule) -> tuple[str, str]:
    """(slug, title) of a rule's file: 'conditions-hip', 'hip (conditions)'."""
    path = PurePosixPath(rule.location.path)
    parts = list(path.with_suffix("").parts)
    if "rules" in parts:
        parts = parts[parts.index("rules") + 1:]
    elif rule.layer:
        parts = list(PurePosixPath(rule.layer).name.split()) + parts[-1:]
    slug = "-".join(parts) or "rules"
    title = parts[-1].replace("_", " ").lstrip("0123456789 ") if parts else "rules"
    group = ", ".join(p.replace("_", " ") for p in parts[:-1])
    return slug, f"{title} ({group})" if group else title


def areas(kb: KnowledgeBase) -> list[Area]:
    grouped: dict[str, list[Rule]] = {}
    titles: dict[str, tuple[str, str]] = {}
    for rule in kb.rules:
        slug, title = area_of(rule)
        grouped.setdefault(slug, []).append(rule)
        titles[slug] = (title, rule.location.path)
    return [Area(slug, titles[slug][0], titles[slug][1], tuple(rules))
            for slug, rules in sorted(grouped.items())]


def map_pages(kb: KnowledgeBase, generated: str | None = None) -> dict[str, str]:
    """Relative path -> HTML for every page of the map."""
    when = generated or report_time()
    graph = kb_graph(kb)
    env = environment()
    template = env.get_template("kb_map.html.j2")
    all_areas = areas(kb)
    conclusions = sorted(kb.conclusions.values(), key=lambda c: (KIND_ORDER.get(c.kind, 3), c.id))
    pages: dict[str, str] = {}
    common = {"kb": kb, "generated": when, "sources": _sources(kb)}
    pages["index.html"] = template.render(
        page="index", root="", conclusions=conclusions, areas=all_areas,
        producers={c.id: kb.rules_concluding(c.id) for c in conclusions},
        area_of={r.id: area_of(r)[0] for r in kb.rules}, **common)
    for conclusion in conclusions:
        pages[f"conclusion/{conclusion.id}.html"] = _conclusion_page(
            template, kb, graph, conclusion, common)
    for area in all_areas:
        pages[f"area/{area.slug}.html"] = _area_page(template, kb, graph, area, common)
    return pages


def _conclusion_page(template: Template, kb: KnowledgeBase, graph: nx.DiGraph,
                     conclusion: Conclusion, common: dict[str, object]) -> str:
    node = node_id(CONCLUSION, conclusion.id)
    svg = ""
    if node in graph:
        upstream = graph.subgraph(_upstream(kb, conclusion.id)).copy()
        svg = _draw(upstream, kb, f"c-{conclusion.id}")
    producers = kb.rules_concluding(conclusion.id)
    return template.render(
        page="conclusion", root="../", conclusion=conclusion, svg=Markup(svg),
        rules=sorted(producers, key=lambda r: (BANDS.index(r.band), r.order)),
        triggers=triggered_by(kb, conclusion.id), gates=gated_by(kb, conclusion.id),
        area_of={r.id: area_of(r)[0] for r in kb.rules}, **common)


def _area_page(template: Template, kb: KnowledgeBase, graph: nx.DiGraph, area: Area,
               common: dict[str, object]) -> str:
    nodes = set()
    for rule in area.rules:
        rnode = node_id(RULE, rule.id)
        nodes.add(rnode)
        nodes.update(graph.predecessors(rnode))
        nodes.update(graph.successors(rnode))
    svg = _draw(graph.subgraph(nodes).copy(), kb, f"a-{area.slug}")
    return template.render(
        page="area", root="../", area=area, svg=Markup(svg),
        rules=sorted(area.rules, key=lambda r: (BANDS.index(r.band), r.order)),
        area_of={r.id: area_of(r)[0] for r in kb.rules}, **common)


def _upstream(kb: KnowledgeBase, cid: str) -> set[str]:
    """The nodes that lead to `cid`: its rules, their findings, and the conclusions they are
    triggered by, followed back. A conclusion a rule reads only as a gate (`not:`) is drawn as
    one box, not with everything behind it: that would be every red flag's whole tree."""
    nodes: set[str] = set()
    todo, seen = [cid], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        nodes.add(node_id(CONCLUSION, current))
        for rule in kb.rules_concluding(current):
            nodes.add(node_id(RULE, rule.id))
            nodes.update(node_id(FINDING, fid) for fid in rule.findings_used())
            for used in rule.conclusions_used():
                nodes.add(node_id(CONCLUSION, used))
                if role(rule, used) == TRIGGER:
                    todo.append(used)
    return nodes


def _draw(part: nx.DiGraph, kb: KnowledgeBase, css_id: str) -> str:
    """The SVG of one page's part of the graph; nothing for a part without an edge."""
    if part.number_of_edges() == 0:
        return ""
    svg, _ = kb_svg(part, kb, css_id)
    return svg


def _citation(kb: KnowledgeBase, ref: str) -> str:
    source = resolve_source(kb, ref)
    return source.citation if source else ref


def _sources(kb: KnowledgeBase) -> dict[str, list[str]]:
    out = {}
    for rule in kb.rules:
        out[rule.id] = [_citation(kb, ref) for ref in rule.sources]
    return out
