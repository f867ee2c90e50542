"""Cross-file checks: every id a rule or case test names must exist and fit its type.

These run after all files are read, so an author sees unknown names with a did-you-mean
suggestion no matter which file defines what.
"""

from __future__ import annotations

from collections.abc import Mapping

from engine.errors import Location, Problem
from engine.kb import model as m
from engine.kb.suggest import did_you_mean
from engine.kb.values import check_value

NUMERIC_OPS = ("lt", "le", "gt", "ge")
SCHEMA_RESERVED = ("all", "any", "not", "at_least", "of", "concluded", "min_certainty")


def resolve_source(kb: m.KnowledgeBase, ref: str) -> m.Source | None:
    """A source by id, or by the seed file name it was taken from."""
    if ref in kb.sources:
        return kb.sources[ref]
    for source in kb.sources.values():
        if source.file and source.file == ref:
            return source
    return None


def check_references(kb: m.KnowledgeBase) -> list[Problem]:
    problems: list[Problem] = []
    for finding in kb.findings.values():
        if finding.id in SCHEMA_RESERVED:
            problems.append(Problem(finding.location, f"'{finding.id}' is a reserved word of the "
                                    "rule language and cannot name a finding", "choose another id",
                                    key="id", code="reserved_word"))
    for rule in kb.rules:
        problems.extend(_check_rule(kb, rule))
    for rec in kb.recommendations.values():
        flag = rec.id.removeprefix("act_now_")
        if rec.id != flag and kb.conclusions.get(flag) and kb.conclusions[flag].kind == "red_flag":
            problems.append(Problem(rec.location, f"recommendation id '{rec.id}' is reserved for "
                                    f"the referral the engine adds for red flag '{flag}'",
                                    "choose another id; the red flag's 'action' is its referral",
                                    key="id", code="duplicate_id"))
        for ref in rec.sources:
            if resolve_source(kb, ref) is None:
                problems.append(_unknown(rec.location, "source", ref, kb.sources, "sources"))
        for ref in rec.subsumes:
            if ref not in kb.recommendations or ref == rec.id:
                problems.append(_unknown(rec.location, "recommendation", ref, kb.recommendations,
                                         "subsumes"))
    for test in kb.tests:
        problems.extend(check_case_test(kb, test))
    problems.extend(check_checklists(kb))
    problems.extend(check_sites(kb))
    problems.extend(check_cycles(kb))
    return problems


def check_sites(kb: m.KnowledgeBase) -> list[Problem]:
    """A condition's `sites` are pain sites the body chart ticks: known boolean or sided findings
    (the interview gates regional questions on them)."""
    problems: list[Problem] = []
    charted = {fid for c in kb.checklists.values() if c.first for fid in c.findings}
    for conclusion in kb.conclusions.values():
        for fid in conclusion.sites:
            if fid not in kb.findings:
                problems.append(_unknown(conclusion.location, "finding", fid, kb.findings, "sites"))
            elif fid not in charted if charted else kb.findings[fid].type not in m.CHECKLIST_TYPES:
                problems.append(Problem(
                    conclusion.location, f"site '{fid}' of '{conclusion.id}' is not on the body "
                    "chart; a site is a place the chart ticks", did_you_mean(fid, sorted(charted))
                    or "name a pain site the body chart lists", key="sites",
                    code="unknown_reference"))
    return problems


def check_checklists(kb: m.KnowledgeBase) -> list[Problem]:
    """Each member must be a finding a tick can answer, and in one checklist only: the interview
    asks a finding with the checklist it belongs to."""
    problems: list[Problem] = []
    home: dict[str, m.Checklist] = {}
    for checklist in kb.checklists.values():
        for index, fid in enumerate(checklist.findings):
            where = checklist.place(index)
            finding = kb.findings.get(fid)
            if finding is None:
                problems.append(_unknown(where, "finding", fid, kb.findings, fid))
                continue
            if finding.type not in m.CHECKLIST_TYPES:
                problems.append(Problem(
                    where, f"'{fid}' in checklist '{checklist.id}' is a {finding.type} "
                    "finding; a checklist item is answered by a tick (with a side where it has one)",
                    f"ask '{fid}' as a plain question: remove it from the checklist", key=fid,
                    code="type_mismatch"))
            if fid in home and home[fid] is checklist:
                continue  # listed twice in one checklist: the schema has said so
            if fid in home:
                first = home[fid]
                problems.append(Problem(
                    where, f"'{fid}' is already in checklist '{first.id}' at "
                    f"{first.place(first.findings.index(fid))}",
                    "a finding belongs to one checklist; remove it from one",
                    key=fid, code="duplicate_id"))
                continue
            home[fid] = checklist
    return problems


def _unknown(where: Location, what: str, name: str, pool: object, key: str) -> Problem:
    return Problem(where, f"unknown {what} '{name}'", did_you_mean(name, pool), key=key,  # type: ignore[arg-type]
                   code="unknown_reference")


def check_test(kb: m.KnowledgeBase, test: m.Test) -> Problem | None:
    finding = kb.findings.get(test.finding)
    if finding is None:
        return _unknown(test.location, "finding", test.finding, kb.findings, test.finding)
    if test.op in NUMERIC_OPS and finding.type != "number":
        return Problem(test.location, f"'{test.op}' compares numbers but '{finding.id}' is "
                       f"{finding.type}", f"use eq or ne with {finding.accepts()}", key=test.op,
                       code="type_mismatch")
    if test.op == "in" and finding.type == "boolean":
        return Problem(test.location, f"'in' makes no sense for yes/no finding '{finding.id}'",
                       "use eq", key=test.op, code="type_mismatch")
    values = test.value if test.op == "in" else (test.value,)
    for value in values:
        message = check_value(finding, value)
        if message:
            return Problem(test.location, f"'{finding.id}' {message}", key=finding.id,
                           code="value_out_of_type")
    return None


def _check_rule(kb: m.KnowledgeBase, rule: m.Rule) -> list[Problem]:
    out: list[Problem] = []
    for leaf in m.leaves(rule.when):
        if isinstance(leaf, m.Test):
            problem = check_test(kb, leaf)
            if problem:
                out.append(problem)
        elif leaf.conclusion not in kb.conclusions:
            out.append(_unknown(leaf.location, "conclusion", leaf.conclusion, kb.conclusions,
                                "concluded"))
    if rule.concludes:
        target = kb.conclusions.get(rule.concludes)
        if target is None:
            pool = [c.id for c in kb.conclusions.values() if c.kind == rule.kind]
            out.append(_unknown(rule.where(f"then.{rule.kind}"), rule.kind.replace("_", " "),
                                rule.concludes, pool, rule.kind))
        elif target.kind != rule.kind:
            out.append(Problem(rule.where(f"then.{rule.kind}"),
                               f"'{rule.concludes}' is a {target.kind.replace('_', ' ')}"
                               f", not a {rule.kind.replace('_', ' ')}",
                               f"write '{target.kind}: {rule.concludes}'", key=rule.kind,
                               code="kind_mismatch"))
    advice_pools: tuple[tuple[str, tuple[str, ...], Mapping[str, object], str], ...] = (
        ("stretch", rule.stretch, kb.muscles, "muscle"),
        ("strengthen", rule.strengthen, kb.muscles, "muscle"),
        ("recommend", rule.recommend, kb.recommendations, "recommendation"),
    )
    for key, names, known, what in advice_pools:
        for name in names:
            if name not in known:
                out.append(_unknown(rule.where(f"then.{key}"), what, name, known, key))
    for ref in rule.sources:
        if resolve_source(kb, ref) is None:
            pool = list(kb.sources) + [s.file for s in kb.sources.values() if s.file]
            out.append(_unknown(rule.where("sources"), "source", ref, pool, "sources"))
    if rule.accuracy is not None and resolve_source(kb, rule.accuracy.source) is None:
        pool = list(kb.sources) + [s.file for s in kb.sources.values() if s.file]
        out.append(_unknown(rule.accuracy.location, "source", rule.accuracy.source, pool,
                            "accuracy.source"))
    return out


def check_case_test(kb: m.KnowledgeBase, test: m.CaseTest) -> list[Problem]:
    out: list[Problem] = []
    for fid, value in test.findings:
        finding = kb.findings.get(fid)
        at = test.where(f"findings.{fid}")
        if finding is None:
            out.append(_unknown(at, "finding", fid, kb.findings, fid))
        elif value is not None and check_value(finding, value):
            out.append(Problem(at, f"'{fid}' {check_value(finding, value)}", f"give {finding.accepts()}",
                               key=fid, code="value_out_of_type"))
    for key, value in test.patient:
        finding = kb.findings.get(key)
        if finding is not None and value is not None and check_value(finding, value):
            out.append(Problem(test.where(f"patient.{key}"), f"patient '{key}' "
                               f"{check_value(finding, value)}", key=key, code="value_out_of_type"))
    # a test may name a rule a clinic layer switched off; `kb test` then skips it with the reason
    rule_ids = {r.id for r in kb.rules} | {d.rule for d in kb.disabled}
    exp = test.expect
    for key, rids in (("fires", exp.fires), ("not_fires", exp.not_fires)):
        for rid in rids:
            if rid not in rule_ids:
                out.append(_unknown(test.where(f"expect.{key}"), "rule", rid, rule_ids, key))
    named = [(f"expect.present.{cid}", cid) for cid, _, _ in exp.present]
    named += [("expect.absent", cid) for cid in exp.absent]
    named += [("expect.top", exp.top)] if exp.top else []
    for key, cid in named:
        if cid not in kb.conclusions:
            out.append(_unknown(test.where(key), "conclusion", cid, kb.conclusions, key.split(".")[1]))
    for key, mids in (("stretch", exp.stretch), ("strengthen", exp.strengthen)):
        for mid in mids:
            if mid not in kb.muscles:
                out.append(_unknown(test.where(f"expect.{key}"), "muscle", mid, kb.muscles, key))
    return out


def conclusion_graph(kb: m.KnowledgeBase) -> dict[str, set[str]]:
    """conclusion -> conclusions its rules read; the order rules must fire in."""
    deps: dict[str, set[str]] = {}
    for rule in kb.rules:
        if rule.concludes:
            deps.setdefault(rule.concludes, set()).update(rule.conclusions_used())
    return deps


def check_cycles(kb: m.KnowledgeBase) -> list[Problem]:
    deps = conclusion_graph(kb)
    state: dict[str, int] = {}
    problems: list[Problem] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(deps.get(node, ())):
            if state.get(nxt) == 1:
                cycle = [*path[path.index(nxt):], nxt] if nxt in path else [node, nxt]
                rule = next((r for r in kb.rules if r.concludes == node and nxt in
                             r.conclusions_used()), None)
                where = rule.location if rule else Location("kb")
                problems.append(Problem(where, "conclusions depend on each other in a cycle: "
                                        + " -> ".join(cycle), "break the cycle; a conclusion "
                                        "cannot support itself", code="cycle"))
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(deps):
        if node not in state:
            visit(node, [node])
    return problems
