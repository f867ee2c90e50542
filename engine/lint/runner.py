"""Run every registered check over a loaded KB and apply the authors' `lint:` switches.

Problems that stop the KB from loading are reported alone: checks over a half-loaded KB would
bury the real mistake under follow-on warnings (a rule that failed to load makes its findings
look unused).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from engine.errors import Problem
from engine.kb.loader import Loaded
from engine.lint import checks as _checks  # noqa: F401  (registers every check)
from engine.lint.base import CHECKS, Issue, LintContext, Subject


@dataclass(frozen=True)
class SwitchedOff:
    """An issue an author silenced on purpose, with the stated reason."""

    issue: Issue
    reason: str


@dataclass(frozen=True)
class LintReport:
    problems: tuple[Problem, ...]
    switched_off: tuple[SwitchedOff, ...]
    loaded: bool
    checks_run: tuple[str, ...]
    files: int
    counts: tuple[tuple[str, int], ...]

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for p in self.problems if p.severity != "error")

    @property
    def clean(self) -> bool:
        return not self.problems

    @property
    def exit_code(self) -> int:
        return 0 if self.clean else 1

    def summary(self) -> str:
        if not self.loaded:
            return (f"kb lint: {_plural(self.errors, 'error')}; the knowledge base does not load, "
                    "so the other checks run once these are fixed")
        size = ", ".join(_plural(n, word) for word, n in self.counts)
        off = (f"; {_plural(len(self.switched_off), 'issue')} switched off with a reason"
               if self.switched_off else "")
        if self.clean:
            return f"kb lint: no problems in {_plural(self.files, 'file')} ({size}){off}"
        found = ", ".join(part for part in (_plural(self.errors, "error") if self.errors else "",
                                             _plural(self.warnings, "warning") if self.warnings else "")
                          if part)
        return f"kb lint: {found} in {_plural(self.files, 'file')} ({size}){off}"

    def lines(self, show_switched_off: bool = False) -> list[str]:
        """`path:line: severity: message (suggestion) [check]`, then the summary; optionally
        the issues switched off on purpose, for review, each with its stated reason."""
        out = [f"{p.render(with_severity=True)} [{p.code}]" for p in self.problems]
        if show_switched_off:
            out += [f"{s.issue.problem.location}: switched off: {s.issue.problem.message} "
                    f"[{s.issue.check}] because: {s.reason}" for s in self.switched_off]
        return [*out, self.summary()]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.clean,
            "loaded": self.loaded,
            "errors": self.errors,
            "warnings": self.warnings,
            "problems": [_problem_dict(p) for p in self.problems],
            "switched_off": [{**_problem_dict(s.issue.problem), "subject": str(s.issue.subject),
                              "reason": s.reason} for s in self.switched_off],
            "checks_run": list(self.checks_run),
            "files": self.files,
            "summary": self.summary(),
        }


def _problem_dict(p: Problem) -> dict[str, Any]:
    return {"path": p.location.path, "line": p.location.line, "severity": p.severity,
            "check": p.code, "message": p.message, "suggestion": p.suggestion, "key": p.key}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _order(problem: Problem) -> tuple[str, int, str, str]:
    return problem.location.path, problem.location.line, problem.code, problem.message


def lint(loaded: Loaded, only: Iterable[str] | None = None, review_days: int | None = None,
         today: dt.date | None = None) -> LintReport:
    """Every problem in the loaded KB; `only` limits the lint-stage checks run (for tests);
    `review_days` is how old a rule's review may be (the project config can set it)."""
    kb = loaded.kb
    counts = (("rule", len(kb.rules)), ("finding", len(kb.findings)),
              ("conclusion", len(kb.conclusions)), ("test", len(kb.tests)))
    if loaded.errors:
        return LintReport(tuple(sorted(loaded.problems, key=_order)), (), False, (),
                          len(loaded.files), counts)
    wanted = set(CHECKS) if only is None else set(only)
    ctx = LintContext(loaded)
    if review_days is not None:
        ctx.review_days = review_days
    if today is not None:
        ctx.today = today
    selected = [cls for cid, cls in CHECKS.items() if cls.stage == "lint" and cid in wanted]
    issues: list[Issue] = []
    for cls in (c for c in selected if not c.after_others):
        issues.extend(cls().run(ctx))
    shown, silenced = _apply_switches(ctx, issues)
    ctx.raised = issues
    for cls in (c for c in selected if c.after_others):
        shown.extend(cls().run(ctx))
    problems = [*loaded.problems, *(issue.problem for issue in shown)]
    return LintReport(tuple(sorted(problems, key=_order)), tuple(silenced), True,
                      tuple(cls.id for cls in selected), len(loaded.files), counts)


def _apply_switches(ctx: LintContext, issues: list[Issue]) -> tuple[list[Issue], list[SwitchedOff]]:
    shown: list[Issue] = []
    silenced: list[SwitchedOff] = []
    for issue in issues:
        reason = _reason(ctx, issue.subject, issue.check)
        if reason is None:
            shown.append(issue)
        else:
            silenced.append(SwitchedOff(issue, reason))
    return shown, silenced


def _reason(ctx: LintContext, subject: Subject | None, check: str) -> str | None:
    if subject is None:
        return None
    entry = ctx.entry(subject)
    return dict(getattr(entry, "lint_off", ())).get(check) if entry is not None else None
