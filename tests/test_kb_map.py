"""`imbalance kb map -o DIR`: a readable map of the knowledge base, checked in Chromium.

The old single page (`kb graph`) was tens of thousands of pixels tall with clipped columns; the
map must stay readable as the KB grows, so it is also drawn for the shipped KB grown threefold
(bench/synth.grow_kb, 500+ rules) and no page may grow with it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from bench.synth import grow_kb
from engine import record
from engine.kb.loader import load_kb
from reports.kb_map import map_pages
from tests.browser_support import VIEWPORT
from tests.conftest import run_cli

SHOTS = Path(os.environ.get("IMBALANCE_SCREENSHOTS", "/tmp/imbalance-kb-map-shots"))
MAX_PAGE_PX = 6000  # the tallest page (cauda equina, 9 rules) is about 4,000 px


def grown(factor: int) -> Any:
    """The shipped KB with renamed copies (bench/synth.grow_kb), each copy in its own files, as
    a larger KB would keep them (a rule file per region or topic)."""
    kb = grow_kb(load_kb(), factor)
    rules = []
    for rule in kb.rules:
        copy = re.search(r"_c\d+$", rule.id)
        if copy:
            path = rule.location.path.replace(".yaml", f"{copy.group()}.yaml")
            rule = record.replace(rule, location=record.replace(rule.location, path=path))
        rules.append(rule)
    return record.replace(kb, rules=tuple(rules))


def test_cli_writes_index_conclusion_and_area_pages(tmp_path: Path) -> None:
    out = tmp_path / "map"
    result = run_cli("kb", "map", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert (out / "index.html").is_file()
    assert (out / "conclusion" / "cauda_equina_syndrome.html").is_file()
    assert (out / "area" / "conditions-hip.html").is_file()
    index = (out / "index.html").read_text()
    for target in re.findall(r'href="([^"#]+)', index):
        assert (out / target).is_file(), target
    again = run_cli("kb", "map", "-o", str(out))  # an earlier map is replaced
    assert again.returncode == 0, again.stderr
    (out / "notes.txt").write_text("mine")
    refused = run_cli("kb", "map", "-o", str(out))
    assert refused.returncode == 2 and "notes.txt" in refused.stderr
    assert (out / "notes.txt").read_text() == "mine"


def test_red_flag_page_separates_what_it_leads_to_from_what_it_gates() -> None:
    html = map_pages(load_kb(), generated="test")["conclusion/cauda_equina_syndrome.html"]
    onward = html.split('<section id="onward">')[1].split("</section>")[0]
    leads, gates = onward.split("Rules it only gates")
    assert "advice_defer_exercise_red_flag" in leads
    assert "advice_hip_osteoarthritis" in gates and "advice_hip_osteoarthritis" not in leads


def test_pages_do_not_grow_with_the_knowledge_base() -> None:
    kb = load_kb()
    bigger = grown(3)
    assert len(bigger.rules) >= 500
    small = map_pages(kb, generated="test")
    big = map_pages(bigger, generated="test")
    assert len(big) > 2 * len(small) - 5
    biggest = max(len(html) for name, html in small.items() if name != "index.html")
    assert max(len(html) for name, html in big.items() if name != "index.html") < 1.5 * biggest


def test_map_pages_read_well_in_chromium(browser: Any, tmp_path: Path) -> None:
    """Every page: no sideways scrolling of the page, graphs not clipped, height bounded; the
    index links every conclusion. Screenshots are kept for a person to look at."""
    kb = grown(2)  # 378 rules
    out = tmp_path / "map"
    for name, html in map_pages(kb, generated="test").items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(html)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport=VIEWPORT, java_script_enabled=False)
    pages = sorted(out.rglob("*.html"))
    assert len(pages) > 100
    heights = {}
    for path in pages:
        page.goto(path.as_uri())
        size = page.evaluate("""() => ({
            width: document.documentElement.scrollWidth, height: document.documentElement.scrollHeight,
            clipped: [...document.querySelectorAll('figure.graph-figure')].filter(f =>
                f.querySelector('svg') && f.querySelector('svg').getBoundingClientRect().width >
                f.scrollWidth + 1).length,
            text: document.body.innerText.length})""")
        assert size["width"] <= VIEWPORT["width"], (path, size)
        assert size["clipped"] == 0, path
        assert size["text"] > 200, path
        heights[path.relative_to(out).as_posix()] = size["height"]
    assert max(heights.values()) < MAX_PAGE_PX, max(heights.items(), key=lambda kv: kv[1])
    for name in ("index.html", "conclusion/cauda_equina_syndrome.html", "area/conditions-hip.html"):
        page.goto((out / name).as_uri())
        page.screenshot(path=str(SHOTS / (name.replace("/", "_") + ".png")), full_page=True)
    page.goto((out / "index.html").as_uri())
    links = page.evaluate("() => [...document.querySelectorAll('a')].map(a => a.getAttribute('href'))")
    assert sum(1 for link in links if link.startswith("conclusion/")) == len(kb.conclusions)
    page.close()
