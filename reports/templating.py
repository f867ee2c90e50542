"""The one Jinja2 environment for every template: autoescape on, StrictUndefined.

Templates cannot run code and cannot print a missing value as an empty string: a typo in a
template fails loudly in the tests instead of silently dropping a line from a patient's report.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _number(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}"


def _px(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters["num"] = _number
    env.filters["px"] = _px
    return env
