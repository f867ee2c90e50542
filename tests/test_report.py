"""`imbalance report`: one self-contained, safe, reproducible HTML file, in the right order."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import StrictUndefined

from engine.cases.case import Case
from engine.explain.graph import case_graph
from engine.inference.reasoner import Reasoner
from engine.kb.loader import load_kb
from reports.document import build_document, report_time
from reports.html import render_html
from reports.templating import environment
from tests.conftest import ROOT, run_cli
from tests.report_fixtures import EPOCH, FULL, GENERATED, PARTIAL, RED, case_yaml, example, write_layer

EXAMPLES = sorted((ROOT / "examples" / "cases").glob("*.yaml"))


class Tags(HTMLParser):
    """Collects tags, attributes and visible text to check what the browser will see."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    return tags


@pytest.fixture(scope="module")
def layer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_layer(tmp_path_factory.mktemp("layer"))


def make_report(tmp_path: Path, *args: str, name: str = "report.html",
                env: dict[str, str] | None = None) -> tuple[str, Path]:
    """Run `imbalance ... report CASE -o OUT` and return the HTML and its path."""
    out = tmp_path / name
    proc = run_cli(*args, "-o", str(out), env=env)
    assert proc.returncode == 0, proc.stderr
    return out.read_text(encoding="utf-8"), out


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_makes_a_self_contained_report(path: Path) -> None:
    result, doc = example(str(path))
    html = render_html(doc)
    data = result.to_dict()
    tags = parse(html)
    # no script, no external resource of any kind, CSP forbids them anyway
    assert not [t for t, _ in tags.tags if t in ("script", "link", "iframe", "object", "embed", "img")]
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", html, re.I)
    for _, attrs in tags.tags:
        for key in ("href", "src", "srcset", "action", "xlink:href"):
            assert (attrs.get(key) or "#").startswith("#"), attrs
        assert not any(k.startswith("on") for k in attrs)
    csp = [a for t, a in tags.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and csp[0]["content"] == "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    assert "<svg" in html and "@page" in html and "size: A4" in html
    # red flags first, then triage and the rest in the order of the issue
    order = ["patient", "conditions", "causes", "muscles", "recommendations", "graph", "how",
             "what-if", "references", "about", "disclaimer"]
    positions = [html.index(f'id="{section}"') for section in order]
    assert positions == sorted(positions)
    assert html.index('id="triage"') < positions[0]
    if data["red_flags"]:
        assert html.index('id="red-flags"') < html.index('id="triage"')
        assert html.index('id="red-flags"') < html.index("<h1")
        for flag in data["red_flags"]:
            assert flag["action"].split()[0] in html
        advice = html[html.index('<ul class="advice">'):]
        assert advice.split("<li", 2)[1].startswith(' class="referral"')  # referral comes first
    else:
        assert 'id="red-flags"' not in html
    text = " ".join(" ".join(parse(html).text).split())
    assert f"Triage: {data['triage']}" in text
    for item in (*data["red_flags"], *data["conditions"], *data["causes"]):
        assert f'id="how-{item["id"]}"' in html
    assert "does not diagnose" in text
    assert data["kb_version"] in text


def test_cli_writes_the_same_bytes_as_the_function(tmp_path: Path) -> None:
    """Across processes (each with its own hash seed): same input, same bytes."""
    red = [p for p in EXAMPLES if example(str(p))[0].red_flags][:1]
    benign = [p for p in EXAMPLES if not example(str(p))[0].red_flags][:1]
    for path in (*red, *benign):
        expected = render_html(example(str(path))[1])
        out = tmp_path / f"{path.stem}.html"
        proc = run_cli("report", str(path), "-o", str(out), env=EPOCH)
        assert proc.returncode == 0, proc.stderr
        assert f"wrote {out}" in proc.stdout
        assert out.read_text(encoding="utf-8") == expected
    proc = run_cli("report", str(EXAMPLES[0]), "-o", "-", env=EPOCH)
    assert proc.returncode == 0 and proc.stdout.startswith("<!DOCTYPE html>")
    assert GENERATED in proc.stdout


def test_graph_has_one_svg_node_per_graph_node() -> None:
    for path in EXAMPLES:
        result, doc = example(str(path))
        graph = case_graph(result)
        html = render_html(doc)
        nodes = re.findall(r'<g class="node (\w+)[^"]*" data-node="([^"]+)"', html)
        assert sorted(key for _, key in nodes) == sorted(graph.nodes)
        for kind, key in nodes:
            assert graph.nodes[key]["kind"] == kind


def layer_html(layer_dir: Path, findings: dict[str, object], patient: dict[str, object] | None = None) -> str:
    kb2 = load_kb((layer_dir,))
    reasoner2 = Reasoner(kb2)
    return render_html(build_document(reasoner2.assess(Case("t", patient or {}, dict(findings))),
                                      reasoner2, GENERATED))


def test_references_are_numbered_and_cited(layer_dir: Path) -> None:
    html = layer_html(layer_dir, FULL)
    refs = re.findall(r'<li id="ref-(\d+)">([^<]+)', html)
    assert [int(n) for n, _ in refs] == list(range(1, len(refs) + 1))
    assert any("Seed 003" in citation for _, citation in refs)
    for number, _ in refs:
        assert f'href="#ref-{number}"' in html  # every reference is cited somewhere
    assert "0.1-test" in html  # the layer's KB version


def test_layer_case_sections(layer_dir: Path) -> None:
    html = layer_html(layer_dir, PARTIAL)
    text = " ".join(" ".join(parse(html).text).split())
    assert "Not asked, but relevant" in text and "Test alarm symptom" in text
    assert "Why not: the nearest misses" in text and "Test condition" in text
    what_if = " ".join(" ".join(parse(html[html.index('id="what-if"'):html.index('id="references"')]).text)
                       .split())
    assert "Test alarm symptom Is there the test alarm symptom? yes triage routine → urgent red flag " \
           "Test red flag (urgent)" in what_if
    assert "Test sign B Is test sign B present? yes Test condition (good support, 0.60)" in what_if
    assert "No rule fired" in text


def test_disabled_rules_are_listed_with_their_reason(layer_dir: Path, tmp_path: Path, write_files) -> None:
    clinic = write_files({"clinic.yaml": """
        disable:
          - rule: t_cause_rule
            reason: Our clinic does not use this route.
        """})
    case = tmp_path / "case.yaml"
    case.write_text(case_yaml(FULL), encoding="utf-8")
    html, _ = make_report(tmp_path, "--kb", str(layer_dir), "--kb", str(clinic), "report", str(case))
    assert "t_cause_rule</span>: Our clinic does not use this route." in html
    assert 'id="how-t_cause"' not in html


def test_patient_free_text_is_shown_as_text(kb, reasoner) -> None:
    patient = {"id": "<script>alert(1)</script>", "name": "<b onmouseover=x>Ann</b>"}
    result = reasoner.assess(Case("<i>case</i>.yaml", patient, {"saddle_anaesthesia": True},
                                  description="<img src=x onerror=alert(2)>"))
    html = render_html(build_document(result, reasoner, GENERATED))
    assert "<script" not in html and "<b onmouseover" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    text = " ".join(parse(html).text)
    assert "<script>alert(1)</script>" in text and "<i>case</i>.yaml" in text


def test_source_date_epoch_must_be_a_number(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    assert report_time() == "1970-01-01 00:00 UTC"
    proc = run_cli("report", str(EXAMPLES[0]), "-o", str(tmp_path / "r.html"),
                   env={"SOURCE_DATE_EPOCH": "yesterday"})
    assert proc.returncode == 2 and "SOURCE_DATE_EPOCH" in proc.stderr
    assert not (tmp_path / "r.html").exists()


def test_existing_file_is_not_clobbered_without_force(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    out.write_text("keep me", encoding="utf-8")
    proc = run_cli("report", str(EXAMPLES[0]), "-o", str(out))
    assert proc.returncode == 2
    assert "already exists" in proc.stderr and "--force" in proc.stderr
    assert out.read_text(encoding="utf-8") == "keep me"
    proc = run_cli("report", str(EXAMPLES[0]), "-o", str(out), "--force")
    assert proc.returncode == 0 and "wrote" in proc.stdout
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]  # no temp file left


def test_failed_run_leaves_no_file(tmp_path: Path) -> None:
    case = tmp_path / "case.yaml"
    case.write_text("findings:\n  saddle_anesthesia: true\n", encoding="utf-8")
    expected = ":2: unknown finding 'saddle_anesthesia' (did you mean 'saddle_anaesthesia'?)"
    out = tmp_path / "report.html"
    proc = run_cli("report", str(case), "-o", str(out))
    assert proc.returncode == 2 and expected in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()
    out.write_text("old report", encoding="utf-8")
    proc = run_cli("report", str(case), "-o", str(out), "--force")
    assert proc.returncode == 2
    assert out.read_text(encoding="utf-8") == "old report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.yaml", "report.html"]


def test_output_path_problems_exit_2(tmp_path: Path) -> None:
    proc = run_cli("report", str(EXAMPLES[0]), "-o", str(tmp_path / "no" / "such" / "r.html"))
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    proc = run_cli("report", str(EXAMPLES[0]), "-o", str(tmp_path))
    assert proc.returncode == 2 and "is a folder" in proc.stderr
    case = tmp_path / "case.yaml"
    case.write_text("findings: {fever: true}\n", encoding="utf-8")
    proc = run_cli("report", str(case), "-o", str(case), "--force")
    assert proc.returncode == 2 and "is the case file itself" in proc.stderr
    assert case.read_text(encoding="utf-8") == "findings: {fever: true}\n"


def test_templates_cannot_print_missing_values(kb, reasoner) -> None:
    env = environment()
    assert env.autoescape is True and env.undefined is StrictUndefined
    result = reasoner.assess(Case("t", {}, {}))
    html = render_html(build_document(result, reasoner, "now"))
    assert "No findings were given." in html and "No rule fired" in html


def test_red_flag_report_from_a_layer(layer_dir: Path, tmp_path: Path) -> None:
    kb2 = load_kb((layer_dir,))
    reasoner2 = Reasoner(kb2)
    result = reasoner2.assess(Case("t", {"id": "P-1"}, dict(RED)))
    html = render_html(build_document(result, reasoner2, "now"))
    banner = html[html.index('id="red-flags"'):html.index("</section>")]
    assert "Test red flag" in banner and "Refer the test patient within two weeks." in banner
    assert "URGENT" in banner
    assert 'class="edge red"' in html  # the red-flag path is highlighted in the graph
