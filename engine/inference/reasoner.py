"""Assess cases with an engine compiled once per process and reset for every case."""

from __future__ import annotations

from typing import Any

from engine.cases.case import Case
from engine.inference.assessment import Assessment, build_assessment
from engine.inference.compiler import InferenceEngine, build_engine, compile_kb
from engine.kb import model as m


class Reasoner:
    """Holds one compiled engine for a KB; `assess` is cheap to call many times."""

    def __init__(self, kb: m.KnowledgeBase, *, short_lived: bool = False) -> None:
        """`short_lived`: an engine used for a few cases and dropped (a mutant in `kb test
        --mutate`); it is not frozen out of the collector's view, so its memory comes back."""
        self.kb = kb
        self._engine: InferenceEngine = compile_kb(kb)() if short_lived else build_engine(kb)

    def run(self, facts: dict[str, Any]) -> InferenceEngine:
        """Forward-chain from the given facts; the returned engine holds the trace until reused."""
        engine = self._engine
        engine.begin(facts)
        engine.run()
        return engine

    def assess(self, case: Case) -> Assessment:
        engine = self.run(case.facts)
        return build_assessment(case, self.kb, list(engine.events), dict(engine.certainty),
                                dict(engine.urgency))


_CACHE: dict[int, Reasoner] = {}


def reasoner_for(kb: m.KnowledgeBase) -> Reasoner:
    """The process-wide reasoner for this KB object (compile once, reuse with reset)."""
    found = _CACHE.get(id(kb))
    if found is None or found.kb is not kb:
        found = Reasoner(kb)
        _CACHE[id(kb)] = found
    return found
