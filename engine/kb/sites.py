"""Which findings say *where* the complaint is: the pain sites.

The knowledge base names them twice: the body chart (the checklists asked first) and the
`sites:` of its conclusions. Two questions read them, on different floors: the interview asks
which regional conditions are worth pursuing (`engine.interview.relevance`), and every
assessment asks which red-flag screen applies to the presentation (`engine.inference.screen`).
Both must mean the same set, so it is defined once, here, from the KB alone.
"""

from __future__ import annotations

from engine.kb import model as m


def site_findings(kb: m.KnowledgeBase) -> frozenset[str]:
    """Every finding that says where the complaint is: the body chart (the checklists asked
    first) and the sites the conclusions name."""
    chart = {fid for checklist in kb.checklists.values() if checklist.first
             for fid in checklist.findings}
    named = {fid for conclusion in kb.conclusions.values() for fid in conclusion.sites}
    return frozenset(chart | named)


__all__ = ["site_findings"]
