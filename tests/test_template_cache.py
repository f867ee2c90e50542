"""Jinja's bytecode cache for the report templates (reports/templating.py): the same report as a
fresh compile, never stale after an edit, and never a failed command when the folder is unusable."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from reports import templating
from tests.conftest import ROOT, SCRIPT

CASE = ROOT / "examples" / "cases" / "runner_it_band.yaml"


def report(out: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), "report", str(CASE), "-o", str(out), "--force"], env=env,
                          capture_output=True, text=True, cwd=ROOT)


def script_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("IMBALANCE_NO_CACHE", "IMBALANCE_CACHE_DIR")}
    return {**env, "SOURCE_DATE_EPOCH": "1700000000", **extra}


def test_a_report_from_cached_templates_is_the_freshly_compiled_one(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = script_env(IMBALANCE_CACHE_DIR=str(cache))
    first, second = tmp_path / "first.html", tmp_path / "second.html"
    assert report(first, env).returncode == 0
    entries = sorted((cache / "templates").iterdir())
    assert entries  # the compiled templates were kept
    stamps = [e.stat().st_mtime_ns for e in entries]
    assert report(second, env).returncode == 0
    assert [e.stat().st_mtime_ns for e in entries] == stamps  # read back, not written again
    fresh = tmp_path / "fresh.html"
    assert report(fresh, script_env(IMBALANCE_NO_CACHE="1")).returncode == 0
    assert first.read_bytes() == second.read_bytes() == fresh.read_bytes()


def test_damaged_entries_and_an_unusable_folder_only_cost_a_compile(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = script_env(IMBALANCE_CACHE_DIR=str(cache))
    good = tmp_path / "good.html"
    assert report(good, env).returncode == 0
    for entry in (cache / "templates").iterdir():
        entry.write_bytes(b"j2 not a compiled template")
    again = tmp_path / "again.html"
    done = report(again, env)
    assert done.returncode == 0 and done.stderr == ""
    assert again.read_bytes() == good.read_bytes()
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    out = tmp_path / "blocked.html"
    done = report(out, script_env(IMBALANCE_CACHE_DIR=str(blocked)))
    assert done.returncode == 0 and done.stderr == ""
    assert out.read_bytes() == good.read_bytes()


def test_an_edited_template_is_compiled_afresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    monkeypatch.setattr(templating, "TEMPLATES", folder)
    monkeypatch.delenv("IMBALANCE_NO_CACHE", raising=False)
    monkeypatch.setenv("IMBALANCE_CACHE_DIR", str(tmp_path / "cache"))
    page = folder / "page.j2"
    page.write_text("Hello {{ name }}", encoding="utf-8")
    env = templating.make_environment(autoescape=True, finalize=templating.visible_controls)
    assert env.get_template("page.j2").render(name="<P-1>") == "Hello &lt;P-1&gt;"
    assert list((tmp_path / "cache" / "templates").iterdir())
    page.write_text("Bye {{ name }}", encoding="utf-8")  # a new process: a new environment
    env = templating.make_environment(autoescape=True, finalize=templating.visible_controls)
    assert env.get_template("page.j2").render(name="P-1") == "Bye P-1"
