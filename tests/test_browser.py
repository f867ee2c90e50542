"""Open generated reports in headless Chromium, as a clinician would, with JavaScript off.

Uses Debian's /usr/bin/chromium through Playwright (never a downloaded browser); the tests skip
only when that binary is missing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from engine.cases.case import Case
from engine.explain.graph import case_graph
from reports.document import ReportDocument, build_document
from reports.html import render_html
from tests.browser_support import VIEWPORT
from tests.conftest import ROOT
from tests.report_fixtures import GENERATED, example

EXAMPLES = sorted((ROOT / "examples" / "cases").glob("*.yaml"))

MEASURE = """html => {
  const box = el => el.getBoundingClientRect();
  const banner = document.querySelector("#red-flags");
  const action = document.querySelector("#red-flags .flag .action");
  const triage = document.querySelector("#triage");
  const nodes = [...document.querySelectorAll("svg.graph g.node")];
  const kinds = {finding: 0, firing: 0, conclusion: 0};
  for (const node of nodes) for (const kind in kinds) if (node.classList.contains(kind)) kinds[kind]++;
  const svg = document.querySelector("svg.graph");
  return {
    banner: banner && {visible: box(banner).height > 0 && getComputedStyle(banner).visibility === "visible",
                       top: box(banner).top, actionBottom: box(action).bottom, text: banner.innerText},
    triage: {bottom: box(triage).bottom, text: triage.innerText},
    nodes: nodes.length, kinds,
    svg: svg ? {width: box(svg).width, height: box(svg).height} : {width: 0, height: 0},
    labels: [...document.querySelectorAll("svg.graph g.node text.label")].map(t => t.textContent),
  };
}"""


class Visit:
    """One page load with JavaScript off, recording console messages and every request."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.context = browser.new_context(viewport=VIEWPORT, java_script_enabled=False)
        self.page = self.context.new_page()
        self.url = path.resolve().as_uri()
        self.console: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda msg: self.console.append(f"{msg.type}: {msg.text}")
                     if msg.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda exc: self.console.append(f"pageerror: {exc}"))
        self.page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.route("**/*", lambda route: route.continue_() if route.request.url == self.url
                        else route.abort())
        self.page.goto(self.url, wait_until="load")

    def close(self) -> None:
        self.context.close()

    @property
    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests if url != self.url]


def write_report(tmp_path: Path, doc: ReportDocument, name: str) -> Path:
    out = tmp_path / f"{name}.html"
    out.write_text(render_html(doc), encoding="utf-8")
    return out


def representative() -> list[Path]:
    """A red-flag case, a benign one and the largest reasoning graph: every example is checked
    in-process (tests/test_report.py); the browser adds what only a browser can see."""
    red = [p for p in EXAMPLES if example(str(p))[0].red_flags][:1]
    benign = [p for p in EXAMPLES if not example(str(p))[0].red_flags][:1]
    largest = sorted(EXAMPLES, key=lambda p: -example(str(p))[1].graph.number_of_nodes())[:1]
    return list(dict.fromkeys([*red, *benign, *largest]))


@pytest.mark.parametrize("case", representative(), ids=lambda p: p.stem)
def test_report_in_a_real_browser(browser, tmp_path: Path, case: Path) -> None:
    result, doc = example(str(case))
    report = write_report(tmp_path, doc, case.stem)
    graph = case_graph(result)
    visit = Visit(browser, report)
    page = visit.page
    try:
        seen = page.locator("html").evaluate(MEASURE)  # one round trip for everything below
        if result.red_flags:
            banner = seen["banner"]
            assert banner is not None and banner["visible"]
            assert banner["top"] < 10  # the very top of the page
            assert banner["actionBottom"] <= VIEWPORT["height"]  # its action is above the fold
            assert banner["text"].upper().count("DO NOW") == len(result.red_flags)
        else:
            assert seen["banner"] is None
        assert seen["triage"]["bottom"] <= VIEWPORT["height"]
        assert result.triage in seen["triage"]["text"].lower()
        kinds = {kind: sum(1 for _, d in graph.nodes(data=True) if d["kind"] == kind)
                 for kind in ("finding", "firing", "conclusion")}
        assert seen["nodes"] == graph.number_of_nodes() == sum(kinds.values())
        assert seen["kinds"] == kinds
        assert seen["svg"]["width"] > 300 and seen["svg"]["height"] > 50
        assert seen["labels"] and all(label.strip() for label in seen["labels"])

        assert visit.console == []
        assert visit.foreign_requests == []
        shot = tmp_path / f"{case.stem}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    finally:
        visit.close()


def test_print_layout_is_a4_and_keeps_the_banner(browser, tmp_path: Path) -> None:
    red = next((doc for result, doc in map(example, map(str, EXAMPLES)) if result.red_flags), None)
    assert red is not None, "the examples must include a case that raises a red flag"
    visit = Visit(browser, write_report(tmp_path, red, "red"))
    try:
        visit.page.emulate_media(media="print")
        style = visit.page.locator("#red-flags").evaluate(
            "e => [getComputedStyle(e).borderLeftStyle, getComputedStyle(e).borderLeftColor]")
        assert style[0] == "solid" and style[1] == "rgb(180, 35, 24)"
        pdf = visit.page.pdf(prefer_css_page_size=True, print_background=True)
        assert pdf[:5] == b"%PDF-"
        (tmp_path / "report.pdf").write_bytes(pdf)
        boxes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
        sizes = [(round(float(w)), round(float(h))) for w, h in boxes]
        assert sizes and all(sorted(size) == [595, 842] for size in sizes)  # A4 (points)
        assert sizes[0] == (595, 842) and sizes.count((842, 595)) == 1  # the graph page is landscape
    finally:
        visit.close()


def test_patient_script_is_text_in_the_browser(browser, tmp_path: Path, reasoner) -> None:
    patient = {"id": "<script>alert(1)</script>", "name": "<img src=x onerror=alert(2)>"}
    result = reasoner.assess(Case("case.yaml", patient, {"saddle_anaesthesia": True}))
    visit = Visit(browser, write_report(tmp_path, build_document(result, reasoner, GENERATED), "xss"))
    try:
        text = visit.page.locator("#patient").inner_text()
        assert "<script>alert(1)</script>" in text and "<img src=x onerror=alert(2)>" in text
        assert visit.page.locator("img").count() == 0
        assert visit.dialogs == [] and visit.foreign_requests == [] and visit.console == []
    finally:
        visit.close()
