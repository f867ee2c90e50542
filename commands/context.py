"""Shared state for one CLI invocation: the KB folders, loaded and compiled at most once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import click

from engine.kb.model import KnowledgeBase

if TYPE_CHECKING:  # experta is imported only by the commands that run the engine
    from engine.inference.reasoner import Reasoner


@dataclass
class AppContext:
    kb_dirs: tuple[str, ...] = ()
    _kb: KnowledgeBase | None = field(default=None, repr=False)

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
