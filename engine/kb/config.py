"""The project config: which knowledge-base layers to use without typing `--kb` every time.

A clinic keeps its rules in a folder beside its work; `imbalance.toml`, found in the working
directory or the nearest folder above it (as git finds `.git` and ruff `pyproject.toml`), names
them once:

    [kb]
    layers = ["clinic_rules"]        # folders, relative to this file, in order

    [lint]
    review_interval_days = 365       # a rule reviewed longer ago is overdue (kb lint)

`IMBALANCE_KB` (folders separated by ':' on Linux and macOS, ';' on Windows) replaces the
file's layers, for a CI job or a shell session; set it empty to use none. `--kb` on the command
line adds layers on top of either; `--no-config` ignores both. A folder named twice is used once.

TOML is read with the standard library's `tomllib` (the `tomli` backport on Python 3.10).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.errors import InputError, Location
from engine.kb.suggest import did_you_mean
from engine.record import Record

FILE_NAME = "imbalance.toml"
ENV = "IMBALANCE_KB"
SECTIONS: dict[str, tuple[str, ...]] = {"kb": ("layers",), "lint": ("review_interval_days",)}


class ProjectConfig(Record):
    """The default layers and settings, and where they came from (for messages)."""

    layers: tuple[str, ...] = ()
    review_days: int | None = None
    origin: str = ""  # the file's path, 'IMBALANCE_KB', or '' when there is none


def find_config(start: Path) -> Path | None:
    """`imbalance.toml` in `start` or the nearest folder above it."""
    for folder in (start, *start.parents):
        candidate = folder / FILE_NAME
        if candidate.is_file():
            return candidate
    return None


def load_config(cwd: Path | None = None, environ: Mapping[str, str] | None = None) -> ProjectConfig:
    environ = os.environ if environ is None else environ
    start = Path.cwd() if cwd is None else cwd
    path = find_config(start)
    config = read_config(path) if path is not None else ProjectConfig()
    if ENV in environ:
        layers = tuple(p for p in environ[ENV].split(os.pathsep) if p.strip())
        for layer in layers:
            if not Path(layer).is_dir():
                raise InputError(f"{ENV} names '{layer}', which is not a folder", key=ENV,
                                 suggestion="set it to knowledge-base folders separated by "
                                 f"'{os.pathsep}', or unset it")
        return ProjectConfig(layers, config.review_days, ENV)
    return config


def read_config(path: Path) -> ProjectConfig:
    """Read and check one `imbalance.toml`; every mistake names the file, line and key."""
    shown = _shown(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {shown}: {getattr(exc, 'strerror', None) or exc}") from None
    # imported only when there is a file to read: most starts have none, and tomllib costs ~2 ms
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+)", str(exc))
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise InputError(f"malformed TOML: {reason}",
                         Location(shown, int(match.group(1)) if match else 0),
                         suggestion="write 'layers = [\"folder\"]' under '[kb]'") from None
    for section, body in data.items():
        where = Location(shown, _line(text, f"[{section}]"))
        if section not in SECTIONS:
            raise InputError(f"unknown section [{section}]", where, section,
                             did_you_mean(section, SECTIONS) or f"sections: {', '.join(SECTIONS)}")
        if not isinstance(body, dict):
            raise InputError(f"'{section}' must be a section [{section}]", where, section)
        for key in body:
            if key not in SECTIONS[section]:
                raise InputError(f"unknown key '{key}' in [{section}]",
                                 Location(shown, _line(text, key)), key,
                                 did_you_mean(key, SECTIONS[section])
                                 or f"keys: {', '.join(SECTIONS[section])}")
    layers = _layers(data.get("kb", {}).get("layers", []), path, text)
    review = data.get("lint", {}).get("review_interval_days")
    if review is not None and (isinstance(review, bool) or not isinstance(review, int)
                               or review < 1):
        raise InputError(f"review_interval_days is {review!r}; it must be a whole number of days",
                         Location(shown, _line(text, "review_interval_days")),
                         "review_interval_days", "for example 'review_interval_days = 365'")
    return ProjectConfig(layers, review, shown)


def _layers(raw: Any, path: Path, text: str) -> tuple[str, ...]:
    shown = _shown(path)
    where = Location(shown, _line(text, "layers"))
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise InputError("'layers' must be a list of folder names", where, "layers",
                         "for example 'layers = [\"clinic_rules\"]'")
    out = []
    for name in raw:
        folder = (path.parent / name)
        if not folder.is_dir():
            nearby = [p.name for p in path.parent.iterdir() if p.is_dir()] if path.parent.is_dir() \
                else []
            raise InputError(f"layer '{name}' is not a folder next to {shown}", where, "layers",
                             did_you_mean(Path(name).name, nearby) or
                             "folders are relative to the imbalance.toml that names them")
        out.append(_shown(folder))
    return tuple(out)


def _line(text: str, needle: str) -> int:
    """The first line that starts with `needle` (a key or a section header), else 0."""
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith(needle):
            return number
    return 0


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def merge_layers(defaults: tuple[str, ...], explicit: tuple[str, ...]) -> tuple[str, ...]:
    """The config's layers, then `--kb` ones; each folder once (by its real path)."""
    out: list[str] = []
    seen: set[Path] = set()
    for folder in (*defaults, *explicit):
        real = Path(folder).resolve()
        if real in seen:
            continue
        seen.add(real)
        out.append(folder)
    return tuple(out)
