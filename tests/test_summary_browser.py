"""The report leads with the answer (issue 14), seen in a real browser (Debian's Chromium).

For every example: the top condition and the plan are inside the first 900 px at 1280 px wide,
the banner colour follows the urgency (red only for emergency and urgent), and the summary alone
prints on one A4 page with a page break after it. Screenshots are kept in the test's tmp folder
(and in $IMBALANCE_SHOTS when set, for a person to look at).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser_support import VIEWPORT
from tests.conftest import ROOT
from tests.report_fixtures import example
from tests.test_browser import Visit, write_report

EXAMPLES = sorted((ROOT / "examples" / "cases").glob("*.yaml"))
RED = "rgb(180, 35, 24)"
AMBER = "rgb(138, 90, 0)"
GREEN = "rgb(46, 107, 79)"
A4_POINTS = [595, 842]

FIRST_SCREEN = """html => {
  const box = sel => { const e = document.querySelector(sel); return e && e.getBoundingClientRect(); };
  const banner = document.querySelector("#red-flags");
  const triage = document.querySelector("#triage");
  return {
    topCondition: box("#top-conditions ol.top li"),
    plan: box("#plan"),
    planItems: document.querySelectorAll("#plan ol.plan li").length,
    review: box("#review"),
    reviewText: document.querySelector("#review").innerText,
    banner: banner && getComputedStyle(banner).borderTopColor,
    triageColour: getComputedStyle(triage).color,
    sides: [...document.querySelectorAll("#top-conditions .side")].map(e => e.textContent),
  };
}"""


def _shots() -> Path | None:
    folder = os.environ.get("IMBALANCE_SHOTS")
    return Path(folder) if folder else None


@pytest.mark.parametrize("case", EXAMPLES, ids=lambda p: p.stem)
def test_first_screen_has_the_answer(browser: Any, tmp_path: Path, case: Path) -> None:
    result, doc = example(str(case))
    visit = Visit(browser, write_report(tmp_path, doc, case.stem))
    try:
        seen = visit.page.locator("html").evaluate(FIRST_SCREEN)
        shot = tmp_path / f"{case.stem}.png"
        visit.page.screenshot(path=str(shot))
        assert shot.stat().st_size > 10_000
        if (folder := _shots()) is not None:
            folder.mkdir(parents=True, exist_ok=True)
            visit.page.screenshot(path=str(folder / f"report_{case.stem}.png"))
        if result.conditions:
            assert seen["topCondition"]["bottom"] <= VIEWPORT["height"], case.stem
        assert seen["planItems"] == len(result.plan) >= 1
        assert seen["plan"]["bottom"] <= VIEWPORT["height"], (case.stem, seen["plan"])
        assert seen["review"]["bottom"] <= VIEWPORT["height"] + 200, case.stem
        head = "No routine review" if result.triage == "emergency" else "Review "
        assert seen["reviewText"].startswith(head), (case.stem, seen["reviewText"])
        expected_banner = {"emergency": RED, "urgent": RED, "soon": AMBER}.get(result.triage)
        assert seen["banner"] == expected_banner, (case.stem, result.triage)
        if result.triage == "routine":
            assert seen["triageColour"] == GREEN
        side = result.conditions[0].side if result.conditions else None
        if side in ("left", "right"):
            assert seen["sides"][0] == side
    finally:
        visit.close()


@pytest.mark.parametrize("case", EXAMPLES, ids=lambda p: p.stem)
def test_printed_summary_is_one_a4_page(browser: Any, tmp_path: Path, case: Path) -> None:
    _, doc = example(str(case))
    visit = Visit(browser, write_report(tmp_path, doc, case.stem))
    try:
        page = visit.page
        page.emulate_media(media="print")
        assert page.locator("#summary").evaluate("e => getComputedStyle(e).breakAfter") == "page"
        full = page.pdf(prefer_css_page_size=True, print_background=True)
        # the summary alone: everything after it removed
        page.locator("html").evaluate("""() => {
          const summary = document.querySelector("#summary");
          for (const e of [...summary.parentElement.children]) if (e !== summary) e.remove();
        }""")
        pdf = page.pdf(prefer_css_page_size=True, print_background=True)
        pages = re.findall(rb"/Type\s*/Page[^s]", pdf)
        assert len(pages) == 1, (case.stem, len(pages))
        sizes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
        assert [sorted(round(float(v)) for v in size) for size in sizes] == [A4_POINTS]
        assert len(re.findall(rb"/Type\s*/Page[^s]", full)) > 1
        if (folder := _shots()) is not None:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"summary_{case.stem}.pdf").write_bytes(pdf)
    finally:
        visit.close()
