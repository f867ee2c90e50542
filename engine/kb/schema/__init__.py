"""The one schema for knowledge-base files: raw YAML sections in, model objects out.

Each function checks one kind of entry, records every problem with its file and line, and
keeps going, so an author sees all mistakes in a file at once. Cross-references between files
(unknown finding ids and the like) are checked later, in `engine.kb.references`.

One package, four rooms: `reader` (the accessors every entry uses), `entries` (the catalogue:
findings, conclusions, muscles, recommendations, sources, checklists), `rules` (rules and their
conditions) and `casetests` (case tests, expectations, `disable:`). Everything is importable
from here, so callers say `schema.read_rule` whatever room it lives in.
"""

from __future__ import annotations

from engine.kb.schema.casetests import (  # noqa: F401
    EXPECT_KEYS,
    TEST_KEYS,
    read_case_test,
    read_disable,
    read_expectation,
)
from engine.kb.schema.entries import (  # noqa: F401
    CHECKLIST_KEYS,
    CONCLUSION_KEYS,
    DISABLE_KEYS,
    FINDING_KEYS,
    MUSCLE_KEYS,
    OTHER_CONCLUSION_KEYS,
    RECOMMENDATION_KEYS,
    RED_FLAG_REQUIRED,
    REVIEW_KEYS,
    SOURCE_KEYS,
    read_checklist,
    read_conclusion,
    read_finding,
    read_muscle,
    read_recommendation,
    read_review,
    read_source,
)
from engine.kb.schema.reader import (  # noqa: F401
    ID_CHARS,
    META_KEYS,
    OPERATOR_ALIASES,
    RESERVED,
    SECTIONS,
    Reader,
)
from engine.kb.schema.rules import (  # noqa: F401
    ACCURACY_FIGURES,
    ACCURACY_KEYS,
    RULE_KEYS,
    THEN_KEYS,
    read_accuracy,
    read_condition,
    read_rule,
)
