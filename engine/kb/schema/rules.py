"""Rules and their conditions: `when:` trees, `then:` with its certainty, published accuracy
and lifecycle fields."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from engine.errors import Location
from engine.kb import model as m
from engine.kb.limits import MAX_ALTERNATIVES, MAX_CLUSTER, alternatives
from engine.kb.schema.casetests import _flag
from engine.kb.schema.reader import OPERATOR_ALIASES, RESERVED, Reader, _kind
from engine.kb.suggest import did_you_mean
from engine.kb.yamlsource import LineDict, line_of, own_line

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
