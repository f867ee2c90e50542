"""Layered SVG drawings of a networkx DiGraph: findings, rules and conclusions, left to right.

Columns come from networkx's own layering (`topological_generations`) and are placed the way
`multipartite_layout` places them: one column per generation, nodes stacked and centred in it
(we compute that geometry here because `multipartite_layout` needs numpy, which we do not ship).
Inside a column nodes are sorted by their display `group` (red flags on top) and then by the
barycentre of their neighbours, to keep edges from crossing. The geometry is plain data; the
Jinja2 template `graph.svg.j2` draws it with autoescape, so labels are always text, never markup.

The drawing reads display attributes that the caller puts on each node:
`kind` (finding | firing | rule | conclusion), `title`, optional `note`, `tone`
(plain | red | condition | cause | red_flag), `group` (int), `rank` (tie-break), `bar` (0..1),
`href` (an in-page anchor), `tooltip` and `max_lines`. Edges may carry `red` and `negated`.
"""

from __future__ import annotations

import textwrap
from typing import NamedTuple

import networkx as nx

CHAR_PX = 6.5  # a conservative average advance for 12px sans-serif text
LINE_PX = 15.0
NOTE_PX = 14.0
PAD = 8.0
GAP_Y = 10.0
GAP_X = 56.0
MARGIN = 16.0
HEADER_PX = 28.0
MAX_LINES = 3
WIDTHS = {"finding": 180.0, "firing": 212.0, "rule": 212.0, "conclusion": 192.0}


class NodeBox(NamedTuple):
    """A node placed on the canvas, with its label already wrapped into lines."""

    key: str
    kind: str
    tone: str
    x: float
    y: float
    width: float
    height: float
    lines: tuple[str, ...]
    note: str
    bar: float | None
    href: str
    tooltip: str

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def middle(self) -> float:
        return self.y + self.height / 2


class EdgePath(NamedTuple):
    source: str
    target: str
    d: str
    red: bool
    negated: bool


class Header(NamedTuple):
    x: float
    text: str


class Drawing(NamedTuple):
    """Everything the SVG template needs, in pixels."""

    width: float
    height: float
    nodes: tuple[NodeBox, ...]
    edges: tuple[EdgePath, ...]
    headers: tuple[Header, ...]
    label: str


def layers(graph: nx.DiGraph) -> dict[str, int]:
    """Column of every node, from its topological generation: findings always in column 0,
    and a rule never shares it with them (a rule whose premises are all negated conclusions
    has no incoming edge), so every rule sits right of what it reads."""
    if not nx.is_directed_acyclic_graph(graph):  # cycles are refused when the KB loads
        order = {"finding": 0, "firing": 1, "rule": 1, "conclusion": 2}
        return {node: order.get(data.get("kind", ""), 1) for node, data in graph.nodes(data=True)}
    column: dict[str, int] = {}
    for generation in nx.topological_generations(graph):
        for node in generation:
            if graph.nodes[node].get("kind") == "finding":
                column[node] = 0
            else:
                column[node] = max([1, *(column[p] + 1 for p in graph.predecessors(node))])
    return column


def order_columns(graph: nx.DiGraph, column: dict[str, int], sweeps: int = 4) -> list[list[str]]:
    """Nodes of each column, top to bottom: first by group (red flags on top) and rank, then
    refined by the barycentre of their neighbours, which keeps edges from crossing."""
    count = max(column.values(), default=-1) + 1
    cols: list[list[str]] = [[] for _ in range(count)]
    for node in graph.nodes:
        cols[column[node]].append(node)

    def base_key(node: str) -> tuple[int, float]:
        data = graph.nodes[node]
        return (int(data.get("group", 0)), float(data.get("rank", 0.0)))

    for col in cols:
        col.sort(key=base_key)
    position = {node: i - (len(col) - 1) / 2 for col in cols for i, node in enumerate(col)}

    def resort(col: list[str], neighbours: str) -> None:
        def key(node: str) -> tuple[float, int, float]:
            near = list(graph.predecessors(node) if neighbours == "in" else graph.successors(node))
            centre = sum(position[n] for n in near) / len(near) if near else position[node]
            group, rank = base_key(node)
            return (centre, group, rank)  # barycentre first; groups only break ties

        col.sort(key=key)
        for i, node in enumerate(col):
            position[node] = i - (len(col) - 1) / 2

    for sweep in range(sweeps):
        if sweep % 2 == 0:
            for col in cols[1:]:
                resort(col, "in")
        else:
            for col in reversed(cols[:-1]):
                resort(col, "out")
    return cols


def _fit(text: str, width: float) -> str:
    """One line of small text cut to the box, with an ellipsis (the tooltip has it all)."""
    chars = max(8, int((width - 2 * PAD) / (CHAR_PX * 0.92)))
    return text if len(text) <= chars else text[:chars - 1].rstrip() + "…"


def _wrap(text: str, width: float, max_lines: int = MAX_LINES) -> tuple[str, ...]:
    chars = max(8, int((width - 2 * PAD) / CHAR_PX))
    lines = textwrap.wrap(text, chars, break_long_words=True) or [""]
    if len(lines) > max_lines:
        lines = [*lines[:max_lines - 1], textwrap.shorten(" ".join(lines[max_lines - 1:]), chars,
                                                          placeholder="…")]
    return tuple(lines)


DUMMY = "dummy"
DUMMY_PX = 4.0


Chains = dict[tuple[str, str], list[str]]


def _with_waypoints(graph: nx.DiGraph, column: dict[str, int]) -> tuple[nx.DiGraph, Chains]:
    """Split every edge that skips columns with small waypoint nodes, one per skipped column,
    so long edges reserve a lane between boxes instead of running behind them (Sugiyama)."""
    work: nx.DiGraph = nx.DiGraph()
    work.add_nodes_from(graph.nodes(data=True))
    chains: Chains = {}
    for source, target in graph.edges:
        span = column[target] - column[source]
        if span <= 1:
            work.add_edge(source, target)
            continue
        ends = (graph.nodes[source], graph.nodes[target])
        group = min(int(end.get("group", 0)) for end in ends)  # lanes stay beside what they join
        chain = [f"{source}->{target}#{i}" for i in range(1, span)]
        for i, waypoint in enumerate(chain, start=1):
            work.add_node(waypoint, kind=DUMMY, group=group, rank=ends[1].get("rank", 0.0))
            column[waypoint] = column[source] + i
        nx.add_path(work, [source, *chain, target])
        chains[(source, target)] = chain
    return work, chains


def _curve(x1: float, y1: float, x2: float, y2: float) -> str:
    bend = max(20.0, (x2 - x1) / 2)
    return f" C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"


def _vertical_positions(work: nx.DiGraph, columns: list[list[tuple[str, float]]],
                        sweeps: int = 6) -> dict[str, float]:
    """Top of every box: start from centred stacks (the multipartite arrangement), then move
    each node toward the mean height of its neighbours, keeping the column order and a gap,
    so a short column sits beside what it connects to instead of in the middle of nowhere."""
    heights = [sum(h for _, h in col) + GAP_Y * max(0, len(col) - 1) for col in columns]
    tallest = max(heights, default=0.0)
    tops: dict[str, float] = {}
    for col, total in zip(columns, heights, strict=True):
        y = (tallest - total) / 2
        for node, h in col:
            tops[node] = y
            y += h + GAP_Y
    size = {node: h for col in columns for node, h in col}

    def centre(node: str) -> float:
        return tops[node] + size[node] / 2

    order = list(range(len(columns)))
    for sweep in range(sweeps):
        for index in order if sweep % 2 == 0 else reversed(order):
            col = columns[index]
            if not col or heights[index] == tallest:
                continue  # the tallest column is the anchor the others align to
            wanted = []
            for node, h in col:
                near = [*work.predecessors(node), *work.successors(node)]
                goal = sum(centre(n) for n in near) / len(near) if near else centre(node)
                wanted.append(goal - h / 2)
            for i in range(1, len(col)):  # keep order and gaps, pushing down...
                wanted[i] = max(wanted[i], wanted[i - 1] + col[i - 1][1] + GAP_Y)
            for i in range(len(col) - 2, -1, -1):  # ...then pulling back up where pushed too far
                wanted[i] = min(wanted[i], wanted[i + 1] - col[i][1] - GAP_Y)
            shift = max(0.0, -wanted[0])  # never above the top edge
            for (node, _), y in zip(col, wanted, strict=True):
                tops[node] = y + shift
    return tops


def layout(graph: nx.DiGraph, headers: dict[str, str] | None = None, label: str = "") -> Drawing:
    """Place every node and route every edge; `headers` names columns by the kind they hold."""
    column = layers(graph)
    work, chains = _with_waypoints(graph, column)
    cols = order_columns(work, column)
    xs: list[float] = []
    col_widths: list[float] = []
    x = MARGIN
    for col in cols:
        xs.append(x)
        col_widths.append(max((WIDTHS.get(work.nodes[n]["kind"], 200.0) for n in col
                               if work.nodes[n]["kind"] != DUMMY), default=40.0))
        x += col_widths[-1] + GAP_X
    width = x - GAP_X + MARGIN if cols else 2 * MARGIN

    shapes: list[list[tuple[str, tuple[str, ...], float, float]]] = []
    heights: list[float] = []
    for index, col in enumerate(cols):
        placed: list[tuple[str, tuple[str, ...], float, float]] = []
        for node in col:
            data = work.nodes[node]
            if data["kind"] == DUMMY:
                placed.append((node, (), col_widths[index], DUMMY_PX))
                continue
            w = WIDTHS.get(data.get("kind", ""), 200.0)
            lines = _wrap(str(data.get("title", node)), w, int(data.get("max_lines", MAX_LINES)))
            h = 2 * PAD + LINE_PX * len(lines) + (NOTE_PX if data.get("note") else 0.0)
            h += 8.0 if data.get("bar") is not None else 0.0
            placed.append((node, lines, w, h))
        shapes.append(placed)
        heights.append(sum(h for *_, h in placed) + GAP_Y * max(0, len(placed) - 1))
    top = MARGIN + (HEADER_PX if headers else 0.0)
    tops = _vertical_positions(work, [[(node, h) for node, _, _, h in placed] for placed in shapes])
    tallest = max((tops[node] + h for placed in shapes for node, _, _, h in placed), default=0.0)
    boxes: dict[str, NodeBox] = {}
    lanes: dict[str, tuple[float, float, float]] = {}  # waypoint -> (x in, x out, y)
    for index, placed in enumerate(shapes):
        for node, lines, w, h in placed:
            y = top + tops[node]
            data = work.nodes[node]
            if data["kind"] == DUMMY:
                lanes[node] = (xs[index], xs[index] + w, y + h / 2)
            else:
                bar = data.get("bar")
                boxes[node] = NodeBox(node, str(data.get("kind", "")), str(data.get("tone", "plain")),
                                      xs[index], y, w, h, lines, _fit(str(data.get("note", "")), w),
                                      None if bar is None else max(0.0, min(1.0, float(bar))),
                                      str(data.get("href", "")), str(data.get("tooltip", "")))

    edges = []
    for source, target, data in graph.edges(data=True):
        a, b = boxes[source], boxes[target]
        x, y = a.right, a.middle
        d = f"M{x:.1f},{y:.1f}"
        for waypoint in chains.get((source, target), ()):
            x_in, x_out, lane_y = lanes[waypoint]
            d += _curve(x, y, x_in, lane_y) + f" L{x_out:.1f},{lane_y:.1f}"
            x, y = x_out, lane_y
        d += _curve(x, y, b.x - 2.0, b.middle)
        edges.append(EdgePath(source, target, d, bool(data.get("red")), bool(data.get("negated"))))
    edges.sort(key=lambda e: e.red)  # red paths drawn last, on top

    titles = []
    if headers:
        for index, col in enumerate(cols):
            kinds = [work.nodes[n]["kind"] for n in col if work.nodes[n]["kind"] != DUMMY]
            kind = max(dict.fromkeys(kinds), key=kinds.count) if kinds else DUMMY  # lanes only
            name = headers.get(kind, "")
            if name and index > 2:
                name += " (chained)"
            titles.append(Header(xs[index], name))
    height = top + tallest + MARGIN
    return Drawing(round(width, 1), round(height, 1),
                   tuple(boxes[n] for col in cols for n in col if n in boxes),
                   tuple(edges), tuple(titles), label)


def render_svg(graph: nx.DiGraph, headers: dict[str, str] | None = None, label: str = "",
               css_id: str = "graph") -> tuple[str, float]:
    """The inline `<svg>` element for a graph and its natural width in pixels."""
    if graph.number_of_nodes() == 0:
        return "", 0.0
    from reports.templating import environment

    drawing = layout(graph, headers, label)
    return environment().get_template("graph.svg.j2").render(d=drawing, css_id=css_id), drawing.width
