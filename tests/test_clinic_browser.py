"""The clinic in a real browser, keyboard only: new patient, intake form, consultation, report,
patient handout, second visit, compare, due for review; and axe-core finds no serious or
critical problem.

A real `imbalance serve` process on a temporary SQLite file, driven by Debian's Chromium through
Playwright with JavaScript off (the clinic has none). Every action is a key press: Tab moves to
the control, then Space, Enter, arrow keys or typing. axe-core (tests/fixtures/axe, vendored
from npm) runs in a second context with JavaScript on and the page's CSP bypassed, since it is
injected by the test and never served. Screenshots of each page go to the test's tmp folder.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser_support import VIEWPORT
from tests.clinic_support import fresh_database
from tests.conftest import ROOT
from tests.test_clinic_storage import csrf_client, free_port, start_server

AXE = ROOT / "tests" / "fixtures" / "axe" / "axe.min.js"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = next(fresh_database("sqlite", tmp_path_factory.mktemp("clinic")))
    port = free_port()
    process = start_server(url, port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


class Keyboard:
    """Drives one page with the keyboard only, the way a clinician without a mouse would."""

    def __init__(self, page: Any, shots: Path) -> None:
        self.page = page
        self.shots = shots
        self.visited: list[str] = []

    def focus(self, selector: str, limit: int = 250) -> None:
        """Press Tab until the element matching `selector` has the focus."""
        target = self.page.locator(selector).first
        for _ in range(limit):
            if target.evaluate("e => e === document.activeElement"):
                return
            self.page.keyboard.press("Tab")
        raise AssertionError(f"Tab never reached {selector} on {self.page.url}")

    def follow(self, selector: str) -> None:
        self.focus(selector)
        with self.page.expect_navigation():
            self.page.keyboard.press("Enter")
        self.visited.append(self.page.url)

    def type_into(self, selector: str, text: str) -> None:
        self.focus(selector)
        self.page.keyboard.type(text)

    def tick(self, selector: str) -> None:
        self.focus(selector)
        self.page.keyboard.press("Space")

    def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5_000
        return path


def new_patient(keys: Keyboard, name: str, ref: str) -> None:
    keys.follow("nav >> text=New patient")
    keys.type_into("#field-name", name)
    keys.type_into("#field-ref", ref)
    keys.type_into("#field-birth_year", "1979")
    keys.focus("#field-sex")
    keys.page.keyboard.press("ArrowDown")  # Female, the option after "Not recorded"
    keys.follow("button:has-text('Add patient')")
    assert keys.page.locator("h1").inner_text() == name


def intake_visit(keys: Keyboard, seen_on: dt.date) -> None:
    keys.follow("text=New visit with the intake form")
    keys.focus("#field-seen_on")
    keys.page.keyboard.type(seen_on.strftime("%m%d%Y"))  # en-US date field: month, day, year
    keys.tick("#field-f-low_back_pain")
    keys.tick("#field-asked-neurological_warning_signs")
    keys.type_into("#field-f-sitting_hours_per_day", "9")
    keys.follow("button:has-text('Save the visit and assess')")
    assert "visit of" in keys.page.locator("h1").inner_text()


def consultation(keys: Keyboard) -> int:
    """Answer every page: tick low back pain on the body chart, no to every other checklist
    item, 'No' to each single question, a middle value for numbers. Returns pages answered."""
    keys.follow("text=Start a consultation")
    page = keys.page
    screened = False
    for count in range(120):
        if page.locator("text=Consultation complete").count():
            assert screened, "no red-flag screen question was asked"
            keys.shot("consultation-complete")
            keys.follow("button:has-text('Save the visit and see the report')")
            return count
        if count == 0:
            keys.shot("consultation-first")
            assert "Where it hurts" in page.locator(".phase").inner_text()  # the body chart
        if count and "Red-flag screen" in page.locator(".phase").inner_text():
            screened = True
        if page.locator("#q-low_back_pain").count():
            keys.tick("#q-low_back_pain")
        radios = page.locator("fieldset.question input[type=radio]")
        numbers = page.locator("fieldset.question input[type=number]")
        if radios.count():
            keys.focus("fieldset.question input[type=radio] >> nth=0")
            labels = [radios.nth(i).get_attribute("value") for i in range(radios.count())]
            page.keyboard.press("Space")  # the first option ...
            for _ in range(labels.index("no") if "no" in labels else 0):
                page.keyboard.press("ArrowRight")  # ... then along the group to "no"
        elif numbers.count():
            keys.type_into("fieldset.question input[type=number]", "2")
        keys.follow("button[value=answer]")
    raise AssertionError("the consultation did not finish in 120 pages")


def test_the_whole_path_by_keyboard(browser: Any, server: str, tmp_path: Path) -> None:
    context = browser.new_context(viewport=VIEWPORT, java_script_enabled=False, locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    keys = Keyboard(page, tmp_path)
    try:
        page.goto(server + "/patients")
        new_patient(keys, "Maria Keyboard", "P-0042")
        intake_visit(keys, dt.date.today() - dt.timedelta(weeks=10))
        keys.shot("visit-intake")
        keys.follow("text=Back to Maria Keyboard")
        pages = consultation(keys)
        assert 3 <= pages <= 80
        visit_url = page.url
        keys.shot("visit-consultation")
        assert page.locator("#triage").count() == 1
        keys.follow("text=Full report")
        assert page.locator("h1").count() and "imbalance" in page.content()
        keys.shot("report")
        page.goto(visit_url)
        keys.follow("text=Patient handout")
        assert page.locator("h1").inner_text() == "Your advice sheet"
        assert page.locator("#plan ol.steps li").count() >= 1 and page.locator("#referral").count() == 0
        keys.shot("handout")
        page.goto(visit_url)
        keys.follow("text=Compare with another visit")
        keys.shot("compare")
        changed = page.locator("tr.changed")
        assert changed.count() >= 1
        assert "changed" in changed.first.inner_text()
        page.goto(server + "/patients")
        new_patient(keys, "Old Visit Keyboard", "P-0043")
        intake_visit(keys, dt.date.today() - dt.timedelta(weeks=60))
        keys.follow("nav >> text=Due for review")
        keys.shot("due")
        due = page.locator("main table").inner_text()
        assert "Old Visit Keyboard" in due and "Maria Keyboard" not in due
        keys.follow("nav >> text=Patients")
        keys.type_into("#q", "keyboard")
        keys.follow("button:has-text('Search')")
        keys.shot("patients")
        assert page.locator("tbody tr").count() == 2
        assert errors == []
    finally:
        context.close()


def seed(server: str) -> tuple[int, int]:
    """A patient with two visits, one of them raising a red flag, made over HTTP."""
    client, token = csrf_client(server)
    created = client.post("/patients/new", data={"csrf_token": token, "name": "Axe Check", "sex": "male"})
    pid = int(created.headers["location"].rsplit("/", 1)[1])
    client.post(f"/patients/{pid}/visits/new", data={"csrf_token": token, "f.low_back_pain": "yes",
                                                     "seen_on": "2025-01-01"})
    second = client.post(f"/patients/{pid}/visits/new", data={
        "csrf_token": token, "f.low_back_pain": "yes", "f.saddle_anaesthesia": "yes"})
    return pid, int(second.headers["location"].rsplit("/", 1)[1])


def test_a_red_flag_visits_handout_opened_from_the_visit_page_has_no_exercise(
        browser: Any, server: str, tmp_path: Path) -> None:
    context = browser.new_context(viewport=VIEWPORT, java_script_enabled=False, locale="en-US")
    page = context.new_page()
    keys = Keyboard(page, tmp_path)
    try:
        pid, vid = seed(server)
        page.goto(server + f"/patients/{pid}/visits/{vid}")
        keys.shot("visit-red-flag")
        keys.follow("text=Patient handout")
        assert page.url.endswith(f"/patients/{pid}/visits/{vid}/handout")
        referral = page.locator("#referral").inner_text()
        assert "Go to the nearest emergency department now" in referral
        assert page.locator("#plan").count() == 0 and page.locator("ol.steps li").count() == 0
        assert page.locator("#safety-net li").count() >= 3
        keys.shot("handout-red-flag")
    finally:
        context.close()


def test_no_serious_accessibility_problems(browser: Any, server: str, tmp_path: Path) -> None:
    """axe-core on every kind of page, a red-flag visit included."""
    context = browser.new_context(viewport=VIEWPORT, java_script_enabled=True, bypass_csp=True)
    page = context.new_page()
    script = AXE.read_text(encoding="utf-8")
    found: dict[str, list[str]] = {}
    pid, vid = seed(server)
    pages = ["/patients", "/patients/new", f"/patients/{pid}", f"/patients/{pid}/visits/new",
             f"/patients/{pid}/consult", f"/patients/{pid}/visits/{vid}", f"/patients/{pid}/compare",
             "/due", "/login", f"/patients/{pid}/delete", f"/patients/{pid}/visits/{vid}/handout"]
    try:
        for path in pages:
            page.goto(server + path)
            assert page.locator("main").count() == 1, path
            page.add_script_tag(content=script)
            result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
            assert result["testEngine"]["version"] == "4.14.1" and result["passes"] is not None
            bad = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
                   for v in result["violations"] if v["impact"] in ("serious", "critical")]
            if bad:
                found[path] = bad
        # the intake form given back with errors must be as usable as the empty one
        page.goto(server + f"/patients/{pid}/visits/new")
        page.fill("#field-age", "460")
        with page.expect_navigation():
            page.click("button:has-text('Save the visit and assess')")
        assert page.locator("[aria-invalid=true]").count() >= 1
        page.add_script_tag(content=script)
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        bad = [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")]
        if bad:
            found["intake with errors"] = bad
    finally:
        context.close()
    assert found == {}
