"""`imbalance kb new rule|condition|finding ID`: an entry with every field it needs.

A new author copies an old rule and forgets what changed since (a `kind` on advice, a
`because`, the review fields), so the scaffold is written from the same key tables the schema
checks (`engine.kb.schema`), with `TODO` where only a clinician can fill in the words. Ids the
author names (`--when`, `--concludes`, `--source`) are checked against the loaded knowledge base
first, so a scaffold with all of them given loads as it is.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection

from engine.errors import InputError
from engine.kb import model as m
from engine.kb.schema import ID_CHARS
from engine.kb.suggest import did_you_mean

KINDS = ("rule", "condition", "finding")


def check_id(ident: str, kb: m.KnowledgeBase, kind: str) -> None:
    if not ident or not set(ident) <= ID_CHARS or ident[0].isdigit():
        raise InputError(f"id {ident!r} must be lower_snake_case (a-z, 0-9, _)", key="ID",
                         suggestion="for example 'adductor_squeeze_test'")
    taken = {"rule": [r.id for r in kb.rules], "condition": list(kb.conclusions),
             "finding": list(kb.findings)}[kind]
    if ident in taken:
        raise InputError(f"a {kind} '{ident}' already exists", key="ID",
                         suggestion=f"run 'imbalance kb show {ident}', or choose a new id")


def _known(ident: str, pool: Collection[str], what: str, option: str) -> None:
    if ident not in pool:
        raise InputError(f"unknown {what} '{ident}'", key=option,
                         suggestion=did_you_mean(ident, list(pool)) or
                         f"define it first ('imbalance kb new {what} {ident}')")


def rule(kb: m.KnowledgeBase, ident: str, when: tuple[str, ...], concludes: str, source: str,
         today: dt.date | None = None) -> str:
    """A rule in band `condition` (or `red_flag`/`cause` from what it concludes)."""
    check_id(ident, kb, "rule")
    for fid in when:
        _known(fid, kb.findings, "finding", "--when")
    if concludes:
        _known(concludes, kb.conclusions, "conclusion", "--concludes")
    if source:
        _known(source, kb.sources, "source", "--source")
    target = kb.conclusions.get(concludes)
    kind = target.kind if target else "condition"
    premises = [f"      - {fid}: {_value(kb.findings[fid])}" for fid in when] or [
        "      - TODO_finding: true        # one premise per line; all must hold"]
    lines = [
        "rules:",
        f"  - id: {ident}",
        "    title: TODO one line a clinician reads aloud",
        f"    band: {kind}",
        "    status: experimental            # experimental | stable | deprecated",
        "    reviewed_by: TODO your name",
        f"    reviewed_on: {(today or dt.date.today()).isoformat()}",
        "    when:",
        *premises,
        "    then:",
        f"      {kind}: {concludes or 'TODO_condition'}",
        "      certainty: 0.5                  # above 0, at most 1",
    ]
    if kind != "red_flag":
        lines.append("      because: TODO why this certainty, in one line")
    lines += [
        f"    sources: [{source or 'TODO_source'}]",
        "    evidence: expert_opinion          # high | moderate | low | expert_opinion",
    ]
    return "\n".join(lines) + "\n"


def _value(finding: m.Finding) -> str:
    if finding.type == "number":
        low = finding.minimum if finding.minimum is not None else 0
        return "{ge: " + (str(int(low)) if float(low).is_integer() else str(low)) + "}"
    if finding.type == "enum":
        return finding.values[0] if finding.values else "TODO"
    return "true"


def condition(kb: m.KnowledgeBase, ident: str) -> str:
    check_id(ident, kb, "condition")
    return "\n".join([
        "conditions:",
        f"  - id: {ident}",
        f"    label: {ident.replace('_', ' ').capitalize()}",
        "    description: TODO what it is, for the clinician",
        "    plain: TODO what it is, in the patient's words (the handout)",
    ]) + "\n"


def finding(kb: m.KnowledgeBase, ident: str, ftype: str, category: str) -> str:
    check_id(ident, kb, "finding")
    label = ident.replace("_", " ").capitalize()
    lines = [
        "findings:",
        f"  - id: {ident}",
        f"    label: {label}",
        f"    category: {category}",
        f"    type: {ftype}",
        f"    question: {json.dumps(f'TODO: how a clinician asks about {label.lower()}?')}",
    ]
    if ftype == "number":
        lines += ["    unit: TODO_unit", "    range: [0, 100]"]
    if ftype == "enum":
        lines.append("    values: [TODO_first, TODO_second]")
    return "\n".join(lines) + "\n"
