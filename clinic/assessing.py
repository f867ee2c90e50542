"""The engine and the report as the clinic uses them: the same code paths as `imbalance assess`
and `imbalance report`, behind one lock.

A compiled experta engine is reused between cases (compile once, reset per case) and is not
safe to run from two threads at once, while the web server answers requests from a thread pool;
so every use of the reasoner goes through `Assessor.lock`. The contract JSON, the report HTML
and the patient handout are stored with the visit, which is why a visit's result page never
runs the engine again and an old visit's handout stays the sheet the patient was given.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from engine.cases.case import Case, case_from_data
from engine.inference.assessment import Assessment
from engine.inference.reasoner import Reasoner, reasoner_for
from engine.kb import model as m
from engine.kb.loader import load_kb


@dataclass(frozen=True)
class Outcome:
    """What is stored for one assessment of a visit."""

    result: dict[str, Any]
    report_html: str
    triage: str
    kb_version: str
    handout_html: str


class Assessor:
    def __init__(self, kb_dirs: tuple[str, ...] = ()) -> None:
        self.kb: m.KnowledgeBase = load_kb(kb_dirs)
        self.reasoner: Reasoner = reasoner_for(self.kb)
        self.lock = threading.RLock()

    @property
    def version(self) -> str:
        return self.kb.version

    def case(self, patient: dict[str, Any], findings: dict[str, Any], source: str) -> Case:
        """A checked case; raises CaseError for a finding the KB does not know or a bad value."""
        return case_from_data({"patient": patient, "findings": findings}, source, self.kb)

    def assess(self, case: Case) -> Assessment:
        with self.lock:
            return self.reasoner.assess(case)

    def outcome(self, case: Case) -> Outcome:
        from reports.document import report_time
        from reports.handout import render_handout
        from reports.html import report_html

        with self.lock:
            result = self.reasoner.assess(case)
            html = report_html(result, self.reasoner)
        return Outcome(result_json(result), html, result.triage, self.kb.version,
                       render_handout(result, report_time()))

    def handout(self, case: Case) -> str:
        """The patient handout for `case` with the KB loaded now (`imbalance handout`'s sheet)."""
        from reports.document import report_time
        from reports.handout import render_handout

        with self.lock:
            result = self.reasoner.assess(case)
        return render_handout(result, report_time())


def result_json(result: Assessment) -> dict[str, Any]:
    """The contract JSON of `assess --format json`, as stored with every assessment."""
    return result.to_dict()
