"""Which conditions the complaint site leaves worth pursuing in an interview.

A clinician does not ask a runner with a sore knee and nothing else about the SI joint tests,
walking distance or an old hamstring strain: the site of the complaint decides which regional
questions are worth the time. The knowledge base says where each condition presents (its
`sites:`, pain sites the body chart ticks, in `kb/conclusions/`); this module reads the answers
so far against that data. It is data-driven on purpose: a new condition is gated by writing its
sites, never by a list in Python.

- Once the body chart has been answered (every member it does not leave to an explicit 'no'
  asked) and a pain site is marked, a condition none of whose sites is marked is *out of site*.
- Before that, or while nothing is marked (a pain-free patient seen to screen a risk, such as a
  sprinter's hamstrings), nothing is out of site: the rules decide alone. Gating on a half-asked
  chart would hide a site the clinician was never asked to mark.
- A condition without `sites` presents anywhere and is never out of site.

Only conditions are ever gated. A red flag never is (the planner pursues every red-flag rule
whatever the site), and `assess` never reads this: it changes which questions are asked, not
what a case file concludes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from engine.kb import model as m


def site_findings(kb: m.KnowledgeBase) -> frozenset[str]:
    """Every finding that says where the complaint is: the body chart (the checklists asked
    first) and the sites the conditions name."""
    chart = {fid for checklist in kb.checklists.values() if checklist.first
             for fid in checklist.findings}
    named = {fid for conclusion in kb.conclusions.values() for fid in conclusion.sites}
    return frozenset(chart | named)


def marked(value: Any) -> bool:
    """A site is marked when it hurts: yes, or a side."""
    return value is not None and value is not False


def complaint_sites(kb: m.KnowledgeBase, answers: Mapping[str, Any],
                    sites: frozenset[str] | None = None) -> frozenset[str]:
    """The pain sites marked so far."""
    pool = site_findings(kb) if sites is None else sites
    return frozenset(fid for fid in pool if marked(answers.get(fid)))


def chart_answered(kb: m.KnowledgeBase, asked: Collection[str]) -> bool:
    """Whether the clinician has charted where it hurts: every member of a body chart (a
    checklist asked first) has been asked, bar those it leaves to an explicit 'no' (ticking
    the knee does not say the back is pain-free). A KB without a chart: the sites answered."""
    charts = [c for c in kb.checklists.values() if c.first]
    if not charts:
        return True
    return any(all(fid in asked for fid in c.findings if fid not in c.explicit_no) for c in charts)


def out_of_site(kb: m.KnowledgeBase, answers: Mapping[str, Any], asked: Collection[str],
                sites: frozenset[str] | None = None) -> frozenset[str]:
    """Conditions the interview need not pursue for the sites charted so far (`asked`: the
    findings asked, answered or not known)."""
    complaint = complaint_sites(kb, answers, sites)
    if not complaint or not chart_answered(kb, asked):
        return frozenset()
    return frozenset(c.id for c in kb.conclusions.values()
                     if c.kind == "condition" and c.sites and not complaint & set(c.sites))


__all__ = ["chart_answered", "complaint_sites", "marked", "out_of_site", "site_findings"]
