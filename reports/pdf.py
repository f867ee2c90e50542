"""HTML to PDF for `report -o x.pdf` and `handout -o x.pdf`, with well-kept tools only.

Headless Chromium when it is on the machine (`chromium --print-to-pdf`), else WeasyPrint (a
Python library that needs the Pango system library). Chromium comes first because the print
layout is what the browser tests check (the one-page A4 summary, the landscape graph page) and
WeasyPrint does not apply CSS to inline SVG, so its reasoning graph loses its colours; both honour
the stylesheet's `@page` rules. When neither works the user
gets one line naming what to install, never a traceback. `IMBALANCE_PDF_ENGINE=weasyprint` or
`=chromium` picks one (for tests and for a machine where one of them misbehaves).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from engine.errors import InputError

ENGINES = ("chromium", "weasyprint")
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync",
                 "--no-pdf-header-footer")
INSTALL_HINT = ("install WeasyPrint's system library (Debian/Ubuntu: apt-get install "
                "libpango-1.0-0 libpangoft2-1.0-0; macOS: brew install pango) or Chromium "
                "(apt-get install chromium), or write .html and print it from a browser")


def html_to_pdf(html: str) -> bytes:
    """The PDF bytes for a self-contained HTML page (no external resources to fetch)."""
    wanted = os.environ.get("IMBALANCE_PDF_ENGINE", "").strip().lower()
    if wanted and wanted not in ENGINES:
        raise InputError(f"IMBALANCE_PDF_ENGINE is {wanted!r}", key="IMBALANCE_PDF_ENGINE",
                         suggestion=f"use one of {', '.join(ENGINES)}, or unset it")
    failures: list[str] = []
    for engine in ([wanted] if wanted else list(ENGINES)):
        try:
            return _weasyprint(html) if engine == "weasyprint" else _chromium(html)
        except _Unavailable as exc:
            failures.append(f"{engine}: {exc}")
    raise InputError("cannot write a PDF (" + "; ".join(failures) + ")", key="-o",
                     suggestion=INSTALL_HINT)


class _Unavailable(Exception):
    """This PDF engine cannot run here; the message says why."""


def _weasyprint(html: str) -> bytes:
    try:
        import logging

        from weasyprint import HTML

        logging.getLogger("weasyprint").setLevel(logging.ERROR)  # CSS it skips is not the user's concern
    except ImportError:
        raise _Unavailable("the weasyprint package is not installed") from None
    except OSError as exc:  # the Python package is there but Pango is not
        raise _Unavailable(f"a system library is missing ({exc})") from None
    pdf = HTML(string=html).write_pdf()
    if not pdf:
        raise _Unavailable("it produced no output")
    return bytes(pdf)


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _chromium(html: str) -> bytes:
    binary = find_chromium()
    if binary is None:
        raise _Unavailable("no chromium on PATH")
    with tempfile.TemporaryDirectory(prefix="imbalance-pdf-") as folder:
        page = Path(folder) / "page.html"
        out = Path(folder) / "page.pdf"
        page.write_text(html, encoding="utf-8")
        try:
            subprocess.run([binary, *CHROMIUM_ARGS, f"--user-data-dir={folder}/profile",
                            f"--print-to-pdf={out}", page.as_uri()],
                           capture_output=True, timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise _Unavailable(f"it did not run ({exc})") from None
        if not out.exists() or out.stat().st_size == 0:
            raise _Unavailable("it wrote no PDF")
        return out.read_bytes()
