"""The fair race: experta against CLIPS and against a plain-Python fixpoint, per case, on cases
no engine has seen, and growth with cases that reach the added rules.

What makes it fair (issue 17, "the CLIPS comparison flatters us"):

- Cold cases: every timed case is drawn fresh for the section and timed on its FIRST run in
  every engine. The engine keeps no per-case or per-premise memo any more, so a second run of
  the same case (warm) costs the same; both are reported so that can be checked.
- CLIPS pays one call per case: `ClipsReasoner.run` resets, asserts the findings, runs and
  returns the results as one string (bench/clips_kb.py): no per-value clipspy conversion, no
  multifield grown by `create$` in a loop. CLIPS's `run` alone (inference, no round trip) is
  reported beside it.
- One meaning of a result: certainties are rounded by the one shared rule, and the
  differential check (run before timing) compares them to 1e-9.
- The plain-Python fixpoint (bench/pyfix.py) runs the same compiled premises with no engine,
  which is the floor an engine on top of Python can aim at.
- Realistic mixes: sparse (1-5 findings), typical (3-30), dense (half the vocabulary), all
  findings known, and red-flag heavy (the red-flag rules' findings present, plus 3-15 others).
- Growth: renamed copies of the KB (bench/synth.py `grow_kb`). The target reads cases of the
  original vocabulary each moved wholly into one random copy, so they reach the added rules and
  do the same work at every size; cases drawn from the whole grown vocabulary (bigger cases)
  and all cases in one copy (a diagnostic) are reported beside them (`growth_cases`).

Timing. Per case (`race`): each case runs in experta, the fixpoint and CLIPS one after the
other (the order rotating from case to case), so a burst of load from other processes hits all
three alike. Growth (`blocks`): each engine runs a block of cases on its own, as a batch runs
one engine, the engines and KB sizes taking turns block by block; at 10x the three engines'
tables no longer fit the processor's caches together, and timing them case by case made each
pay for the others' evictions (the earlier design is kept as a labelled row, `interleaved`).
Figures are medians of per-case times, ratios are of those medians, from the same run; the
growth ratio has a 95% interval from resampling rounds of blocks (`ratio_interval`).
"""

from __future__ import annotations

import gc
import json
import random
import re
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.clips_kb import CF_TOLERANCE, ClipsReasoner, disagreement
from bench.pyfix import Fixpoint
from bench.synth import grow_kb, move_into_copy, random_facts, random_value, spread_over_copies
from engine.inference.reasoner import Reasoner
from engine.kb import model as m

Facts = dict[str, Any]
COPY = re.compile(r"_c\d+$")  # the suffix grow_kb gives a copied rule's id


# --- case mixes -----------------------------------------------------------------------------------


def red_flag_findings(kb: m.KnowledgeBase) -> list[str]:
    return sorted({f for r in kb.rules if r.band == "red_flag" for f in r.findings_used()
                   if f in kb.findings})


def mixes(kb: m.KnowledgeBase, n: int, seed: int) -> dict[str, list[Facts]]:
    """Fresh cases of each mix (see the module docstring)."""
    rng = random.Random(seed)
    everything = sorted(kb.findings)
    red = red_flag_findings(kb)
    half = len(everything) // 2

    def red_heavy() -> Facts:
        facts = random_facts(kb, rng, rng.randint(3, 15))
        for fid in rng.sample(red, min(len(red), rng.randint(3, 8))):
            finding = kb.findings[fid]
            facts[fid] = True if finding.type in ("boolean", "sided") else random_value(finding, rng)
        return facts

    return {
        "sparse (1-5 findings)": [random_facts(kb, rng, rng.randint(1, 5)) for _ in range(n)],
        "typical (3-30 findings)": [random_facts(kb, rng, rng.randint(3, 30)) for _ in range(n)],
        f"dense ({half} findings, half the vocabulary)": [random_facts(kb, rng, half)
                                                            for _ in range(n)],
        f"all {len(everything)} findings known": [random_facts(kb, rng, len(everything))
                                                  for _ in range(n)],
        "red-flag heavy": [red_heavy() for _ in range(n)],
    }


# --- timing -----------------------------------------------------------------------------------------


def race(runners: dict[str, Callable[[Facts], Any]], cases: list[Facts]) -> dict[str, list[float]]:
    """Per-case seconds of each runner, each case run by all of them in rotating order."""
    names = list(runners)
    out: dict[str, list[float]] = {name: [] for name in names}
    clock = time.perf_counter
    gc.collect()
    for i, facts in enumerate(cases):
        for k in range(len(names)):
            name = names[(i + k) % len(names)]
            run = runners[name]
            start = clock()
            run(facts)
            out[name].append(clock() - start)
    return out


def med_us(samples: list[float]) -> float:
    return statistics.median(samples) * 1e6


def runners_for(kb: m.KnowledgeBase) -> tuple[Reasoner, Fixpoint, ClipsReasoner,
                                              dict[str, Callable[[Facts], Any]]]:
    reasoner, fixpoint, clips = Reasoner(kb), Fixpoint(kb), ClipsReasoner(kb)
    return reasoner, fixpoint, clips, {"experta": reasoner.run, "fixpoint": fixpoint.run,
                                       "CLIPS": clips.run}


def check(reasoner: Reasoner, clips: ClipsReasoner, fixpoint: Fixpoint,
          cases: list[Facts]) -> list[str]:
    """Differential check of experta against CLIPS and the fixpoint on `cases` (on copies, so
    the timed cases stay unseen); '' entries are dropped."""
    problems = []
    for facts in cases:
        engine = reasoner.run(dict(facts))
        triage = (min(engine.urgency.values(), key=m.urgency_rank) if engine.urgency
                  else "routine")
        problem = disagreement(engine.certainty, engine.urgency, triage, tuple(engine.fired),
                               clips.run(dict(facts)))
        ref = fixpoint.run(dict(facts))
        if not problem and (ref.fired, ref.certainty) != (tuple(engine.fired), engine.certainty):
            problem = f"fixpoint differs: {ref.fired} vs {engine.fired}"
        if problem:
            problems.append(f"{problem} for {facts}")
    return problems


def per_case(kb: m.KnowledgeBase, label: str, n: int) -> tuple[list[list[Any]], dict[str, float],
                                                                list[str]]:
    """Rows for the per-case table, the ratios the targets read, and any mismatches."""
    reasoner, fixpoint, clips, runners = runners_for(kb)
    problems = check(reasoner, clips, fixpoint, [c for cs in mixes(kb, 300, 99).values() for c in cs])
    rows: list[list[Any]] = []
    ratios: dict[str, float] = {}
    for mix, cases in mixes(kb, n, 2026).items():
        cold = race(runners, cases)
        warm = race(runners, cases)  # the same cases again
        run_only = []
        for facts in cases[: min(len(cases), 2000)]:
            clips.load(facts)
            start = time.perf_counter()
            clips.run_only()
            run_only.append(time.perf_counter() - start)
        fired = statistics.mean(len(reasoner.run(f).fired) for f in cases[:500])
        e, p, c = med_us(cold["experta"]), med_us(cold["fixpoint"]), med_us(cold["CLIPS"])
        ratios[f"{mix}|clips"] = e / c
        ratios[f"{mix}|fixpoint"] = e / p
        rows.append([label, len(kb.rules), mix, len(cases), f"{fired:.1f}", f"{e:.0f}",
                     f"{med_us(warm['experta']):.0f}", f"{p:.0f}", f"{c:.0f}",
                     f"{med_us(run_only):.0f}", f"{e / c:.2f}", f"{e / p:.2f}"])
    return rows, ratios, problems


PER_CASE_HEAD = ["KB", "rules", "mix", "cases", "rules fired per case", "experta us (cold)",
                 "experta us (warm)", "fixpoint us", "CLIPS us (one call)", "CLIPS run only us",
                 "experta / CLIPS", "experta / fixpoint"]


# --- growth -----------------------------------------------------------------------------------------

# How the growth cases are made (bench/README.md). Each design's cases at a size are fresh for it.
SAME_WORK = "same work: each case moved into one copy"
WHOLE_VOCABULARY = "whole grown vocabulary (bigger cases)"
ONE_COPY = "diagnostic: every case in the last copy"
# The same-work cases timed as the growth section did before: the engines take turns case by
# case, so at 10x each evicts the others' ten-times-bigger tables from the caches between cases.
SAME_WORK_INTERLEAVED = "same work, engines interleaved case by case (earlier design)"
GROWTH_DESIGNS = (SAME_WORK, SAME_WORK_INTERLEAVED, WHOLE_VOCABULARY, ONE_COPY)


def growth_cases(base: m.KnowledgeBase, kb: m.KnowledgeBase, factor: int, design: str,
                 n: int) -> list[Facts]:
    """`n` cases of 3-30 findings for the grown `kb` (`factor` copies of `base`) by `design`:

    - SAME_WORK: cases of the original vocabulary, the same at every size, each moved wholly
      into one copy chosen at random (`synth.spread_over_copies`): at 10x nine in ten reach only
      added rules, and every case does the work it does at 1x. The ratio to 1x isolates the
      number of rules; the growth target reads this design. SAME_WORK_INTERLEAVED: the same
      cases, timed the earlier way (see `growth`).
    - WHOLE_VOCABULARY: findings drawn from the whole grown vocabulary, so a case's findings fall
      in many copies and reach about `factor` times more distinct rules than the same number of
      findings at 1x (where they overlap in the same rules): bigger cases, not only more rules.
    - ONE_COPY: the SAME_WORK cases all moved into the last copy: the engine's tables are as big
      as in SAME_WORK but every case touches the same few rules, so what SAME_WORK adds on top
      of this is the memory the cases spread over (caches), not work that grows with the KB.
    """
    if design == WHOLE_VOCABULARY:
        rng = random.Random(factor)
        return [random_facts(kb, rng, rng.randint(3, 30)) for _ in range(n)]
    rng = random.Random(2027)
    originals = [random_facts(base, rng, rng.randint(3, 30)) for _ in range(n)]
    if design == ONE_COPY:
        return [move_into_copy(facts, factor - 1) for facts in originals]
    return spread_over_copies(originals, factor, random.Random(7))


BLOCK = 100  # cases per block (see `blocks`)
Unit = tuple[int, str]  # (KB size factor, engine name)


def blocks(runners: dict[Unit, Callable[[Facts], Any]], cases: dict[int, list[Facts]],
           block: int = BLOCK) -> dict[Unit, list[list[float]]]:
    """Per-case seconds of each unit (one engine on one KB size), grouped by round.

    In round r every unit runs block r of its size's cases ALONE, case after case, timing each;
    the units take turns, their order rotating from round to round. So an engine's figure is its
    own, as in a real batch, which runs one engine: at 10x each engine's data (experta's
    compiled rules and index, the fixpoint's closures, CLIPS's network) is ten times bigger, and
    running the three case by case made them evict each other from the processor's caches on
    every case. A change of load on the machine still falls on every unit alike, and each case
    is still run once per engine (cold).

    Each case is decoded from JSON just before it runs (untimed), as a batch reads a line and
    then assesses it: its finding ids are then new strings, in memory just written, at every
    size. Run from prepared dicts, a 1x case's ids were the KB's own strings (shared by every
    case, always in the caches) while a grown case's renamed ids were strings made when the
    cases were drawn, long out of the caches: a cost of the benchmark, not of the rules."""
    units = list(runners)
    out: dict[Unit, list[list[float]]] = {unit: [] for unit in units}
    encoded = {factor: [json.dumps(facts) for facts in found] for factor, found in cases.items()}
    clock, decode = time.perf_counter, json.loads
    gc.collect()
    n = min(len(found) for found in cases.values())
    for r, first in enumerate(range(0, n, block)):
        for k in range(len(units)):
            unit = units[(r + k) % len(units)]
            run = runners[unit]
            samples = []
            for text in encoded[unit[0]][first:first + block]:
                facts = decode(text)
                start = clock()
                run(facts)
                samples.append(clock() - start)
            out[unit].append(samples)
    return out


def interleaved(runners: dict[Unit, Callable[[Facts], Any]], cases: dict[int, list[Facts]],
                block: int = BLOCK) -> dict[Unit, list[list[float]]]:
    """The earlier growth timing, kept as a labelled row: the sizes take turns by block, and in
    a block each case runs in every engine one after the other (`race`)."""
    factors = list(dict.fromkeys(f for f, _name in runners))
    out: dict[Unit, list[list[float]]] = {unit: [] for unit in runners}
    n = min(len(found) for found in cases.values())
    for r, first in enumerate(range(0, n, block)):
        for k in range(len(factors)):
            factor = factors[(r + k) % len(factors)]
            engines = {name: run for (f, name), run in runners.items() if f == factor}
            for name, samples in race(engines, cases[factor][first:first + block]).items():
                out[(factor, name)].append(samples)
    return out


def ratio_interval(grown: list[list[float]], small: list[list[float]], seed: int = 1,
                   resamples: int = 400) -> tuple[float, float, float]:
    """The ratio of the pooled medians of `grown` and `small` (per-case times grouped by round,
    rounds paired), and its 95% interval from resampling whole rounds with replacement: how much
    the figure would move if the run were repeated on this machine under the same load."""
    def pooled(rounds: list[list[float]], picks: list[int]) -> float:
        return statistics.median([x for r in picks for x in rounds[r]])

    rounds = list(range(min(len(grown), len(small))))
    rng = random.Random(seed)
    ratios = sorted(pooled(grown, picks) / pooled(small, picks)
                    for picks in ([rng.choice(rounds) for _ in rounds] for _ in range(resamples)))
    return (pooled(grown, rounds) / pooled(small, rounds), ratios[int(0.025 * resamples)],
            ratios[int(0.975 * resamples) - 1])


def growth(base: m.KnowledgeBase, label: str, n: int, factors: tuple[int, ...],
           designs: tuple[str, ...] = GROWTH_DESIGNS) -> tuple[
        list[list[Any]], list[list[Any]], dict[tuple[str, int], tuple[float, float, float, float]]]:
    """Growth rows (one per design and size), compile rows (one per size), and for each
    (design, factor) experta's ratio to 1x with its 95% interval and the fixpoint's ratio.

    Every size is compiled first; then, for each design, the cases are timed in rounds of
    `BLOCK` cases per engine and size (`blocks`; SAME_WORK_INTERLEAVED: `interleaved`); a KB
    of light cases gets more of them (`enough_cases`)."""
    rows: list[list[Any]] = []
    compile_rows: list[list[Any]] = []
    ratios: dict[tuple[str, int], tuple[float, float, float, float]] = {}
    kbs: dict[int, tuple[m.KnowledgeBase, Reasoner]] = {}
    runners: dict[Unit, Callable[[Facts], Any]] = {}
    for factor in factors:
        kb = grow_kb(base, factor)
        times = []
        for _ in range(3):
            gc.collect()
            start = time.perf_counter()
            reasoner = Reasoner(kb)
            times.append((time.perf_counter() - start) * 1000)
        compile_rows.append([label, f"{factor}x", len(kb.rules),
                             f"{statistics.median(times):.0f}"])
        kbs[factor] = (kb, reasoner)
        runners[(factor, "experta")] = reasoner.run
        runners[(factor, "fixpoint")] = Fixpoint(kb).run
        if len(kb.rules) <= 10_000:
            runners[(factor, "CLIPS")] = ClipsReasoner(kb).run
    small = factors[0]
    n = enough_cases(kbs[small][1], base, n)
    for design in designs:
        made = SAME_WORK if design == SAME_WORK_INTERLEAVED else design
        cases = {f: growth_cases(base, kbs[f][0], f, made, n) for f in factors}
        timed = (interleaved if design == SAME_WORK_INTERLEAVED else blocks)(runners, cases)
        for factor in factors:
            kb, reasoner = kbs[factor]
            sample = cases[factor][:500]
            fired_ids = [tuple(reasoner.run(f).fired) for f in sample]
            evaluated = statistics.mean(reasoner.run(f).matcher.evaluations for f in sample)
            fired = statistics.mean(len(ids) for ids in fired_ids)
            in_copies = (sum(1 for ids in fired_ids for r in ids if COPY.search(r))
                         / max(sum(len(ids) for ids in fired_ids), 1))
            e_ratio, low, high = ratio_interval(timed[(factor, "experta")],
                                                timed[(small, "experta")])
            p_ratio = med_us(_pool(timed[(factor, "fixpoint")])) / med_us(
                _pool(timed[(small, "fixpoint")]))
            ratios[(design, factor)] = (e_ratio, low, high, p_ratio)
            e, p = med_us(_pool(timed[(factor, "experta")])), med_us(_pool(timed[(factor, "fixpoint")]))
            clips = timed.get((factor, "CLIPS"))
            rows.append([f"{label} ({n:,} cases)", design, f"{factor}x", len(kb.rules),
                         f"{fired:.1f}",
                         f"{evaluated:.1f}", f"{100 * in_copies:.0f}%", f"{e:.0f}",
                         f"{e_ratio:.2f}", f"{p:.0f}", f"{p_ratio:.2f}", f"{e / p:.2f}",
                         f"{med_us(_pool(clips)):.0f}" if clips else "-",
                         "-" if factor == small else f"{low:.2f}-{high:.2f}"])
    return rows, compile_rows, ratios


SECONDS = 0.6  # least experta time per design and size at 1x (see `enough_cases`)


def enough_cases(reasoner: Reasoner, base: m.KnowledgeBase, n: int) -> int:
    """`n`, or more for a KB of light cases: enough that experta's cases at 1x take `SECONDS`
    (at most four times `n`, in whole blocks). The machine's noise comes in bursts of seconds,
    and a KB whose cases take 40 us ran its 4,000 in a fraction of one: two quiet runs then
    differed by 0.13 in the 10x ratio, against 0.04 with 16,000. Timed on 200 pilot cases of
    their own (the timed cases stay unseen)."""
    rng = random.Random(99)
    pilot = [random_facts(base, rng, rng.randint(3, 30)) for _ in range(200)]
    times = []
    for facts in pilot:
        start = time.perf_counter()
        reasoner.run(facts)
        times.append(time.perf_counter() - start)
    wanted = int(SECONDS / max(statistics.median(times), 1e-6))
    return max(n, min(4 * n, -(-wanted // BLOCK) * BLOCK))


def _pool(rounds: list[list[float]]) -> list[float]:
    return [x for samples in rounds for x in samples]


GROWTH_HEAD = ["KB", "cases", "size", "rules", "rules fired per case",
               "premises evaluated per case", "of the fired in added copies", "experta us/case",
               "experta vs 1x", "fixpoint us/case", "fixpoint vs 1x", "experta / fixpoint",
               "CLIPS us/case", "experta vs 1x, 95% interval"]
COMPILE_HEAD = ["KB", "size", "rules", "compile ms (median of 3)"]

__all__ = ["CF_TOLERANCE", "COMPILE_HEAD", "GROWTH_DESIGNS", "GROWTH_HEAD", "ONE_COPY",
           "PER_CASE_HEAD", "SAME_WORK", "SAME_WORK_INTERLEAVED", "WHOLE_VOCABULARY", "blocks",
           "growth", "growth_cases", "interleaved", "mixes", "per_case", "race", "ratio_interval"]
