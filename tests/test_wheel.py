"""The wheel as a user installs it: one top-level package, the command works, nothing generic
leaks into site-packages, and pip's broken experta pin gets one clear line (docs/PACKAGING.md).

Built with `uv build` and installed into a fresh virtual environment with `uv pip` (the uv cache
already holds every dependency after `uv sync`), then run from another folder so nothing in the
checkout can be imported by accident.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

EXAMPLE = ROOT / "examples" / "cases" / "runner_it_band.yaml"


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    uv = shutil.which("uv")
    assert uv, "uv is the project's one prerequisite (pip install uv)"
    work = tmp_path_factory.mktemp("wheel")
    built = run(uv, "build", "--wheel", "--out-dir", work / "dist", str(ROOT), cwd=work)
    assert built.returncode == 0, built.stderr
    wheel = next((work / "dist").glob("*.whl"))
    venv = work / "venv"
    assert run(uv, "venv", "-q", venv, cwd=work).returncode == 0
    overrides = work / "overrides.txt"
    overrides.write_text("frozendict>=2.4\nschema>=0.7\n", encoding="utf-8")
    done = run(uv, "pip", "install", "-q", "--python", venv / "bin" / "python", "--override",
               overrides, wheel, cwd=work)
    assert done.returncode == 0, done.stderr
    return wheel, venv


def test_the_wheel_installs_one_distinctive_top_level_package(installed: tuple[Path, Path]) -> None:
    wheel, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"imbalance_kb"}
    for part in ("engine/kb/loader.py", "clinic/migrations/env.py", "reports/templates/report.md.j2",
                 "kb/knowledge_base.yaml", "cli.py"):
        assert f"imbalance_kb/app/{part}" in names, part


def test_the_installed_command_assesses_and_generic_names_stay_private(
        installed: tuple[Path, Path], tmp_path: Path) -> None:
    _, venv = installed
    assessed = run(venv / "bin" / "imbalance", "assess", EXAMPLE, "--format", "json", cwd=tmp_path)
    assert assessed.returncode == 0, assessed.stderr
    assert '"triage": "routine"' in assessed.stdout
    leaked = run(venv / "bin" / "python", "-c", "import engine", cwd=tmp_path)
    assert leaked.returncode != 0 and "No module named 'engine'" in leaked.stderr


def test_pips_broken_frozendict_pin_gets_one_clear_line(installed: tuple[Path, Path], tmp_path: Path) -> None:
    """What a plain `pip install` leaves behind (experta's frozendict==1.2) fails with one line
    naming the fix, not a traceback."""
    _, venv = installed
    uv = shutil.which("uv")
    assert uv
    old = run(uv, "pip", "install", "-q", "--python", venv / "bin" / "python", "frozendict==1.2",
              cwd=tmp_path)
    assert old.returncode == 0, old.stderr
    try:
        result = run(venv / "bin" / "imbalance", "assess", EXAMPLE, cwd=tmp_path)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and "frozendict 1.2" in result.stderr
        assert "uv" in result.stderr and "Traceback" not in result.stderr
    finally:
        run(uv, "pip", "install", "-q", "--python", venv / "bin" / "python", "frozendict>=2.4", cwd=tmp_path)
