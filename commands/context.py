"""Shared state for one CLI invocation: the KB folders, loaded and compiled at most once.

The folders are the project config's default layers (`imbalance.toml` or `IMBALANCE_KB`,
`engine.kb.config`) and then each `--kb`; the config is read on first use, so `--help` works
even beside a broken `imbalance.toml`.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import click

from engine.kb.config import ProjectConfig, load_config, merge_layers
from engine.kb.model import KnowledgeBase

if TYPE_CHECKING:  # experta is imported only by the commands that run the engine
    from engine.inference.reasoner import Reasoner


class AppContext:
    """The folders asked for and the KB loaded from them (a plain class: it is made once per
    command, and a dataclass would cost the start of every command its code generation)."""

    def __init__(self, explicit_dirs: tuple[str, ...] = (), use_config: bool = True) -> None:
        self.explicit_dirs = explicit_dirs
        self.use_config = use_config
        self._kb: KnowledgeBase | None = None

    @cached_property
    def config(self) -> ProjectConfig:
        return load_config() if self.use_config else ProjectConfig()

    @cached_property
    def kb_dirs(self) -> tuple[str, ...]:
        """Every layer on top of the shipped kb/: the config's, then --kb's."""
        return merge_layers(self.config.layers, self.explicit_dirs)

    def kb(self) -> KnowledgeBase:
        if self._kb is None:
            from engine.kb.loader import load_kb

            self._kb = load_kb(self.kb_dirs)
        return self._kb

    def reasoner(self) -> Reasoner:
        from engine.inference.reasoner import reasoner_for

        return reasoner_for(self.kb())


def app(ctx: click.Context) -> AppContext:
    obj = ctx.find_object(AppContext)
    return obj if obj is not None else AppContext()
