"""What a lint check is: a small named unit with a fixed id, description and severity.

Every subclass of `Check` that sets `id` registers itself in `CHECKS` (as pySigma's validators
do), so adding a check is adding a class in `engine/lint/checks/`. A check yields `Issue`s about
one subject (a rule, finding, conclusion, muscle, recommendation or source); the author can switch
a check off for that subject with `lint: {check_id: reason}` on its entry. Checks with
`stage = "load"` are judged while loading (their problems stop the KB from loading, so they
cannot be switched off); they are registered here so every id an author can see is documented.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

from engine.authoring.rule_analysis import Literal, Space, can_hold, ceilings
from engine.errors import Location, Problem
from engine.kb import model as m
from engine.kb.loader import Loaded

SEVERITIES = ("error", "warning")
REVIEW_DAYS = 730  # two years, the longest interval NICE allows a guideline between checks


@dataclass(frozen=True)
class Subject:
    """The entry an issue is about; its `lint:` mapping decides whether the issue is shown."""

    kind: str
    id: str

    def __str__(self) -> str:
        return f"{self.kind} '{self.id}'"


@dataclass(frozen=True)
class Issue:
    """One problem found by a lint check, with the entry it belongs to."""

    problem: Problem
    subject: Subject | None

    @property
    def check(self) -> str:
        return self.problem.code


CHECKS: dict[str, type[Check]] = {}


class Check:
    """Base of every check. Subclasses set `id`, `description`, `severity` and `run`."""

    id: ClassVar[str]
    description: ClassVar[str]
    severity: ClassVar[str]
    stage: ClassVar[str] = "lint"  # "load": judged by the loader, cannot be switched off
    after_others: ClassVar[bool] = False  # runs on the other checks' issues (suppressions)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "id" not in cls.__dict__:
            return
        if cls.id in CHECKS:
            raise RuntimeError(f"lint check id '{cls.id}' is registered twice")
        if cls.severity not in SEVERITIES:
            raise RuntimeError(f"lint check '{cls.id}' has unknown severity '{cls.severity}'")
        CHECKS[cls.id] = cls

    @classmethod
    def switchable(cls) -> bool:
        return cls.stage == "lint" and not cls.after_others

    def run(self, ctx: LintContext) -> Iterator[Issue]:
        return iter(())

    def issue(self, subject: Subject | None, where: Location, message: str, suggestion: str = "",
              key: str = "") -> Issue:
        return Issue(Problem(where, message, suggestion, self.severity, self.id, key), subject)


@dataclass
class LintContext:
    """The loaded KB plus analyses several checks share, each computed once, on demand."""

    loaded: Loaded
    raised: list[Issue] = field(default_factory=list)  # filled in before after_others checks run
    review_days: int = REVIEW_DAYS  # a rule reviewed longer ago than this is overdue
    today: dt.date = field(default_factory=dt.date.today)

    @property
    def kb(self) -> m.KnowledgeBase:
        return self.loaded.kb

    @cached_property
    def ceiling(self) -> dict[str, float]:
        """The highest certainty each conclusion can reach (0: never reached)."""
        return ceilings(self.kb)

    @cached_property
    def space(self) -> Space:
        return Space(self.kb, self.ceiling)

    @cached_property
    def firing(self) -> dict[str, tuple[bool, tuple[Literal, ...]]]:
        """rule id -> (can it ever fire, the clash that stops it)."""
        return {rule.id: can_hold(rule.when, self.space) for rule in self.kb.rules}

    def can_fire(self, rule: m.Rule) -> bool:
        return self.firing[rule.id][0]

    @cached_property
    def all_rules(self) -> list[m.Rule]:
        """Active rules and the definitions of rules a layer switched off: what the authors
        wrote, for judging whether an entry is used at all."""
        return [*self.kb.rules, *self.loaded.disabled_rules.values()]

    def entry(self, subject: Subject) -> Any:
        """The model object a subject names, or None."""
        kb = self.kb
        if subject.kind == "rule":
            return kb.rule(subject.id)
        tables: dict[str, Mapping[str, Any]] = {
            "finding": kb.findings, "conclusion": kb.conclusions, "muscle": kb.muscles,
            "recommendation": kb.recommendations, "source": kb.sources}
        return tables[subject.kind].get(subject.id)

    def subjects(self) -> Iterator[tuple[Subject, Any]]:
        """Every entry that can carry a `lint:` mapping."""
        kb = self.kb
        for rule in kb.rules:
            yield Subject("rule", rule.id), rule
        for kind, table in (("finding", kb.findings), ("conclusion", kb.conclusions),
                            ("muscle", kb.muscles), ("recommendation", kb.recommendations),
                            ("source", kb.sources)):
            for ident, item in table.items():
                yield Subject(kind, ident), item


def kind_word(kind: str) -> str:
    """'red_flag' -> 'red flag'."""
    return kind.replace("_", " ")
