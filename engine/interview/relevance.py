"""Which conditions the complaint site leaves worth pursuing in an interview.

A clinician does not ask a runner with a sore knee and nothing else about the SI joint tests,
walking distance or an old hamstring strain: the site of the complaint decides which regional
questions are worth the time. The knowledge base says where each condition presents (its
`sites:`, pain sites the body chart ticks, in `kb/conclusions/`); this module reads the answers
so far against that data. It is data-driven on purpose: a new condition is gated by writing its
sites, never by a list in Python.

- Once a pain site is marked, a condition is *out of site* when every one of its sites is
  known not to hurt: answered no, or left unmarked on a body chart that was answered (the
  spine, which the chart records as no only when told, counts as unmarked once the rest of
  the chart is answered). A site not charted yet keeps it in play: the rules may still ask
  for it.
- While nothing is marked (a pain-free patient seen to screen a risk, such as a sprinter's
  hamstrings), nothing is out of site: the rules decide alone.
- A condition without `sites` presents anywhere and is never out of site.

Only conditions are ever gated. A red flag never is (the planner pursues every red-flag rule
whatever the site), and `assess` never reads this: it changes which questions are asked, not
what a case file concludes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from engine.kb import model as m
from engine.kb.sites import site_findings


def marked(value: Any) -> bool:
    """A site is marked when it hurts: yes, or a side."""
    return value is not None and value is not False


def complaint_sites(kb: m.KnowledgeBase, answers: Mapping[str, Any],
                    sites: frozenset[str] | None = None) -> frozenset[str]:
    """The pain sites marked so far."""
    pool = site_findings(kb) if sites is None else sites
    return frozenset(fid for fid in pool if marked(answers.get(fid)))


def chart_answered(checklist: m.Checklist, asked: Collection[str]) -> bool:
    """Whether a body chart has been answered: every member it does not leave to an explicit
    'no' has been asked (ticking the knee does not say the back is pain-free)."""
    return all(fid in asked for fid in checklist.findings if fid not in checklist.explicit_no)


def not_marked(kb: m.KnowledgeBase, answers: Mapping[str, Any],
               asked: Collection[str]) -> frozenset[str]:
    """Sites known not to hurt: answered no, or left unmarked on a body chart that was answered
    (the clinician saw every area and marked where it hurts; the spine, left to an explicit
    no, included). A site never shown to the clinician is not among them."""
    out = {fid for fid, value in answers.items() if value is False}
    for checklist in kb.checklists.values():
        if checklist.first and chart_answered(checklist, asked):
            out.update(fid for fid in checklist.findings if not marked(answers.get(fid)))
    return frozenset(out)


def out_of_site(kb: m.KnowledgeBase, answers: Mapping[str, Any], asked: Collection[str],
                sites: frozenset[str] | None = None) -> frozenset[str]:
    """Conditions the interview need not pursue for the sites charted so far (`asked`: the
    findings asked, answered or not known): a site hurts, and every site of the condition is
    known not to."""
    complaint = complaint_sites(kb, answers, sites)
    if not complaint:
        return frozenset()
    clear = not_marked(kb, answers, asked)
    return frozenset(c.id for c in kb.conclusions.values()
                     if c.kind == "condition" and c.sites and clear.issuperset(c.sites))


__all__ = ["chart_answered", "complaint_sites", "marked", "not_marked", "out_of_site",
           "site_findings"]
