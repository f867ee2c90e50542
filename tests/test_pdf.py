"""`report -o x.pdf` and `handout -o x.pdf`: a PDF from Chromium or WeasyPrint, and one clear
line naming what to install when neither can run (nothing written then)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from cli import main
from reports.pdf import find_chromium
from tests.browser_support import require_program
from tests.conftest import ROOT

CASE = str(ROOT / "examples/cases/runner_it_band.yaml")


def _read(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


@pytest.mark.parametrize("engine", ["chromium", "weasyprint"])
def test_report_pdf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str) -> None:
    if engine == "chromium" and find_chromium() is None:
        require_program("chromium", "apt-get install chromium")
    monkeypatch.setenv("IMBALANCE_PDF_ENGINE", engine)
    out = tmp_path / "r.pdf"
    result = CliRunner().invoke(main, ["report", CASE, "-o", str(out)])
    assert result.exit_code == 0, result.output
    pdf = out.read_bytes()
    assert pdf[:5] == b"%PDF-"
    reader = _read(pdf)
    assert len(reader.pages) >= 3  # the summary page, then the details
    sizes = {tuple(sorted(round(float(v)) for v in page.mediabox[2:])) for page in reader.pages}
    assert sizes == {(595, 842)}  # A4, portrait or landscape
    first = reader.pages[0].extract_text()
    assert "Iliotibial band syndrome" in first and "Plan" in first and "Review in 6 weeks" in first
    assert "Reasoning graph" not in first  # the first page is the summary alone


def test_no_pdf_engine_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMBALANCE_PDF_ENGINE", "chromium")
    monkeypatch.setenv("PATH", str(tmp_path))  # no chromium anywhere
    out = tmp_path / "r.pdf"
    result = CliRunner().invoke(main, ["report", CASE, "-o", str(out)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "cannot write a PDF" in lines[0]
    assert "apt-get install chromium" in lines[0] and "libpango" in lines[0]
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_unknown_pdf_engine_is_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMBALANCE_PDF_ENGINE", "ghostscript")
    result = CliRunner().invoke(main, ["handout", CASE, "-o", str(tmp_path / "h.pdf")])
    assert result.exit_code == 2 and "IMBALANCE_PDF_ENGINE" in result.output
