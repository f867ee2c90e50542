"""The one Jinja2 environment for every template: autoescape on, StrictUndefined.

Templates cannot run code and cannot print a missing value as an empty string: a typo in a
template fails loudly in the tests instead of silently dropping a line from a patient's report.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import suppress
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined
from jinja2.bccache import Bucket
from markupsafe import Markup

from engine.wording import NO_PLAN

TEMPLATES = Path(__file__).resolve().parent / "templates"


# Bidi overrides/embeddings/isolates and the invisible marks: in a patient id they can make
# "P-0042" display as another id. Shown as visible code points instead of being obeyed.
_BIDI = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff"
                   "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def visible_controls(value: Any) -> Any:
    """Every `{{ value }}` passes here (Jinja's `finalize`): plain text has its bidi and control
    characters replaced by a visible `[U+202E]`; trusted markup (our own SVG) is left alone."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return _BIDI.sub(lambda m: f"[U+{ord(m.group()):04X}]", value)
    return value


def _number(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}"


def _px(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def make_environment(autoescape: bool, finalize: Callable[[Any], Any]) -> Environment:
    """The settings every template shares (loader, StrictUndefined, whitespace control, the
    `num` filter); `finalize` is how a format makes each printed value safe."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=autoescape,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True, finalize=finalize,
                      bytecode_cache=_bytecode_cache())
    env.filters["num"] = _number
    env.globals["NO_PLAN"] = NO_PLAN
    return env


class _QuietBytecodeCache(FileSystemBytecodeCache):
    """Jinja's own cache of compiled templates, in the tool's cache folder, that never fails a
    command: a folder it cannot write to only costs the next start a compile."""

    def dump_bytecode(self, bucket: Bucket) -> None:
        with suppress(OSError):
            super().dump_bytecode(bucket)


def _bytecode_cache() -> FileSystemBytecodeCache | None:
    """Compiling the report's templates is about a third of a cold `imbalance report`, so the
    compiled code is kept beside the KB cache (`engine.kb.cache.cache_dir`: off with
    IMBALANCE_NO_CACHE, moved with IMBALANCE_CACHE_DIR). Jinja keys each entry by the template's
    name and checks it against a checksum of the source, its own format version and the Python
    version, so an edited template or a new Jinja is compiled afresh; a damaged entry is a miss."""
    from engine.kb.cache import cache_dir

    folder = cache_dir()
    if folder is None:
        return None
    folder = folder / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return _QuietBytecodeCache(str(folder))


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = make_environment(autoescape=True, finalize=visible_controls)
    env.filters["px"] = _px
    return env
