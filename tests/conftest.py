"""Shared fixtures: the shipped KB, small inline KBs, the CLI in-process and the real console script."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.inference.reasoner import Reasoner
from engine.kb.loader import load_kb
from engine.kb.model import KnowledgeBase

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "imbalance"

# The on-disk KB cache is on, as it is for a user, but in a private folder of this test process
# (never the user's cache folder), removed at exit. Each xdist worker has its own. Nearly every
# CLI run in the suite loads the shipped KB, and a cache hit costs a fraction of a parse, so
# this is also most of what keeps the suite fast; tests/test_kb_cache.py checks the cache itself
# (stale entries, damaged entries, deleting the folder) in folders of its own.
os.environ.pop("IMBALANCE_NO_CACHE", None)
os.environ["IMBALANCE_CACHE_DIR"] = _CACHE = tempfile.mkdtemp(prefix="imbalance-test-cache-")
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_kb()


@pytest.fixture(scope="session")
def reasoner(kb: KnowledgeBase) -> Reasoner:
    return Reasoner(kb)


# The clinic's storage is tested on both: SQLite always, PostgreSQL where IMBALANCE_TEST_PG_URL
# names a server (.ci/run starts one; under CI a missing server fails, see tests/clinic_support.py).
BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty clinic database on each backend, dropped afterwards."""
    from tests.clinic_support import fresh_database

    yield from fresh_database(request.param, tmp_path)


@pytest.fixture
def local(db_url: str) -> Iterator[Any]:
    """The clinic app on that database, seen from the loopback host (no login needed)."""
    from fastapi.testclient import TestClient

    from tests.clinic_support import Clinic, make_app

    with TestClient(make_app(db_url)) as client:
        yield Clinic(client)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium for one test module (tests/browser_support.py)."""
    from tests.browser_support import launch

    with launch() as chromium:
        yield chromium


@pytest.fixture
def write_files(tmp_path: Path) -> Callable[[dict[str, str]], Path]:
    """Write {relative path: YAML text} under a fresh folder and return the folder."""

    def write(files: dict[str, str]) -> Path:
        folder = tmp_path / "layer"
        for name, text in files.items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return folder

    return write


def run_cli(*args: str, stdin: str | None = None, cwd: Path | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `imbalance` in this process through click's CliRunner: the same `cli.main`, its
    error handling and exit codes, with `stdin`, `cwd` and `env` as given, in a fraction of a
    process start. An exception that escapes the command (which a user would see as a
    traceback) comes back as exit code 1 with the traceback on stderr, so a test that says
    "no traceback" still catches it. Tests about the installed command itself (the console
    script, signals, worker processes, real pipes) use `run_script`."""
    from click.testing import CliRunner

    from cli import main

    runner = CliRunner()
    before = os.getcwd()
    os.chdir(cwd or ROOT)
    try:
        result = runner.invoke(main, list(args), input=stdin, prog_name="imbalance",
                               env={"IMBALANCE_DEBUG": None, **(env or {})})  # type: ignore[dict-item]
    finally:
        os.chdir(before)
    stderr, code = result.stderr, result.exit_code
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
        code = 1
    return subprocess.CompletedProcess(["imbalance", *args], code, result.stdout, stderr)


def run_script(*args: str, stdin: str | None = None, cwd: Path | None = None,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed `imbalance` console script as a user would, in its own process."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("IMBALANCE_DEBUG", None)
    return subprocess.run([str(SCRIPT), *args], input=stdin, capture_output=True, text=True,
                          cwd=cwd or ROOT, env=full_env, timeout=120)
