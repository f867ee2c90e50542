"""`imbalance kb graph`: the whole KB as findings -> rules -> conclusions in one HTML page."""

from __future__ import annotations

import re
from pathlib import Path

from engine.explain.graph import kb_graph
from engine.kb.loader import load_kb
from reports.html import kb_graph_html
from tests.conftest import run_cli
from tests.report_fixtures import write_layer


def svg_nodes(html: str, css_id: str = "kb") -> list[tuple[str, str]]:
    """The nodes drawn in one of the page's SVGs (the overview by default)."""
    start = html.index(f'id="{css_id}"')
    svg = html[start:html.index("</svg>", start)]
    return re.findall(r'<g class="node (\w+)[^"]*" data-node="([^"]+)"', svg)


def test_whole_kb_graph(tmp_path: Path, kb) -> None:
    out = tmp_path / "kb.html"
    out.write_text("old", encoding="utf-8")
    proc = run_cli("kb", "graph", "-o", str(out), "--force")
    assert proc.returncode == 0, proc.stderr
    html = out.read_text(encoding="utf-8")
    graph = kb_graph(kb)
    assert sorted(key for _, key in svg_nodes(html)) == sorted(graph.nodes)
    assert sum(1 for kind, _ in svg_nodes(html) if kind == "rule") == len(kb.rules)
    for rule in kb.rules:
        assert f'id="r-{rule.id}"' in html
    assert "<script" not in html and not re.search(r"https?://", html)
    assert "default-src 'none'" in html and kb.version in html


def test_layer_graph_focus_and_negation(tmp_path: Path) -> None:
    layer = write_layer(tmp_path / "layer")
    kb2 = load_kb((layer,))
    proc = run_cli("--kb", str(layer), "kb", "graph", "-o", "-", "--focus", "t_chained")
    assert proc.returncode == 0, proc.stderr
    keys = {key for _, key in svg_nodes(proc.stdout)}
    assert {"rule:t_chain_rule", "rule:t_cond_rule", "finding:t_hours", "conclusion:t_chained"} <= keys
    assert "rule:t_flag_rule" not in keys
    full = kb_graph_html(kb2, generated="now")
    assert len(svg_nodes(full)) == kb_graph(kb2).number_of_nodes()
    assert 'class="edge negated"' in full  # t_cause_rule reads `not t_alarm`
    upstream = {key for _, key in svg_nodes(full, "kb-t_chained")}  # what leads to one conclusion
    assert upstream == {"conclusion:t_chained", "rule:t_chain_rule", "finding:t_hours",
                        "conclusion:t_cond", "rule:t_cond_rule", "finding:t_sign_a", "finding:t_sign_b"}
    assert 'class="edge red"' in full  # the paths into the red flags


def test_kb_graph_errors(tmp_path: Path) -> None:
    out = tmp_path / "kb.html"
    out.write_text("old", encoding="utf-8")
    proc = run_cli("kb", "graph", "-o", str(out))
    assert proc.returncode == 2 and "--force" in proc.stderr
    assert out.read_text(encoding="utf-8") == "old"
    proc = run_cli("kb", "graph", "-o", str(tmp_path / "x.html"), "--focus", "saddle_anaesthesi")
    assert proc.returncode == 2 and "did you mean 'saddle_anaesthesia'?" in proc.stderr
    assert not (tmp_path / "x.html").exists()
