"""Shared fixtures: the shipped KB, small inline KBs, and the real console script."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.inference.reasoner import Reasoner
from engine.kb.loader import load_kb
from engine.kb.model import KnowledgeBase

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "imbalance"

# The on-disk KB cache stays out of the user's cache folder and off by default: most tests load
# a fresh temporary layer once, where writing an entry is pure cost. tests/test_kb_cache.py
# turns it on (in a temporary folder) and checks it through functions and the console script.
os.environ["IMBALANCE_NO_CACHE"] = "1"
os.environ.pop("IMBALANCE_CACHE_DIR", None)


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_kb()


@pytest.fixture(scope="session")
def reasoner(kb: KnowledgeBase) -> Reasoner:
    return Reasoner(kb)


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
    """Run the installed `imbalance` console script as a user would."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("IMBALANCE_DEBUG", None)
    return subprocess.run([str(SCRIPT), *args], input=stdin, capture_output=True, text=True,
                          cwd=cwd or ROOT, env=full_env, timeout=120)
