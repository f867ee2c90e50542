"""The cold-start budget, guarded by what a start imports (timed tests are not allowed here;
bench/run.py measures the time): each command imports only what it uses, and a warm KB cache
means no rule file is parsed or checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

CASE = str(ROOT / "examples" / "cases" / "runner_it_band.yaml")

# In a subprocess: run the command as the console script would, then list every module loaded.
PROBE = """
import json, sys
out, argv = sys.argv[1], sys.argv[2:]
sys.argv = ["imbalance", *argv]
import cli
try:
    cli.main()
except SystemExit as exc:
    code = exc.code
with open(out, "w", encoding="utf-8") as handle:
    json.dump({"code": code, "modules": sorted(sys.modules)}, handle)
"""

# Never on the way of `assess`: HTML, graphs, other commands' machinery, and the parsing and
# checking of rule files that a warm cache replaces.
NOT_FOR_ASSESS = ("jinja2", "markupsafe", "networkx", "engine.explain", "reports", "weasyprint",
                  "sqlalchemy", "fastapi", "pydantic", "fhir", "engine.kb.schema",
                  "engine.kb.references", "tomllib", "difflib", "importlib.metadata", "email",
                  "tempfile", "platformdirs", "dask", "hashlib")


def modules_of(tmp_path: Path, *argv: str, cache_env: str = "IMBALANCE_CACHE_DIR") -> set[str]:
    """`cache_env` IMBALANCE_CACHE_DIR, or XDG_CACHE_HOME for the default (platformdirs) folder."""
    env = {k: v for k, v in os.environ.items() if k not in ("IMBALANCE_NO_CACHE", "IMBALANCE_CACHE_DIR")}
    env[cache_env] = str(tmp_path / "cache")
    listing = tmp_path / "modules.json"
    for _ in range(2):  # the first run fills the caches, the second is the start measured
        done = subprocess.run([sys.executable, "-c", PROBE, str(listing), *argv], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    data = json.loads(listing.read_text(encoding="utf-8"))
    assert data["code"] in (0, None), data
    return set(data["modules"])


def loaded(modules: set[str], package: str) -> list[str]:
    return sorted(m for m in modules if m == package or m.startswith(package + "."))


@pytest.mark.parametrize("cache_env", ["IMBALANCE_CACHE_DIR", "XDG_CACHE_HOME"])
def test_assess_on_a_warm_cache_imports_only_what_it_uses(tmp_path: Path, cache_env: str) -> None:
    modules = modules_of(tmp_path, "assess", CASE, "--format", "json", cache_env=cache_env)
    assert "experta" in modules and "engine.kb.cache" in modules  # the probe ran the command
    assert {name: loaded(modules, name) for name in NOT_FOR_ASSESS} == {name: [] for name in NOT_FOR_ASSESS}


def test_a_json_case_needs_no_yaml(tmp_path: Path) -> None:
    """A well-formed JSON case is read by the standard library: PyYAML is not imported."""
    import yaml

    data = yaml.safe_load(Path(CASE).read_text(encoding="utf-8"))
    data.pop("expect")  # a case test's expectations keep their lines: those are read as YAML
    case = tmp_path / "case.json"
    case.write_text(json.dumps(data), encoding="utf-8")
    modules = modules_of(tmp_path, "assess", str(case), "--format", "json")
    assert "engine.inference.reasoner" in modules
    assert {name: loaded(modules, name) for name in ("yaml", *NOT_FOR_ASSESS)} == {
        name: [] for name in ("yaml", *NOT_FOR_ASSESS)}


@pytest.mark.parametrize(("fmt", "unused"), [
    ("text", ("networkx", "jinja2", "engine.explain")),
    ("markdown", ()),  # the HTML report's content: the document, its graph and a template
])
def test_the_other_assess_formats_on_a_warm_cache(tmp_path: Path, fmt: str, unused: tuple[str, ...]) -> None:
    modules = modules_of(tmp_path, "assess", CASE, "--format", fmt)
    for name in (*unused, "engine.kb.schema", "tomllib", "difflib", "weasyprint", "sqlalchemy"):
        assert not loaded(modules, name), name


def test_report_on_a_warm_cache_parses_no_rule_file(tmp_path: Path) -> None:
    out = tmp_path / "x.html"
    modules = modules_of(tmp_path, "report", CASE, "-o", str(out), "--force")
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    # (no difflib check: click's parser tries `-o` as a long option first and imports it)
    for name in ("engine.kb.schema", "tomllib", "weasyprint", "sqlalchemy", "fastapi", "dask"):
        assert not loaded(modules, name), name
    assert list((tmp_path / "cache" / "templates").iterdir())  # compiled templates kept


def test_help_imports_neither_the_engine_nor_a_parser(tmp_path: Path) -> None:
    modules = modules_of(tmp_path, "--help")
    for name in ("experta", "yaml", "jinja2", "networkx", "engine.kb", "engine.inference"):
        assert not loaded(modules, name), name


# In a subprocess: start as the console script does (the launcher), run the command, and print
# AT_EXIT (an expression about the collector) on stderr as the process exits.
LAUNCH_PROBE = """
import atexit, gc, sys
atexit.register(lambda: print(AT_EXIT, file=sys.stderr))
sys.argv = ["imbalance", *sys.argv[1:]]
import imbalance_kb
imbalance_kb.main()
"""


def launched(tmp_path: Path, at_exit: str, *argv: str) -> tuple[subprocess.CompletedProcess[str], str]:
    """The finished process and the last line it printed on stderr (`at_exit`'s value)."""
    env = {**os.environ, "IMBALANCE_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-c", LAUNCH_PROBE.replace("AT_EXIT", at_exit), *argv],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    return proc, proc.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(("argv", "state"), [
    (("assess", CASE, "--format", "json"), "collector off"),  # one case, one answer, exit
    (("report", CASE, "-o", "{out}.html"), "collector off"),
    (("handout", CASE, "-o", "{out}.html"), "collector off"),
    (("explain", CASE, "it_band_syndrome"), "collector off"),
    (("kb", "show", "saddle_anaesthesia"), "collector on"),
    (("fhir", "questionnaire"), "collector on"),
    (("batch", str(ROOT / "examples" / "cases"), "-o", "{out}.jsonl", "-j", "1"), "collector on"),
])
def test_the_launcher_pauses_the_collector_only_for_one_shot_commands(
        tmp_path: Path, argv: tuple[str, ...], state: str) -> None:
    """The launcher pauses the collector for the start (every object made then lives to the end);
    `cli` turns it back on as soon as it knows the command, except for the one-case commands
    (cli.COLLECTOR_PAUSED), so a long-running command (serve, batch, interview, kb test) never
    runs without it."""
    proc, said = launched(tmp_path, '"collector on" if gc.isenabled() else "collector off"',
                          *(a.format(out=tmp_path / "out") for a in argv))
    assert proc.returncode == 0, proc.stderr
    assert said == state, proc.stderr


def test_a_process_the_launcher_did_not_start_keeps_its_collector(monkeypatch: pytest.MonkeyPatch) -> None:
    """`cli` imported by a test or a library: resume_collector leaves the collector as it is."""
    import gc
    import types

    import cli

    monkeypatch.delitem(sys.modules, "imbalance_kb", raising=False)
    assert gc.isenabled()
    cli.resume_collector("batch")
    assert gc.isenabled()
    fake = types.SimpleNamespace(collector_paused=True)
    monkeypatch.setitem(sys.modules, "imbalance_kb", fake)
    gc.disable()
    try:
        cli.resume_collector("assess")
        assert not gc.isenabled() and fake.collector_paused
        cli.resume_collector("serve")
        assert gc.isenabled() and not fake.collector_paused
    finally:
        gc.enable()


@pytest.mark.parametrize(("argv", "code"), [
    (("assess", CASE, "--format", "json"), 0),
    (("report", CASE, "-o", "{out}"), 0),
    (("assess", "no-such-case.yaml"), 2),  # an error ends the same way
])
def test_the_launcher_spares_the_exit_its_last_collection(
        tmp_path: Path, argv: tuple[str, ...], code: int) -> None:
    """Everything alive at the end is frozen, so Python's collection at exit skips it; the
    command's output is whole."""
    out = tmp_path / "report.html"
    # the objects exempt from the collection Python runs over everything at exit
    proc, said = launched(tmp_path, "gc.get_freeze_count()", *(a.format(out=out) for a in argv))
    assert proc.returncode == code, proc.stderr
    frozen = int(said)
    assert frozen > 10_000  # the modules, the KB and the engine at least
    if argv[0] == "assess" and code == 0:
        assert json.loads(proc.stdout)["triage"] == "routine"
    if argv[0] == "report":
        assert out.read_text(encoding="utf-8").rstrip().endswith("</html>")
