"""The on-disk cache of the loaded KB: the same KB as a fresh load, never stale, safe to delete,
data only (engine/kb/cache.py)."""

from __future__ import annotations

import json
import marshal
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import engine
from cli import main
from engine.kb import cache
from engine.kb.loader import load_layers, shipped_kb_dir
from tests.conftest import ROOT, SCRIPT

RULE = """
rules:
  - id: t_cache_rule
    title: A rule for the cache tests
    band: condition
    when: [{runner: true}]
    then: {condition: it_band_syndrome, certainty: 0.25, because: test}
    sources: [seed_000]
    evidence: low
"""


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.delenv("IMBALANCE_NO_CACHE", raising=False)
    monkeypatch.setenv("IMBALANCE_CACHE_DIR", str(folder))
    return folder


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("kb-*.marshal"))


def load(layer: Path | None = None) -> object:
    return load_layers((shipped_kb_dir(), *((layer,) if layer else ())))


def test_a_cached_load_is_the_fresh_load(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = load()
    assert len(entries(cache_dir)) == 1
    again = load()
    monkeypatch.setenv("IMBALANCE_NO_CACHE", "1")
    fresh = load()
    assert again == fresh == first
    assert again.kb.rules == fresh.kb.rules and again.problems == fresh.problems  # type: ignore[attr-defined]


def test_an_edit_that_keeps_size_and_mtime_is_seen(cache_dir: Path, tmp_path: Path) -> None:
    layer = tmp_path / "layer"
    layer.mkdir()
    rules = layer / "rules.yaml"
    rules.write_text(RULE, encoding="utf-8")
    info = rules.stat()
    before = load(layer).kb.rule("t_cache_rule")  # type: ignore[attr-defined]
    assert before.certainty == 0.25
    rules.write_text(RULE.replace("0.25", "0.75"), encoding="utf-8")  # same size
    os.utime(rules, ns=(info.st_atime_ns, info.st_mtime_ns))  # same mtime
    assert rules.stat().st_size == info.st_size and rules.stat().st_mtime_ns == info.st_mtime_ns
    assert load(layer).kb.rule("t_cache_rule").certainty == 0.75  # type: ignore[attr-defined]


def test_a_new_file_and_a_removed_file_are_seen(cache_dir: Path, tmp_path: Path) -> None:
    layer = tmp_path / "layer"
    layer.mkdir()
    (layer / "a.yaml").write_text(RULE, encoding="utf-8")
    assert load(layer).kb.rule("t_cache_rule")  # type: ignore[attr-defined]
    (layer / "b.yaml").write_text(RULE.replace("t_cache_rule", "t_cache_other"), encoding="utf-8")
    assert load(layer).kb.rule("t_cache_other")  # type: ignore[attr-defined]
    (layer / "a.yaml").unlink()
    assert load(layer).kb.rule("t_cache_rule") is None  # type: ignore[attr-defined]


def test_problems_come_back_from_the_cache_too(cache_dir: Path, tmp_path: Path) -> None:
    layer = tmp_path / "layer"
    layer.mkdir()
    (layer / "bad.yaml").write_text(RULE.replace("runner", "runnr"), encoding="utf-8")
    first = [p.render() for p in load(layer).problems]  # type: ignore[attr-defined]
    assert any("runnr" in p for p in first)
    assert [p.render() for p in load(layer).problems] == first  # type: ignore[attr-defined]


@pytest.mark.parametrize("damage", [b"", b"not marshal at all", marshal.dumps(("x", ["Rule"]))])
def test_a_damaged_or_foreign_entry_is_a_miss(cache_dir: Path, damage: bytes) -> None:
    good = load()
    (entry,) = entries(cache_dir)
    entry.write_bytes(damage)
    assert load() == good
    stored_stamp, _ = marshal.loads(entry.read_bytes())  # written anew, whole
    assert stored_stamp[0] == cache.FORMAT


def test_an_entry_naming_a_class_outside_the_model_is_refused() -> None:
    with pytest.raises(KeyError):
        cache.decode(["Popen", "rm -rf /"])
    with pytest.raises(KeyError):
        cache.decode({"rules": [0, ["Popen", "rm -rf /"]]})
    with pytest.raises(ValueError):  # a model class with the wrong number of fields
        cache.decode(["Location", "kb/x.yaml", 3, "extra", "fields"])
    with pytest.raises(ValueError):
        cache.decode([7, "unknown tag"])
    with pytest.raises(TypeError):
        cache.encode(Path("."))  # not a KB class: never written


def test_the_entry_is_plain_data(cache_dir: Path) -> None:
    load()
    (entry,) = entries(cache_dir)
    _, data = marshal.loads(entry.read_bytes())

    def kinds(value: object) -> set[type]:
        out = {type(value)}
        if isinstance(value, (tuple, list)):
            for item in value:
                out |= kinds(item)
        elif isinstance(value, dict):
            for k, v in value.items():
                out |= kinds(k) | kinds(v)
        return out

    assert kinds(data) <= {str, int, float, bool, type(None), tuple, list, dict, bytes}

    def blobs(value: object) -> list[bytes]:  # deferred fields: marshal of plain data again
        if isinstance(value, bytes):
            return [value]
        items = value.values() if isinstance(value, dict) else value
        return [b for item in items for b in blobs(item)] if isinstance(value, (tuple, list, dict)) else []

    for blob in blobs(data):
        assert kinds(marshal.loads(blob)) <= {str, int, float, bool, type(None), tuple, list, dict}


def test_the_case_tests_wait_until_something_reads_them(cache_dir: Path) -> None:
    """A start of `assess` does not rebuild the KB's case tests; `kb test` gets all of them."""
    fresh = load()
    cached = load()
    tests = cached.kb.tests  # type: ignore[attr-defined]
    assert isinstance(tests, cache.Deferred) and tests._items is None
    assert len(tests) == len(fresh.kb.tests) > 0 and tests == fresh.kb.tests  # type: ignore[attr-defined]
    assert [t.name for t in tests] == [t.name for t in fresh.kb.tests]  # type: ignore[attr-defined]
    assert tests[0] == fresh.kb.tests[0] and tests[-1].expect == fresh.kb.tests[-1].expect  # type: ignore[attr-defined]


def test_a_kb_from_the_cache_encodes_again_without_decoding_its_tests(cache_dir: Path) -> None:
    """What `batch --dask` sends to the workers: the encoded KB, its case tests passed on as read."""
    load()
    kb = load().kb  # type: ignore[attr-defined]
    again = cache.decode(marshal.loads(marshal.dumps(cache.encode(kb))))
    assert kb.tests._items is None  # never decoded on the way
    assert again == kb and list(again.tests) == list(kb.tests)


def test_deleting_the_cache_folder_is_safe(cache_dir: Path) -> None:
    good = load()
    for entry in entries(cache_dir):
        entry.unlink()
    cache_dir.rmdir()
    assert load() == good
    assert entries(cache_dir)


def test_the_tool_version_is_pyprojects() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    version = re.search(r'(?m)^version = "([^"]+)"', text)
    assert version and engine.__version__ == version.group(1)


def test_the_console_script_gives_the_same_answer_cold_and_cached(tmp_path: Path) -> None:
    import subprocess

    case = ROOT / "examples" / "cases" / "runner_it_band.yaml"
    env = {**os.environ, "IMBALANCE_CACHE_DIR": str(tmp_path / "c")}
    env.pop("IMBALANCE_NO_CACHE", None)
    runs = [subprocess.run([str(SCRIPT), "assess", str(case), "--format", "json"], env=env,
                           capture_output=True, text=True, check=True, cwd=ROOT) for _ in range(2)]
    assert entries(tmp_path / "c")
    off = subprocess.run([str(SCRIPT), "assess", str(case), "--format", "json"],
                         env={**env, "IMBALANCE_NO_CACHE": "1"}, capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert json.loads(runs[0].stdout) == json.loads(runs[1].stdout) == json.loads(off.stdout)


def test_a_layer_error_is_reported_the_same_from_the_cache(cache_dir: Path, tmp_path: Path) -> None:
    layer = tmp_path / "layer"
    layer.mkdir()
    (layer / "bad.yaml").write_text(RULE.replace("runner", "runnr"), encoding="utf-8")
    case = ROOT / "examples" / "cases" / "runner_it_band.yaml"
    results = [CliRunner().invoke(main, ["--kb", str(layer), "assess", str(case)]) for _ in range(2)]
    assert [r.exit_code for r in results] == [2, 2]
    assert results[0].output == results[1].output
    assert re.search(r"bad\.yaml:\d+", results[0].output) and "runnr" in results[0].output


def test_the_stamp_covers_every_module_that_reads_kb_files() -> None:
    """A changed schema makes a different KB from the same files: every module under engine/kb
    (the schema package included), engine/errors.py (Location, Problem) and engine/record.py
    (the base the model's classes are built on) are in the stamp."""
    from engine.kb import cache

    root = Path(cache.__file__).resolve().parent
    assert set(cache._CODE_FILES) == {*root.rglob("*.py"), root.parent / "errors.py",
                                      root.parent / "record.py"}
    assert any(path.parent.name == "schema" for path in cache._CODE_FILES)


@pytest.mark.parametrize(("xdg", "home"), [
    (None, "/home/ann"), ("/srv/cache", "/home/ann"), ("/srv/cache/", "/home/ann/"), ("", "/home/ann"),
    ("relative/cache", "/home/ann"), (None, "relative-home"), ("/srv/cache", None), (None, None),
])
def test_the_default_cache_folder_is_platformdirs_one(monkeypatch: pytest.MonkeyPatch,
                                                     xdg: str | None, home: str | None) -> None:
    """The folder said directly on Linux (no platformdirs import at start) is the one
    platformdirs gives, whatever XDG_CACHE_HOME and HOME hold."""
    from platformdirs import user_cache_dir

    for name, value in (("XDG_CACHE_HOME", xdg), ("HOME", home)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    monkeypatch.delenv("IMBALANCE_CACHE_DIR", raising=False)
    monkeypatch.delenv("IMBALANCE_NO_CACHE", raising=False)
    assert cache.cache_dir() == Path(user_cache_dir("imbalance", appauthor=False))
