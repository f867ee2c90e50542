"""The patient handout (issue 14 item 3): plain words, second person, no rule ids or certainty,
readable (Flesch reading ease >= 60, measured with textstat), and with a red flag only the
referral and the safety-net."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import textstat
from click.testing import CliRunner

from cli import main
from engine.kb.model import KnowledgeBase
from reports.handout import GLOSSARY, render_handout
from tests.conftest import ROOT
from tests.report_fixtures import GENERATED, example, shipped

EXAMPLES = sorted((ROOT / "examples" / "cases").glob("*.yaml"))
EXERCISE_PHASES = ("restore", "build", "return")
MIN_READING_EASE = 60


class _Text(HTMLParser):
    """The text a patient reads, by section id (the <style> block excluded)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.sections: dict[str, list[str]] = {}
        self._section = ""
        self._skip = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "title"):
            self._skip = True
        if tag == "section":
            self._section = dict(attrs).get("id") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "title"):
            self._skip = False
        self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append(data)
            self.sections.setdefault(self._section, []).append(data)


def read(html: str) -> _Text:
    parser = _Text()
    parser.feed(html)
    return parser


def handout_of(path: Path) -> tuple[object, str]:
    result, _ = example(str(path))
    return result, render_handout(result, GENERATED)


def _prose(text: _Text) -> str:
    """Sentences as a reader meets them, without the glossary: each heading and list item is a
    unit of its own, so it ends a sentence for the formula as it does for the reader."""
    body = [s.strip() for name, parts in text.sections.items() if name != "words" for s in parts]
    return " ".join(part if part[-1] in ".:!?" else part + "." for part in body if part)


@pytest.mark.parametrize("case", EXAMPLES, ids=lambda p: p.stem)
def test_no_ids_no_numbers_of_certainty(case: Path) -> None:
    kb: KnowledgeBase = shipped()[0]
    _, html = handout_of(case)
    text = "".join(read(html).parts)
    ids = {r.id for r in kb.rules} | set(kb.recommendations) | set(kb.conclusions) | set(kb.findings)
    leaked = [i for i in ids if "_" in i and re.search(rf"\b{i}\b", text)]
    assert leaked == []
    assert not re.search(r"\b0\.\d+\b", text), "a certainty number"
    assert "certainty" not in text.lower() and "the patient" not in text.lower()
    assert "you" in text.lower()


@pytest.mark.parametrize("case", EXAMPLES, ids=lambda p: p.stem)
def test_reading_level(case: Path) -> None:
    _, html = handout_of(case)
    prose = _prose(read(html))
    ease = textstat.flesch_reading_ease(prose)
    assert ease >= MIN_READING_EASE, (case.stem, ease)


@pytest.mark.parametrize("case", EXAMPLES, ids=lambda p: p.stem)
def test_red_flag_handout_has_only_referral_and_safety_net(case: Path) -> None:
    result, html = handout_of(case)
    text = read(html)
    assert "safety-net" in text.sections and "Get help at once" in " ".join(text.sections["safety-net"])
    kb = shipped()[0]
    exercise_texts = [r.text for r in kb.recommendations.values() if r.phase in EXERCISE_PHASES]
    if result.red_flags:  # type: ignore[attr-defined]
        assert set(text.sections) <= {"", "referral", "safety-net"}, sorted(text.sections)
        assert not any(t[:40] in html for t in exercise_texts)
        for flag in result.red_flags:  # type: ignore[attr-defined]
            assert flag.conclusion.label not in html  # no alarming label, just what to do
    else:
        assert {"plan", "come-back"} <= set(text.sections)
        assert len(re.findall(r"<li>", html.split('id="plan"')[1].split("</ol>")[0])) == len(result.plan)  # type: ignore[attr-defined]


def test_it_band_handout_names_the_side_dose_and_words() -> None:
    _, html = handout_of(ROOT / "examples/cases/runner_it_band.yaml")
    text = read(html)
    plan = " ".join(text.sections["plan"])
    assert "Do this for your right side." in plan
    assert "2 sets of 10" in plan
    assert "downhill" in " ".join(text.sections["avoid"]).lower()
    assert "6 weeks" in " ".join(text.sections["come-back"])
    words = " ".join(text.sections["words"])
    prose = _prose(text)
    for term in GLOSSARY:
        if re.search(rf"\b{re.escape(term)}", prose, re.IGNORECASE):
            assert term in words, f"'{term}' is used but not explained"


def test_handout_cli_html_and_pdf(tmp_path: Path) -> None:
    case = str(ROOT / "examples/cases/runner_it_band.yaml")
    runner = CliRunner()
    html = tmp_path / "sheet.html"
    result = runner.invoke(main, ["handout", case, "-o", str(html)])
    assert result.exit_code == 0, result.output
    assert "Your advice sheet" in html.read_text()
    again = runner.invoke(main, ["handout", case, "-o", str(html)])
    assert again.exit_code == 2 and "already exists" in again.output
    pdf = tmp_path / "sheet.pdf"
    result = runner.invoke(main, ["handout", case, "-o", str(pdf)])
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_a_case_with_nothing_to_do_says_so_in_every_output(tmp_path: Path) -> None:
    """No finding, so no plan: every output says there is no step instead of showing an empty
    heading, the review is a safety net, and the handout neither promises exercises nor talks
    of changing them."""
    from engine.wording import NO_PLAN
    from tests.conftest import run_cli

    case = tmp_path / "nothing.yaml"
    case.write_text("patient: {id: nothing-1, age: 40}\nfindings: {}\n", encoding="utf-8")
    text = run_cli("assess", str(case))
    assert text.returncode == 0, text.stderr
    plan_part = text.stdout.split("\nPlan\n", 1)[1].split("\n\n", 1)[0]
    assert " ".join(plan_part.split()) == NO_PLAN
    assert "No condition to follow up" in text.stdout and "No planned review needed" not in text.stdout
    markdown = run_cli("assess", str(case), "--format", "markdown").stdout
    assert f"## Plan\n\n{NO_PLAN}\n" in markdown
    run_cli("report", str(case), "-o", str(tmp_path / "r.html"))
    assert NO_PLAN in (tmp_path / "r.html").read_text()
    out = tmp_path / "h.html"
    assert run_cli("handout", str(case), "-o", str(out)).returncode == 0
    sheet = read(out.read_text())
    plan = " ".join(sheet.sections["plan"])
    assert "no exercises on this sheet" in plan and "during an exercise" not in plan
    come_back = " ".join(sheet.sections["come-back"])
    assert "change your exercises" not in come_back and "if the pain has not settled" in come_back
