"""One way to start the browser for every browser test: Debian's Chromium (never a downloaded
browser) driven by Playwright, headless, with the same switches and the same window size.

A missing Chromium skips on a developer's machine but fails under CI (CI=true), where .ci/run
installs it: there, a skipped browser test would prove nothing while looking green.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 900}


def require_program(program: str, install: str) -> None:
    """Skip without `program` (a path or a command name), except under CI, where it fails."""
    if os.path.exists(program) or shutil.which(program):
        return
    message = f"{program} is not installed ({install})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}: .ci/run must install it")
    pytest.skip(message)


@contextmanager
def launch() -> Iterator[Any]:
    """A headless Chromium for one test module, closed afterwards."""
    require_program(CHROMIUM, "apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
