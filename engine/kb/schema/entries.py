"""Entries of the catalogue files: findings, conclusions (with their review), muscles,
recommendations, sources and checklists."""

from __future__ import annotations

from engine.errors import Location
from engine.kb import model as m
from engine.kb.schema.reader import Reader
from engine.kb.suggest import did_you_mean
from engine.kb.yamlsource import LineDict, line_of

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


CONCLUSION_KEYS = ("id", "label", "description", "urgency", "action", "lint", "sites")
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
