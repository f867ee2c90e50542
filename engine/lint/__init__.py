"""`imbalance kb lint`: fast, precise feedback for the people who write the rules.

Each check is a small `Check` class with a fixed id, description and severity, registered
automatically from `engine/lint/checks/`; an author switches one off for an entry with
`lint: {check_id: reason}`. `lint(load_layers(...))` returns a `LintReport`.
"""

from __future__ import annotations

from engine.lint.base import CHECKS, Check, Issue, LintContext, Subject
from engine.lint.runner import LintReport, SwitchedOff, lint

__all__ = ["CHECKS", "Check", "Issue", "LintContext", "LintReport", "Subject", "SwitchedOff", "lint"]
