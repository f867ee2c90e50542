"""A visit's result page: three narrow reads per request, and the part that cannot change kept
rendered.

Why: the result page is what a clinic reads most, and issue 18 asks for p95 <= 100 ms with 20
busy clients; with one worker that is a CPU budget of a few milliseconds a page. Profiled
in-process (bench/RESULTS.md, clinic section), most of it went to loading ORM objects (identity
map, lazy loads of the visit's assessments, the patient and its other visits), to JSON-decoding
and re-phrasing results that never change, and to rendering them again.

So each request reads plain rows with Core selects of the columns the page shows: the visit
joined to its patient (by both ids from the address, so a deleted patient or another patient's
visit is a 404 before anything else), the visit's assessments without their stored report and
handout, and the ids of the patient's other visits. Login (`current_user`) has run before the
handler and the audit row is written per request, cached or not.

What is cached: a stored assessment is never changed (re-assessing adds one), nor are a visit's
findings and notes, so the red-flag banner and the body (what changed, plan, conditions, findings)
depend only on the visit, its latest and previous assessment, the KB (for labels) and the
templates. `ResultParts` for that key are kept in a small per-process LRU; each worker process
has its own, which is safe because what it holds is derived from immutable rows. It holds no user
name, CSRF token or anything of the session, and every user who may log in may read every
patient (there are no per-patient permissions), so sharing it between users shows nobody anything
their own request would not. Ids alone are not a safe key: SQLite may give a deleted row's id to
a new row, so the key also holds each assessment's creation time.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, cast

from markupsafe import Markup
from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from clinic import compare
from clinic.models import Assessment, Patient, Visit
from clinic.pages import environment
from engine.inference.screen import Screen
from engine.kb import model as m
from engine.wording import finding_phrase
from reports.summary import screen_summary

CACHE_SIZE = 512  # pages; each a few kB of HTML

# Built once, with bound parameters, on the tables' columns: plain Core statements skip the ORM's
# statement handling, and a prebuilt statement is compiled once and found in the compiled cache.
VISITS = cast(Table, Visit.__table__)
ASSESSMENTS_TABLE = cast(Table, Assessment.__table__)
_P, _V, _A = (cast(Table, t.__table__).c for t in (Patient, Visit, Assessment))
# The visit, its patient and its assessments in one round trip: one row per assessment.
HEAD = (select(_P.id, _P.name, _V.id, _V.seen_on, _V.method, _V.age, _V.created_by, _V.review_due,
               _A.id, _A.kb_version, _A.triage, _A.created_by, _A.created_at)
        .join(VISITS, _V.patient_id == _P.id).join(ASSESSMENTS_TABLE, _A.visit_id == _V.id)
        .where(_V.id == bindparam("vid"), _V.patient_id == bindparam("pid")).order_by(_A.id))
OTHERS = (select(_V.id).where(_V.patient_id == bindparam("pid"), _V.id != bindparam("vid"))
          .order_by(_V.seen_on, _V.id))
RESULTS = select(_A.id, _A.result).where(_A.id.in_(bindparam("ids", expanding=True)))
REPORT_IDS = (select(_A.id).join(VISITS, _V.id == _A.visit_id)
              .where(_V.id == bindparam("vid"), _V.patient_id == bindparam("pid")).order_by(_A.id))
REPORT = select(_A.report_html).where(_A.id == bindparam("aid"))
VISIT_TEXT = select(_V.findings, _V.notes).where(_V.id == bindparam("vid"))


@dataclass(frozen=True)
class VisitHead:
    """What the page shows of the patient and the visit besides the cached parts."""

    patient_id: int
    patient_name: str
    id: int
    seen_on: dt.date
    method: str
    age: int | None
    created_by: str
    review_due: dt.date | None


@dataclass(frozen=True)
class AssessmentMeta:
    """One assessment as the page lists it (its result, report and handout are not read)."""

    id: int
    kb_version: str
    triage: str
    created_by: str
    created_at: dt.datetime


@dataclass(frozen=True)
class ResultParts:
    flags: Markup
    body: Markup
    screen: Markup = field(default_factory=Markup)  # an incomplete red-flag screen, under the triage


@dataclass(frozen=True)
class ResultPage:
    head: VisitHead
    assessments: list[AssessmentMeta]  # oldest first; never empty
    others: list[int]
    parts: ResultParts


class PartsCache:
    """A thread-safe LRU of rendered parts (page handlers run in a thread pool)."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Any, ...], ResultParts] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple[Any, ...]) -> ResultParts | None:
        with self._lock:
            parts = self._items.get(key)
            if parts is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return parts

    def put(self, key: tuple[Any, ...], parts: ResultParts) -> None:
        with self._lock:
            self._items[key] = parts
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def load(session: Session, cache: PartsCache, kb: m.KnowledgeBase, pid: int, vid: int) -> ResultPage | None:
    """The page's data, or None when the patient has no such assessed visit."""
    connection = session.connection()
    ids = {"pid": pid, "vid": vid}
    rows = connection.execute(HEAD, ids).all()
    if not rows:  # no such visit of this patient, or one never assessed
        return None
    head = VisitHead(*rows[0][:8])
    assessments = [AssessmentMeta(row[8], row[9], row[10], row[11], row[12]) for row in rows]
    others = list(connection.execute(OTHERS, ids).scalars())
    latest, previous = assessments[-1], (assessments[-2] if len(assessments) > 1 else None)
    key = (vid, latest.id, latest.created_at, previous and previous.id,
           previous and previous.created_at, kb.version)
    parts = cache.get(key)
    if parts is None:
        parts = render_parts(session, kb, head, latest, previous)
        cache.put(key, parts)
    return ResultPage(head, assessments, others, parts)


def render_parts(session: Session, kb: m.KnowledgeBase, head: VisitHead, latest: AssessmentMeta,
                 previous: AssessmentMeta | None) -> ResultParts:
    ids = [latest.id] + ([previous.id] if previous is not None else [])
    connection = session.connection()
    results: dict[int, dict[str, Any]] = {
        aid: result for aid, result in connection.execute(RESULTS, {"ids": ids})}
    findings, notes = connection.execute(VISIT_TEXT, {"vid": head.id}).one()
    result = results[latest.id]
    changes = compare.compare_results(results[previous.id], result) if previous is not None else []
    module = environment().get_template("visit_result.html.j2").module
    full = compare.with_defaults(result)
    body = module.body(  # type: ignore[attr-defined]
        full, changes, previous.kb_version if previous is not None else "",
        compare.plan_lines(result), head.review_due,
        [finding_phrase(kb, fid, value) for fid, value in findings.items()], notes)
    screen = Screen.from_dict(result.get("screen"))
    found = screen_summary(kb, screen, full["triage"]) if screen is not None else None
    notice = Markup("")
    if found is not None:
        notice = Markup(module.screen(found, head.patient_id,  # type: ignore[attr-defined]
                                      bool(full["red_flags"])))
    return ResultParts(Markup(module.flags(full)), Markup(body), notice)  # type: ignore[attr-defined]


def stored_report(session: Session, pid: int, vid: int, wanted: int) -> tuple[int, str] | None:
    """(assessment id, report HTML) of assessment `wanted` of the visit, or of its latest when
    `wanted` is not one of them; None when the patient has no such assessed visit."""
    connection = session.connection()
    ids = list(connection.execute(REPORT_IDS, {"pid": pid, "vid": vid}).scalars())
    if not ids:
        return None
    chosen = wanted if wanted in ids else ids[-1]
    return chosen, connection.execute(REPORT, {"aid": chosen}).scalar_one()
