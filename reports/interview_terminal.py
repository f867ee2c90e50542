"""The terminal side of the interview: one line in, wrapped text out, and how the user runs us.

Off a terminal (a pipe, a script, the tests) the console echoes each line it reads, so a
transcript reads as a conversation. `reports/interview_console.py` holds the conversation
itself; this module knows nothing of questions or answers.
"""

from __future__ import annotations

import contextlib
import os
import sys
import textwrap
from collections.abc import Callable
from typing import Any

import click

WIDTH = 88
YES = {"y", "yes"}
NO = {"n", "no"}


class Console:
    """Reads one line at a time; off a terminal it echoes what it read, so a piped transcript
    reads like a conversation (`> yes`), never prompts glued together."""

    def __init__(self) -> None:
        self.interactive = sys.stdin.isatty()
        if self.interactive:
            with contextlib.suppress(ImportError):  # line editing for input(), where available
                import readline  # noqa: F401

    def say(self, text: str = "", wrap: bool = True, **style: Any) -> None:
        """Print, wrapped to the width of the assessment text, keeping the line's indent.
        Lines holding a command or a path are not wrapped, so they can be copied whole."""
        if wrap and len(text) > WIDTH:
            indent = text[:len(text) - len(text.lstrip())]
            text = "\n".join(textwrap.wrap(text, WIDTH, initial_indent="", subsequent_indent=indent
                                            + "  ", break_on_hyphens=False))
        click.secho(text, **style)

    @property
    def confirm(self) -> Callable[[str], bool] | None:
        """A y/N question on the terminal; None off a terminal, where nobody can answer."""
        if not self.interactive:
            return None

        def ask_yes(question: str) -> bool:
            answer = self.ask(question)
            return answer is not None and answer.strip().lower() in YES

        return ask_yes

    def ask(self, prompt: str = "> ") -> str | None:
        """A line, or None at end of input."""
        if self.interactive:
            try:
                return input(prompt)
            except EOFError:
                click.echo()
                return None
        click.echo(prompt, nl=False)
        line = sys.stdin.readline()
        if not line:
            click.echo("(end of input)")
            return None
        line = line.rstrip("\r\n")
        click.echo(line)
        return line


def command_name() -> str:
    """How the user runs this tool: `uv run` sets UV_RUN_RECURSION_DEPTH (and UV) for the
    command it starts, so a hint then says `uv run imbalance`, which works where they are."""
    return "uv run imbalance" if os.environ.get("UV_RUN_RECURSION_DEPTH") else "imbalance"


def wrap_lines(text: str, indent: str = "    ") -> list[str]:
    """`text` wrapped to the console's width, every line indented."""
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent) or [indent]


__all__ = ["NO", "WIDTH", "YES", "Console", "command_name", "wrap_lines"]
