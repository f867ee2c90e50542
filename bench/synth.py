"""Synthetic knowledge bases and cases for measuring how cost grows, built from the shipped KB.

Three generators, all deterministic for a seed and all working from whatever KB is shipped:

- `grow_kb(kb, factor)` keeps the KB and adds `factor - 1` renamed copies of every rule, each
  copy reading its own renamed findings and concluding its own renamed conclusions. That is how
  a KB grows when experts add regions: more vocabulary and more rules, while a case still
  mentions a few dozen findings. A perfect engine costs the same per case at every factor.
  `spread_over_copies` moves each case of the original vocabulary wholly into one copy, so a
  case does the same work at every size while the cases reach every copy.
- `clinical_kb(kb, n_rules)` writes a clinical-shaped rule base of any size over the shipped
  vocabulary and conclusions (all/any/not/at_least/concluded chains, every band), so the engine
  can be profiled at a realistic size even while the shipped KB is still small.
- `random_facts` / `random_case_data` draw cases from a KB's vocabulary with valid values.

Everything here is built in memory from model objects; nothing is written to `kb/`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from engine.errors import Location
from engine.kb import model as m
from engine.record import replace

HERE = Location("<synthetic>")


# --- growth by renamed copies ----------------------------------------------------------------


def _rename_cond(cond: m.Cond, suffix: str) -> m.Cond:
    if isinstance(cond, m.Test):
        return replace(cond, finding=cond.finding + suffix)
    if isinstance(cond, m.Concluded):
        return replace(cond, conclusion=cond.conclusion + suffix)
    if isinstance(cond, m.Not):
        return replace(cond, item=_rename_cond(cond.item, suffix))
    return replace(cond, items=tuple(_rename_cond(i, suffix) for i in cond.items))


def grow_kb(kb: m.KnowledgeBase, factor: int) -> m.KnowledgeBase:
    """The KB plus `factor - 1` renamed copies of its rules, findings and conclusions."""
    if factor <= 1:
        return kb
    findings = dict(kb.findings)
    conclusions = dict(kb.conclusions)
    rules = list(kb.rules)
    order = max((r.order for r in kb.rules), default=0) + 1
    for copy in range(1, factor):
        suffix = copy_suffix(copy)
        for fid, finding in kb.findings.items():
            findings[fid + suffix] = replace(finding, id=fid + suffix)
        for cid, conclusion in kb.conclusions.items():
            conclusions[cid + suffix] = replace(conclusion, id=cid + suffix)
        for rule in kb.rules:
            rules.append(replace(
                rule, id=rule.id + suffix, when=_rename_cond(rule.when, suffix),
                concludes=rule.concludes + suffix if rule.concludes else "", order=order))
            order += 1
    return replace(kb, findings=findings, conclusions=conclusions, rules=tuple(rules),
                               tests=())


def copy_suffix(copy: int) -> str:
    """The suffix `grow_kb` gives copy `copy` of every id (copy 0 is the original KB)."""
    return f"_c{copy}" if copy else ""


def move_into_copy(facts: dict[str, Any], copy: int) -> dict[str, Any]:
    """A case of the original vocabulary moved wholly into copy `copy` of a grown KB: every
    finding renamed, values kept. Its copy of the rules then does exactly the work the original
    rules do on the original case (same premises evaluated, same firings, renamed), so timing
    such cases across KB sizes isolates the cost of the number of rules."""
    suffix = copy_suffix(copy)
    return {fid + suffix: value for fid, value in facts.items()}


def spread_over_copies(cases: list[dict[str, Any]], factor: int,
                       rng: random.Random) -> list[dict[str, Any]]:
    """Each case moved into one copy chosen at random among the `factor` copies (the original
    included), so at 10x about nine cases in ten reach only added rules."""
    return [move_into_copy(facts, rng.randrange(factor)) for facts in cases]


# --- random values and cases ------------------------------------------------------------------


def random_value(finding: m.Finding, rng: random.Random) -> Any:
    """A valid value for the finding, spread so rules fire often enough to be interesting."""
    if finding.type == "boolean":
        return rng.random() < 0.6
    if finding.type == "sided":
        return rng.choice([True, False, "left", "right", "bilateral"])
    if finding.type == "enum":
        return rng.choice(finding.values)
    low = int(finding.minimum if finding.minimum is not None else 0)
    high = int(finding.maximum if finding.maximum is not None else 100)
    return rng.randint(low, high)


def random_facts(kb: m.KnowledgeBase, rng: random.Random, count: int,
                 pool: list[str] | None = None) -> dict[str, Any]:
    """`count` known findings (fewer if the vocabulary is smaller), drawn without repeats."""
    ids = pool if pool is not None else sorted(kb.findings)
    chosen = rng.sample(ids, min(count, len(ids)))
    return {fid: random_value(kb.findings[fid], rng) for fid in chosen}


def random_case_data(kb: m.KnowledgeBase, rng: random.Random, count: int,
                     case_id: str) -> dict[str, Any]:
    """A case object as a batch JSONL line holds it: id, patient block and findings."""
    pool = sorted(f for f, v in kb.findings.items() if v.category != "patient")
    data: dict[str, Any] = {"id": case_id,
                            "patient": {"age": rng.randint(16, 90),
                                        "sex": rng.choice(["female", "male"])},
                            "findings": random_facts(kb, rng, count, pool)}
    return data


def case_stream(kb: m.KnowledgeBase, n: int, seed: int, low: int = 3,
                high: int = 25) -> Iterator[dict[str, Any]]:
    """`n` random facts dicts with `low..high` findings each."""
    rng = random.Random(seed)
    for _ in range(n):
        yield random_facts(kb, rng, rng.randint(low, high))


# --- clinical-shaped rule bases ---------------------------------------------------------------


def _leaf(finding: m.Finding, rng: random.Random) -> m.Test:
    kind = finding.type
    if kind == "boolean":
        return m.Test(finding.id, "eq", rng.random() < 0.85, HERE)
    if kind == "sided":
        return m.Test(finding.id, "eq", rng.choice([True, True, "left", "right"]), HERE)
    if kind == "enum":
        if rng.random() < 0.5 and len(finding.values) > 2:
            return m.Test(finding.id, "in", tuple(rng.sample(finding.values, 2)), HERE)
        return m.Test(finding.id, "eq", rng.choice(finding.values), HERE)
    low = finding.minimum if finding.minimum is not None else 0
    high = finding.maximum if finding.maximum is not None else 100
    threshold = round(low + (high - low) * rng.uniform(0.2, 0.8))
    return m.Test(finding.id, rng.choice(["gt", "ge", "lt", "le"]), threshold, HERE)


def clinical_kb(kb: m.KnowledgeBase, n_rules: int, seed: int = 1) -> m.KnowledgeBase:
    """A rule base of `n_rules` rules shaped like clinical rules, over the KB's vocabulary."""
    rng = random.Random(seed)
    findings = [f for f in kb.findings.values()]
    by_kind: dict[str, list[str]] = {kind: sorted(c.id for c in kb.conclusions.values()
                                                  if c.kind == kind) for kind in m.CONCLUSION_KINDS}
    rank = {cid: i for i, cid in enumerate(by_kind["red_flag"] + by_kind["condition"] +
                                           by_kind["cause"])}
    rules: list[m.Rule] = []
    concluded_so_far: set[str] = set()
    bands = ["red_flag"] * 2 + ["condition"] * 4 + ["cause"] * 3 + ["advice"]
    muscles = sorted(kb.muscles)
    for index in range(n_rules):
        band = rng.choice(bands)
        concludes = rng.choice(by_kind[band]) if band != "advice" else ""
        parts: list[m.Cond] = [_leaf(rng.choice(findings), rng) for _ in range(rng.randint(1, 3))]
        shape = rng.random()
        if shape < 0.25:
            parts.append(m.AnyOf(tuple(_leaf(rng.choice(findings), rng)
                                       for _ in range(rng.randint(2, 3))), HERE))
        elif shape < 0.40:
            parts.append(m.Not(_leaf(rng.choice(findings), rng), HERE))
        elif shape < 0.50:
            size = rng.randint(4, 5)
            cluster = tuple(_leaf(rng.choice(findings), rng) for _ in range(size))
            parts = [*parts[:1], m.AtLeast(rng.randint(2, 3), cluster, HERE)]
        readable = sorted(c for c in concluded_so_far
                          if not concludes or rank[c] < rank[concludes])
        if readable and rng.random() < (0.7 if band == "advice" else 0.25):
            parts.insert(0, m.Concluded(rng.choice(readable), HERE,
                                        rng.choice([0.0, 0.0, 0.3, 0.5])))
        if concludes:
            concluded_so_far.add(concludes)
        kind = band if band != "advice" else ""
        rules.append(m.Rule(
            id=f"synth_{index:04d}_{band}", title=f"synthetic rule {index}", band=band,
            when=m.All(tuple(parts), HERE), location=HERE, order=index, concludes=concludes,
            kind=kind, certainty=round(rng.uniform(0.2, 0.9), 2),
            stretch=tuple(rng.sample(muscles, 1)) if muscles and rng.random() < 0.3 else (),
            strengthen=tuple(rng.sample(muscles, 1)) if muscles and rng.random() < 0.3 else (),
            because="synthetic"))
    return replace(kb, rules=tuple(rules), tests=())
