"""The one schema for knowledge-base files: raw YAML sections in, model objects out.

Each function checks one kind of entry, records every problem with its file and line, and
keeps going, so an author sees all mistakes in a file at once. Cross-references between files
(unknown finding ids and the like) are checked later, in `engine.kb.references`.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from engine.errors import Location, Problem
from engine.kb import model as m
from engine.kb.limits import MAX_ALTERNATIVES, MAX_CLUSTER, alternatives
from engine.kb.suggest import did_you_mean
from engine.kb.yamlsource import LineDict, LineList, line_of, own_line

SECTIONS = (
    "knowledge_base", "findings", "red_flags", "conditions", "causes", "muscles",
    "recommendations", "sources", "rules", "tests", "disable", "checklists",
)
RESERVED = ("all", "any", "not", "at_least", "of", "concluded", "min_certainty")
META_KEYS = ("name", "version", "description")  # the `knowledge_base:` header of a folder
# What authors write by habit, mapped to the operator they mean (for did-you-mean only).
OPERATOR_ALIASES = {
    ">": "gt", ">=": "ge", "<": "lt", "<=": "le", "=": "eq", "==": "eq", "!=": "ne",
    "greater_than": "gt", "more_than": "gt", "above": "gt", "over": "gt", "less_than": "lt",
    "below": "lt", "under": "lt", "at_least": "ge", "min": "ge", "minimum": "ge", "at_most": "le",
    "max": "le", "maximum": "le", "equals": "eq", "is": "eq", "not": "ne", "not_equal": "ne",
    "one_of": "in", "any_of": "in",
}
ID_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


class Reader:
    """Problem-collecting accessors for one file."""

    def __init__(self, path: str, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems

    def at(self, container: Any, key: Any = None) -> Location:
        line = line_of(container, key) if key is not None else own_line(container)
        return Location(self.path, line)

    def error(self, where: Location, message: str, suggestion: str = "", key: str = "",
              code: str = "schema") -> None:
        self.problems.append(Problem(where, message, suggestion, "error", code, key))

    def mapping(self, value: Any, where: Location, what: str) -> LineDict | None:
        if isinstance(value, dict):
            return value  # type: ignore[return-value]
        self.error(where, f"{what} must be a mapping of keys to values, not {_kind(value)}")
        return None

    def sequence(self, value: Any, where: Location, what: str) -> LineList | None:
        if isinstance(value, list):
            return value  # type: ignore[return-value]
        self.error(where, f"{what} must be a list (items starting with '- '), not {_kind(value)}")
        return None

    def keys(self, entry: LineDict, allowed: tuple[str, ...], required: tuple[str, ...],
             what: str) -> None:
        for key in entry:
            if key not in allowed:
                self.error(self.at(entry, key), f"unknown key '{key}' in {what}",
                           did_you_mean(key, allowed) or f"allowed: {', '.join(allowed)}", key)
        for key in required:
            if key not in entry:
                self.error(self.at(entry), f"{what} is missing '{key}'", key=key)

    def text(self, entry: LineDict, key: str, what: str, default: str = "") -> str:
        if key not in entry:
            return default
        value = entry[key]
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            text = str(value).strip()
            if text:
                return text
        self.error(self.at(entry, key), f"'{key}' of {what} must be non-empty text", key=key)
        return default

    def ident(self, entry: LineDict, what: str) -> str:
        raw = entry.get("id")
        if raw is None:
            return ""
        if not isinstance(raw, str) or not raw or not set(raw) <= ID_CHARS or raw[0].isdigit():
            self.error(self.at(entry, "id"),
                       f"id {raw!r} of {what} must be lower_snake_case (a-z, 0-9, _)",
                       "for example 'lateral_knee_pain'", "id")
            return str(raw) if raw is not None else ""
        return raw

    def choice(self, entry: LineDict, key: str, options: tuple[str, ...], what: str,
               default: str = "") -> str:
        if key not in entry:
            return default
        value = entry[key]
        if isinstance(value, str) and value in options:
            return value
        self.error(self.at(entry, key), f"'{key}' of {what} is {value!r}; expected one of "
                   f"{', '.join(options)}", did_you_mean(str(value), options), key)
        return default

    def number(self, entry: dict[str, Any], key: str, what: str, low: float | None = None,
               high: float | None = None, code: str = "schema") -> float | None:
        if key not in entry:
            return None
        value = entry[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.error(self.at(entry, key), f"'{key}' of {what} must be a number, not {_kind(value)}",
                       key=key, code=code)
            return None
        if not math.isfinite(value):  # .nan slips through every comparison; .inf is no measure
            self.error(self.at(entry, key), f"'{key}' of {what} is {value}; it must be a finite "
                       "number", f"write a number between {_num(low)} and {_num(high)}", key, code)
            return None
        if (low is not None and value < low) or (high is not None and value > high):
            self.error(self.at(entry, key),
                       f"'{key}' of {what} is {value}; it must lie between {_num(low)} and "
                       f"{_num(high)}", key=key, code=code)
            return None
        return float(value)

    def certainty(self, entry: LineDict, key: str, what: str) -> float | None:
        """A certainty a rule gives its conclusion: a finite number in (0, 1]. Zero would conclude
        something with no support at all, and anything else breaks the combination (and JSON)."""
        value = self.number(entry, key, what, code="certainty_range")
        if value is not None and not 0.0 < value <= 1.0:
            self.error(self.at(entry, key), f"'{key}' of {what} is {_num(value)}; a certainty is "
                       "above 0 and at most 1", "for example 'certainty: 0.6'", key,
                       "certainty_range")
            return None
        return value

    def lint_off(self, entry: LineDict, what: str) -> tuple[tuple[str, str], ...]:
        """`lint: {check_id: reason}`: checks switched off for this entry, each with its reason.
        Whether the check ids exist is judged by lint, which owns the list of checks."""
        if "lint" not in entry:
            return ()
        spec = self.mapping(entry["lint"], self.at(entry, "lint"), f"'lint' of {what}")
        out: list[tuple[str, str]] = []
        for check, reason in (spec or {}).items():
            if not isinstance(reason, str) or not reason.strip():
                self.error(self.at(spec, check), f"switching off check '{check}' in {what} needs a "
                           "reason", f"write '{check}: why it does not apply here'", check)
            else:
                out.append((check, reason.strip()))
        return tuple(out)

    def names(self, entry: LineDict, key: str, what: str) -> tuple[str, ...]:
        if key not in entry:
            return ()
        value = entry[key]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error(self.at(entry, key), f"'{key}' of {what} must be a list of ids", key=key)
            return ()
        return tuple(value)


def _num(value: float | None) -> str:
    if value is None:
        return "?"
    return str(int(value)) if float(value).is_integer() else str(value)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no)"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


# --- entries ----------------------------------------------------------------------------

FINDING_KEYS = ("id", "label", "category", "type", "question", "unit", "range", "values", "help",
                "lint", "integer")


def read_finding(r: Reader, entry: LineDict) -> m.Finding | None:
    what = f"finding '{entry.get('id', '?')}'"
    r.keys(entry, FINDING_KEYS, ("id", "label", "category", "type", "question"), what)
    ident = r.ident(entry, what)
    ftype = r.choice(entry, "type", m.FINDING_TYPES, what, "boolean")
    low = high = None
    values: tuple[str, ...] = ()
    if ftype == "number":
        rng = entry.get("range")
        if (isinstance(rng, list) and len(rng) == 2
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in rng)
                and rng[0] < rng[1]):
            low, high = float(rng[0]), float(rng[1])
        else:
            r.error(r.at(entry, "range" if "range" in entry else None),
                    f"{what} is a number and needs 'range: [low, high]' with low < high",
                    "for example 'range: [0, 24]'", "range")
        if "unit" not in entry:
            r.error(r.at(entry), f"{what} is a number and needs a 'unit'", "for example 'unit: hours'",
                    "unit")
    elif "range" in entry or "unit" in entry:
        r.error(r.at(entry, "range" if "range" in entry else "unit"),
                f"{what} has a unit or range but is not of type number", key="range")
    integer = entry.get("integer", False)
    if not isinstance(integer, bool) or (integer and ftype != "number"):
        r.error(r.at(entry, "integer"), f"{what}: 'integer: true' is for findings of type number "
                "that count something", "write 'integer: true' on a number finding, or leave it out",
                "integer")
        integer = False
    if ftype == "enum":
        raw = entry.get("values")
        if isinstance(raw, list) and raw and all(isinstance(v, str) for v in raw):
            values = tuple(raw)
        else:
            r.error(r.at(entry, "values" if "values" in entry else None),
                    f"{what} is an enum and needs 'values: [...]' (a list of names)", key="values")
    if not ident:
        return None
    return m.Finding(
        id=ident, label=r.text(entry, "label", what, ident), category=r.choice(
            entry, "category", m.CATEGORIES, what, "symptom"),
        type=ftype, question=r.text(entry, "question", what, ""), location=r.at(entry),
        unit=r.text(entry, "unit", what, ""), minimum=low, maximum=high, values=values,
        help=r.text(entry, "help", what, ""), lint_off=r.lint_off(entry, what), integer=integer,
    )


CONCLUSION_KEYS = ("id", "label", "description", "urgency", "action", "lint")
OTHER_CONCLUSION_KEYS = ("id", "label", "description", "lint", "review", "plain", "sites")
RED_FLAG_REQUIRED = ("id", "label", "urgency")
REVIEW_KEYS = ("after_weeks", "why")
MUSCLE_KEYS = ("id", "label", "region", "lint")
RECOMMENDATION_KEYS = ("id", "kind", "text", "sources", "evidence", "lint", "phase", "subsumes",
                       "avoid", "sided", "plain")
SOURCE_KEYS = ("id", "citation", "level", "file", "url", "summary", "lint")
DISABLE_KEYS = ("rule", "checklist", "reason")


def read_conclusion(r: Reader, entry: LineDict, kind: str) -> m.Conclusion | None:
    what = f"{kind.replace('_', ' ')} '{entry.get('id', '?')}'"
    allowed = CONCLUSION_KEYS if kind == "red_flag" else OTHER_CONCLUSION_KEYS
    required = RED_FLAG_REQUIRED if kind == "red_flag" else ("id", "label")
    r.keys(entry, allowed, required, what)
    if kind == "red_flag" and "action" not in entry:
        r.error(r.at(entry), f"{what} is missing 'action': what to do now, in plain words",
                "for example 'action: Send the patient to the emergency department now.'",
                "action", code="missing_action")
    ident = r.ident(entry, what)
    urgency = r.choice(entry, "urgency", m.URGENCIES, what, "emergency") if kind == "red_flag" else ""
    actions: list[tuple[str, str]] = []
    raw = entry.get("action")
    if kind == "red_flag" and raw is not None:
        if isinstance(raw, str) and raw.strip():
            actions.append((urgency, raw.strip()))
        elif isinstance(raw, dict) and raw:
            for level, text in raw.items():
                if level not in m.URGENCIES:
                    r.error(r.at(raw, level), f"action level '{level}' of {what} is not an urgency",
                            did_you_mean(level, m.URGENCIES), level)
                elif not isinstance(text, str) or not text.strip():
                    r.error(r.at(raw, level), f"action '{level}' of {what} must be text", key=level)
                else:
                    actions.append((level, text.strip()))
        else:
            r.error(r.at(entry, "action"),
                    f"'action' of {what} must say what to do now, as text or per urgency", key="action",
                    code="missing_action")
    review = read_review(r, entry, what) if kind != "red_flag" else None
    if not ident:
        return None
    return m.Conclusion(ident, kind, r.text(entry, "label", what, ident),
                        r.text(entry, "description", what, ""), r.at(entry), urgency, tuple(actions),
                        r.lint_off(entry, what), review, r.text(entry, "plain", what, ""),
                        r.names(entry, "sites", what))


def read_review(r: Reader, entry: LineDict, what: str) -> m.Review | None:
    """`review: {after_weeks: 6, why: ...}`: when to see the patient again and what to re-test."""
    if "review" not in entry:
        return None
    raw = r.mapping(entry["review"], r.at(entry, "review"), f"'review' of {what}")
    if raw is None:
        return None
    r.keys(raw, REVIEW_KEYS, REVIEW_KEYS, f"review of {what}")
    weeks = r.number(raw, "after_weeks", f"review of {what}", 1, 104)
    why = r.text(raw, "why", f"review of {what}", "")
    return m.Review(weeks, why) if weeks is not None and why else None


def read_muscle(r: Reader, entry: LineDict) -> m.Muscle | None:
    what = f"muscle '{entry.get('id', '?')}'"
    r.keys(entry, MUSCLE_KEYS, ("id", "label"), what)
    ident = r.ident(entry, what)
    if not ident:
        return None
    return m.Muscle(ident, r.text(entry, "label", what, ident), r.at(entry),
                    r.text(entry, "region", what, ""), r.lint_off(entry, what))


def read_recommendation(r: Reader, entry: LineDict) -> m.Recommendation | None:
    """`kind` is required: the safety policy decides what a patient with a referral-level red
    flag is told from it, so an untyped item could slip an exercise past a referral."""
    what = f"recommendation '{entry.get('id', '?')}'"
    r.keys(entry, RECOMMENDATION_KEYS, ("id", "text"), what)
    if "kind" not in entry:
        r.error(r.at(entry), f"{what} is missing 'kind'", "say what it asks the patient to do: "
                f"'kind: exercise' (one of {', '.join(m.RECOMMENDATION_KINDS)})", "kind")
    ident = r.ident(entry, what)
    kind = r.choice(entry, "kind", m.RECOMMENDATION_KINDS, what, "exercise")
    if not ident:
        return None
    sided = entry.get("sided", False)
    if not isinstance(sided, bool):
        r.error(r.at(entry, "sided"), f"'sided' of {what} must be true or false", key="sided")
        sided = False
    return m.Recommendation(ident, r.text(entry, "text", what, ""), r.at(entry),
                            r.names(entry, "sources", what),
                            r.choice(entry, "evidence", m.EVIDENCE_LEVELS, what, ""),
                            r.lint_off(entry, what), r.choice(entry, "phase", m.PHASES, what, ""),
                            r.names(entry, "subsumes", what), r.text(entry, "avoid", what, ""),
                            sided, kind, r.text(entry, "plain", what, ""))


def read_source(r: Reader, entry: LineDict) -> m.Source | None:
    what = f"source '{entry.get('id', '?')}'"
    r.keys(entry, SOURCE_KEYS,
           ("id", "citation", "level"), what)
    ident = r.ident(entry, what)
    if not ident:
        return None
    return m.Source(ident, r.text(entry, "citation", what, ""),
                    r.choice(entry, "level", m.EVIDENCE_LEVELS, what, "low"), r.at(entry),
                    r.text(entry, "file", what, ""), r.text(entry, "url", what, ""),
                    r.lint_off(entry, what), r.text(entry, "summary", what, ""))


CHECKLIST_KEYS = ("id", "label", "question", "findings", "help", "first", "explicit_no", "lint",
                  "settle")


def read_checklist(r: Reader, entry: LineDict) -> m.Checklist | None:
    """Which findings exist and fit a tick is checked with the other references."""
    what = f"checklist '{entry.get('id', '?')}'"
    r.keys(entry, CHECKLIST_KEYS, ("id", "label", "question", "findings"), what)
    ident = r.ident(entry, what)
    members = r.names(entry, "findings", what)
    low, high = m.CHECKLIST_SIZE
    if "findings" in entry and members and not low <= len(members) <= high:
        r.error(r.at(entry, "findings"), f"{what} lists {len(members)} finding(s); a checklist "
                f"holds {low} to {high}", "ask a single finding as a plain question, and split a "
                "long list into checklists a clinician can read at a glance", "findings")
    for index, fid in enumerate(members):
        if fid in members[:index]:
            r.error(r.at(entry, "findings"), f"{what} lists '{fid}' twice", "list each finding once",
                    fid)
    settle = entry.get("settle", False)
    if not isinstance(settle, bool):
        r.error(r.at(entry, "settle"), f"{what}: 'settle' must be true or false",
                "write 'settle: true' to have a default interview settle its rules", "settle")
        settle = False
    if not ident:
        return None
    raw = entry.get("findings")
    places = tuple(Location(r.path, line_of(raw, index)) for index in range(len(members))) \
        if isinstance(raw, list) else ()
    first = entry.get("first", False)
    if not isinstance(first, bool):
        r.error(r.at(entry, "first"), f"'first' of {what} must be true or false", key="first")
        first = False
    explicit_no = r.names(entry, "explicit_no", what)
    for fid in explicit_no:
        if fid not in members:
            r.error(r.at(entry, "explicit_no"), f"'{fid}' in 'explicit_no' of {what} is not one of "
                    "its findings", did_you_mean(fid, members), "explicit_no")
    return m.Checklist(ident, r.text(entry, "label", what, ident), r.text(entry, "question", what, ""),
                       members, r.at(entry), r.text(entry, "help", what, ""), r.lint_off(entry, what),
                       places, first=first, explicit_no=explicit_no, settle=settle)


# --- rules and their conditions -------------------------------------------------------------

RULE_KEYS = ("id", "title", "band", "when", "then", "sources", "evidence", "lint", "status",
             "reviewed_by", "reviewed_on")
THEN_KEYS = ("red_flag", "condition", "cause", "certainty", "urgency", "because", "stretch",
             "strengthen", "recommend", "accuracy", "against")
# accuracy: {source: id, lr_positive: 12.8, ...}: the published figure behind a certainty.
ACCURACY_KEYS = ("source", "lr_positive", "lr_negative", "post_test_probability", "sensitivity",
                 "specificity", "note")
ACCURACY_FIGURES = {"lr_positive": (0.0, None), "lr_negative": (0.0, None),
                    "post_test_probability": (0.0, 1.0), "sensitivity": (0.0, 1.0),
                    "specificity": (0.0, 1.0)}


def read_rule(r: Reader, entry: LineDict, order: int) -> m.Rule | None:
    what = f"rule '{entry.get('id', '?')}'"
    # sources and evidence are judged by lint (no_source, no_evidence), so a clinic can switch
    # the check off for a local rule with a stated reason; the rest is needed to run at all.
    r.keys(entry, RULE_KEYS, ("id", "title", "band", "when", "then"), what)
    ident = r.ident(entry, what)
    band = r.choice(entry, "band", m.BANDS, what, "condition")
    when = read_condition(r, entry["when"], r.at(entry, "when")) if "when" in entry else None
    then = r.mapping(entry.get("then"), r.at(entry, "then"), f"'then' of {what}") \
        if "then" in entry else None
    concludes = kind = urgency = because = ""
    certainty = 1.0
    against = False
    certainty_at: Location | None = None
    stretch: tuple[str, ...] = ()
    strengthen: tuple[str, ...] = ()
    recommend: tuple[str, ...] = ()
    accuracy: m.Accuracy | None = None
    if then is not None:
        r.keys(then, THEN_KEYS, (), f"'then' of {what}")
        targets = [k for k in m.CONCLUSION_KINDS if k in then]
        if len(targets) > 1:
            r.error(r.at(then), f"{what} concludes more than one thing ({', '.join(targets)}); "
                    "write one rule per conclusion")
        if targets:
            kind = targets[0]
            value = then[kind]
            if isinstance(value, str):
                concludes = value
            else:
                r.error(r.at(then, kind), f"'{kind}' of {what} must be one id", key=kind)
            cf = r.certainty(then, "certainty", what)
            if cf is None and "certainty" not in then:
                r.error(r.at(then), f"{what} concludes '{concludes}' but gives no 'certainty'",
                        "add 'certainty: 0.6' (0..1)", "certainty")
            certainty = cf if cf is not None else 1.0
            if "certainty" in then:
                certainty_at = r.at(then, "certainty")
            against = _flag(r, then, "against", what)
            if against and kind == "red_flag":
                r.error(r.at(then, "against"), f"{what} lowers a red flag; negative evidence never "
                        "rules a red flag out", "only conditions and causes can be lowered; a "
                        "clinician clears a red flag", "against")
                against = False
            if "because" not in then and kind != "red_flag":
                r.error(r.at(then), f"{what} needs a one-line 'because' that justifies its certainty",
                        key="because", code="justification")
        elif "certainty" in then or "against" in then:
            key = "certainty" if "certainty" in then else "against"
            r.error(r.at(then, key), f"{what} gives a {key} but concludes nothing", key=key)
        if "urgency" in then:
            if kind != "red_flag":
                r.error(r.at(then, "urgency"), f"only red-flag rules take an urgency ({what})",
                        key="urgency")
            urgency = r.choice(then, "urgency", m.URGENCIES, what, "")
        because = r.text(then, "because", what, "")
        stretch = r.names(then, "stretch", what)
        strengthen = r.names(then, "strengthen", what)
        recommend = r.names(then, "recommend", what)
        if "accuracy" in then:
            accuracy = read_accuracy(r, then, what)
        if not (kind or stretch or strengthen or recommend):
            r.error(r.at(then), f"{what} does nothing: 'then' needs a conclusion, muscles or "
                    "recommendations")
    lint_off = r.lint_off(entry, what)
    if when is not None and alternatives(when) > MAX_ALTERNATIVES:
        r.error(r.at(entry, "when"), f"the condition of {what} is too complex: it expands into "
                f"{_many(alternatives(when))} alternatives (at most {MAX_ALTERNATIVES})",
                "split it into several rules with the same conclusion", "when", "too_complex")
        return None
    if not ident or when is None:
        return None
    return m.Rule(
        id=ident, title=r.text(entry, "title", what, ident), band=band, when=when,
        location=r.at(entry), order=order, concludes=concludes, kind=kind, certainty=certainty,
        urgency=urgency, because=because, stretch=stretch, strengthen=strengthen,
        recommend=recommend, sources=r.names(entry, "sources", what),
        evidence=r.choice(entry, "evidence", m.EVIDENCE_LEVELS, what, ""),
        lint_off=lint_off, accuracy=accuracy, against=against, certainty_at=certainty_at,
        lines=_rule_lines(entry), status=r.choice(entry, "status", m.RULE_STATUSES, what, ""),
        reviewed_by=r.text(entry, "reviewed_by", what, ""), reviewed_on=_date(r, entry, what),
    )


def _rule_lines(entry: LineDict) -> tuple[tuple[str, int], ...]:
    """Where each key of a rule (and of its `then`) stands, so a problem points at its line."""
    out = [(key, entry.line_of(key)) for key in entry]
    then = entry.get("then")
    if isinstance(then, LineDict):
        out.extend((f"then.{key}", then.line_of(key)) for key in then)
    return tuple(out)


def _date(r: Reader, entry: LineDict, what: str) -> str:
    """`reviewed_on: 2026-03-01`: an ISO date, not in the future by more than a day."""
    if "reviewed_on" not in entry:
        return ""
    raw = str(entry["reviewed_on"]).strip()
    try:
        when = dt.date.fromisoformat(raw)
    except ValueError:
        r.error(r.at(entry, "reviewed_on"), f"'reviewed_on' of {what} is {raw!r}; write the date "
                "as YYYY-MM-DD", f"for example 'reviewed_on: {dt.date.today().isoformat()}'",
                "reviewed_on")
        return ""
    if when > dt.date.today() + dt.timedelta(days=1):
        r.error(r.at(entry, "reviewed_on"), f"'reviewed_on' of {what} is {raw}, in the future",
                "write the date the rule was last reviewed", "reviewed_on")
        return ""
    return when.isoformat()


def read_accuracy(r: Reader, then: LineDict, what: str) -> m.Accuracy | None:
    """The published accuracy behind a rule's certainty: a cited source and at least one figure
    (likelihood ratios above 0; probabilities, sensitivity and specificity as fractions 0..1)."""
    where = r.at(then, "accuracy")
    spec = r.mapping(then["accuracy"], where, f"'accuracy' of {what}")
    if spec is None:
        return None
    own = f"'accuracy' of {what}"
    r.keys(spec, ACCURACY_KEYS, ("source",), own)
    figures: dict[str, float] = {}
    for key, (low, high) in ACCURACY_FIGURES.items():
        if key not in spec:
            continue
        value = r.number(spec, key, own, low, high)
        if value is None:
            continue
        if not math.isfinite(value) or (key.startswith("lr_") and value <= 0):
            r.error(r.at(spec, key), f"'{key}' of {own} is {value}; it must be a finite number "
                    "above 0", key=key)
            continue
        figures[key] = value
    if not any(key in spec for key in ACCURACY_FIGURES) and all(k in ACCURACY_KEYS for k in spec):
        r.error(where, f"{own} gives no figure", "add one of " + ", ".join(ACCURACY_FIGURES),
                "accuracy")
        return None
    source = spec.get("source")
    if not isinstance(source, str) or not source:
        return None
    return m.Accuracy(source=source, location=where, lr_positive=figures.get("lr_positive"),
                      lr_negative=figures.get("lr_negative"),
                      post_test_probability=figures.get("post_test_probability"),
                      sensitivity=figures.get("sensitivity"),
                      specificity=figures.get("specificity"), note=r.text(spec, "note", own, ""))


def _many(count: int) -> str:
    return f"more than {count - 1:,}" if count >= 10**9 else f"{count:,}"


def read_condition(r: Reader, raw: Any, where: Location) -> m.Cond | None:
    """Parse `when`: a list (all of), all/any/not/at_least, `concluded`, or `finding: value`."""
    if isinstance(raw, list):
        items = _condition_list(r, raw, where)
        return m.All(items, where) if items else None
    if not isinstance(raw, dict) or not raw:
        r.error(where, f"a condition must be a mapping such as 'low_back_pain: true', not {_kind(raw)}")
        return None
    here = Location(where.path, own_line(raw, where.line))
    keys = list(raw)
    if "at_least" in raw or "of" in raw:
        extra = [k for k in keys if k not in ("at_least", "of")]
        count = raw.get("at_least")
        if extra or "of" not in raw or "at_least" not in raw:
            r.error(here, "write a cluster as 'at_least: N' together with 'of: [...]' and nothing "
                    "else", key="at_least")
            return None
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            r.error(r.at(raw, "at_least"), f"'at_least' must be a whole number >= 1, not {_kind(count)}",
                    key="at_least")
            return None
        items = _condition_list(r, raw["of"], Location(where.path, line_of(raw, "of")))
        if count > len(items) and items:
            r.error(r.at(raw, "at_least"), f"'at_least: {count}' can never hold with only "
                    f"{len(items)} items", key="at_least", code="cluster_size")
        if len(items) > MAX_CLUSTER:
            r.error(r.at(raw, "of"), f"a cluster can list at most {MAX_CLUSTER} items, not "
                    f"{len(items)}", "split it into smaller clusters", "of", "cluster_size")
            return None
        return m.AtLeast(count, items, here) if items else None
    if "concluded" in raw:
        extra = [k for k in keys if k not in ("concluded", "min_certainty")]
        if extra:
            r.error(r.at(raw, extra[0]), f"'concluded' takes only 'min_certainty' beside it, not "
                    f"'{extra[0]}'", key=extra[0])
        target = raw["concluded"]
        if not isinstance(target, str):
            r.error(r.at(raw, "concluded"), "'concluded' must name one conclusion id", key="concluded")
            return None
        low = r.number(raw, "min_certainty", "'concluded'", 0.0, 1.0, code="certainty_range") or 0.0
        return m.Concluded(target, here, low)
    if len(keys) != 1:
        r.error(here, f"one condition per list item; found {len(keys)} keys ({', '.join(keys)})",
                "put each on its own '- ' line under 'all:'", keys[1])
        return None
    key = keys[0]
    value = raw[key]
    at = Location(where.path, line_of(raw, key))
    if key in ("all", "any"):
        items = _condition_list(r, value, at)
        if not items:
            return None
        return m.All(items, at) if key == "all" else m.AnyOf(items, at)
    if key == "not":
        inner = read_condition(r, value, at)
        return m.Not(inner, at) if inner is not None else None
    if key in RESERVED:
        r.error(at, f"'{key}' cannot stand alone here", key=key)
        return None
    if isinstance(value, dict):
        tests: list[m.Cond] = []
        for op, operand in value.items():
            if op not in m.OPERATORS:
                alias = OPERATOR_ALIASES.get(str(op).lower())
                hint = f"did you mean '{alias}'?" if alias else did_you_mean(str(op), m.OPERATORS)
                r.error(r.at(value, op), f"unknown operator '{op}' for '{key}'",
                        hint or f"operators: {', '.join(m.OPERATORS)}", str(op))
                continue
            if op == "in" and not isinstance(operand, list):
                r.error(r.at(value, op), f"'in' for '{key}' takes a list of values", key=op)
                continue
            tests.append(m.Test(key, op, tuple(operand) if op == "in" else operand,
                                Location(where.path, line_of(value, op))))
        if not tests:
            return None
        return tests[0] if len(tests) == 1 else m.All(tuple(tests), at)
    if isinstance(value, list):
        r.error(at, f"'{key}' is compared with a list; write '{key}: {{in: [...]}}'", key=key)
        return None
    return m.Test(key, "eq", value, at)


def _condition_list(r: Reader, raw: Any, where: Location) -> tuple[m.Cond, ...]:
    seq = r.sequence(raw, where, "a group of conditions")
    if seq is None:
        return ()
    if not seq:
        r.error(where, "an empty group of conditions")
        return ()
    out = []
    for index, item in enumerate(seq):
        cond = read_condition(r, item, Location(where.path, seq.line_of(index)))
        if cond is not None:
            out.append(cond)
    return tuple(out)


# --- case tests and layering --------------------------------------------------------------

TEST_KEYS = ("name", "patient", "findings", "expect", "todo")
EXPECT_KEYS = ("triage", "fires", "not_fires", "present", "absent", "top", "stretch", "strengthen",
               "recommends", "not_recommends", "no_exercise")


def read_case_test(r: Reader, entry: LineDict) -> m.CaseTest | None:
    what = f"case test '{entry.get('name', '?')}'"
    r.keys(entry, TEST_KEYS, ("name", "expect"), what)
    findings = entry.get("findings", {})
    patient = entry.get("patient", {})
    if r.mapping(findings, r.at(entry, "findings"), f"'findings' of {what}") is None:
        findings = {}
    if r.mapping(patient, r.at(entry, "patient"), f"'patient' of {what}") is None:
        patient = {}
    expect = read_expectation(r, entry, what)
    name = r.text(entry, "name", what, "")
    if not name:
        return None
    return m.CaseTest(name, tuple(findings.items()), tuple(patient.items()), expect, r.at(entry),
                      r.text(entry, "todo", what, ""), _key_lines(entry))


def read_expectation(r: Reader, entry: LineDict, what: str,
                     allowed: tuple[str, ...] = EXPECT_KEYS) -> m.Expectation:
    """The `expect:` block of a case test or an example case: one reader for both, so an
    expectation means the same wherever it is written (`allowed` narrows the keys)."""
    raw = entry.get("expect")
    exp = r.mapping(raw, r.at(entry, "expect"), f"'expect' of {what}") if raw is not None else None
    expect = m.Expectation()
    if exp is not None:
        r.keys(exp, allowed, (), f"'expect' of {what}")
        present: list[tuple[str, float, float]] = []
        raw_present = exp.get("present", {})
        if isinstance(raw_present, list):
            raw_present = {str(k): None for k in raw_present}
        if isinstance(raw_present, dict):
            for cid, bounds in raw_present.items():
                low, high = 0.0, 1.0
                if isinstance(bounds, dict):
                    low = r.number(bounds, "min", what, 0.0, 1.0) or 0.0
                    high_raw = r.number(bounds, "max", what, 0.0, 1.0)
                    high = 1.0 if high_raw is None else high_raw
                elif bounds is not None:
                    r.error(r.at(raw_present, cid), f"bounds for '{cid}' must be "
                            "'{min: 0.3, max: 0.8}'", key=cid)
                present.append((cid, low, high))
        else:
            r.error(r.at(exp, "present"), "'present' must map conclusion ids to bounds", key="present")
        triage = r.choice(exp, "triage", m.TRIAGE_ORDER, what, "")
        expect = m.Expectation(
            triage=triage, fires=r.names(exp, "fires", what), not_fires=r.names(exp, "not_fires", what),
            present=tuple(present), absent=r.names(exp, "absent", what),
            top=r.text(exp, "top", what, ""), stretch=r.names(exp, "stretch", what),
            strengthen=r.names(exp, "strengthen", what), recommends=r.names(exp, "recommends", what),
            not_recommends=r.names(exp, "not_recommends", what),
            no_exercise=_flag(r, exp, "no_exercise", what))
    return expect


def _flag(r: Reader, entry: LineDict, key: str, what: str) -> bool:
    value = entry.get(key, False)
    if not isinstance(value, bool):
        r.error(r.at(entry, key), f"'{key}' of {what} must be true or false, not {_kind(value)}",
                key=key)
        return False
    return value


def _key_lines(entry: LineDict) -> tuple[tuple[str, int], ...]:
    """Where each key of a case test stands, so problems and failures point at their own line."""
    out: list[tuple[str, int]] = [(key, entry.line_of(key)) for key in entry]
    for block in ("findings", "patient", "expect"):
        value = entry.get(block)
        if isinstance(value, LineDict):
            out.extend((f"{block}.{key}", value.line_of(key)) for key in value)
    expect = entry.get("expect")
    present = expect.get("present") if isinstance(expect, LineDict) else None
    if isinstance(present, LineDict):
        out.extend((f"expect.present.{key}", present.line_of(key)) for key in present)
    return tuple(out)


def read_disable(r: Reader, entry: LineDict) -> m.Disabled | None:
    """`{rule: id, reason: ...}` switches off a rule; `{checklist: id, reason: ...}` a checklist,
    so a clinic can group its findings its own way."""
    kind = "checklist" if "checklist" in entry and "rule" not in entry else "rule"
    what = f"disable entry '{entry.get(kind, '?')}'"
    r.keys(entry, DISABLE_KEYS, (), what)
    if "rule" in entry and "checklist" in entry:
        r.error(r.at(entry), f"{what} names a rule and a checklist", "switch off one entry per item",
                "checklist")
        return None
    if kind == "rule" and "rule" not in entry:
        r.error(r.at(entry), f"{what} is missing 'rule'", "name the rule (or 'checklist:') to "
                "switch off", "rule")
        return None
    ident = entry.get(kind)
    if not isinstance(ident, str):
        r.error(r.at(entry, kind), f"'{kind}' of {what} must be one {kind} id", key=kind)
    if "reason" not in entry:
        r.error(r.at(entry), f"switching off {kind} '{ident}' needs a stated 'reason'",
                "add 'reason: ...' saying why your clinic does not use it"
                + ("; reports show it" if kind == "rule" else ""), "reason")
    reason = r.text(entry, "reason", what, "")
    if not isinstance(ident, str) or not reason:
        return None
    return m.Disabled(ident, reason, r.at(entry), kind)
