"""`assess --format markdown`: the HTML report's content as markdown, from the same document
and, like the HTML, laid out by a Jinja template (`templates/report.md.j2`).

Markdown is often pasted into notes that are later shown as HTML, so every piece of free text
(patient fields, KB wording) is escaped: `<script>` stays text and `*`, `_` or `|` cannot change
the formatting or break a table. The markdown environment escapes every `{{ value }}` itself
(its `finalize`), so a template cannot forget to; the few filters that build markup (`code`,
`refs`, `rule`) return `Safe` text, which is left alone.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment

from engine.errors import one_line
from engine.inference.assessment import Assessment
from engine.inference.reasoner import Reasoner, reasoner_for
from reports.document import ReportDocument, build_document, report_time
from reports.reasoning import RuleRef
from reports.templating import make_environment


class Safe(str):
    """Markdown we built ourselves from escaped parts: not escaped again."""

_ESCAPE = {"\\": "\\\\", "`": "\\`", "*": "\\*", "_": "\\_", "[": "\\[", "]": "\\]", "<": "&lt;",
           ">": "&gt;", "&": "&amp;", "|": "\\|", "#": "\\#"}


def md(text: object) -> str:
    """Free text made inert in markdown (and in the HTML a markdown viewer makes of it)."""
    return "".join(_ESCAPE.get(ch, ch) for ch in one_line(" ".join(str(text).split())))


def code(text: str) -> Safe:
    return Safe(f"`{text.replace('`', '')}`")


def _refs(numbers: tuple[int, ...]) -> Safe:
    return Safe(f" [{', '.join(str(n) for n in numbers)}]" if numbers else "")


def _rule(rule: RuleRef) -> Safe:
    return Safe(f"{md(rule.title)} ({code(rule.id)}){_refs(rule.refs)}")


def _escape(value: Any) -> Any:
    """Jinja's `finalize` for markdown: every printed value is escaped unless we built it."""
    if isinstance(value, Safe):
        return value
    if not isinstance(value, str):
        return value
    lead = " " if value[:1].isspace() else ""  # ' · ' and ' (red flag)' keep their spacing
    trail = " " if value[-1:].isspace() else ""
    return f"{lead}{md(value)}{trail}" if value.strip() else lead


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _bar(percent: int, width: int = 10) -> str:
    filled = round(percent / 100 * width)
    return "▰" * filled + "▱" * (width - filled)


@lru_cache(maxsize=1)
def markdown_environment() -> Environment:
    """The markdown twin of `reports.templating.environment`: same loader and StrictUndefined,
    no HTML autoescape (markdown has its own escaping, applied to every value)."""
    env = make_environment(autoescape=False, finalize=_escape)
    env.filters.update(code=code, refs=_refs, rule=_rule, bar=_bar, plural=_plural,
                       signed=lambda value: f"{value:+.2f}")
    return env


def render_markdown(result: Assessment, reasoner: Reasoner | None = None,
                    generated: str | None = None) -> str:
    """The assessment as markdown (timestamp from SOURCE_DATE_EPOCH or now)."""
    reasoner = reasoner or reasoner_for(result.kb)
    return render_document(build_document(result, reasoner, generated or report_time()))


def render_document(doc: ReportDocument) -> str:
    return markdown_environment().get_template("report.md.j2").render(doc=doc)
