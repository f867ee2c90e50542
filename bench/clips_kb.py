"""The knowledge base translated to CLIPS and run through clipspy: the native reference.

Two uses: the benchmark measures experta against the engine it imitates, and the differential
check (tests/test_clips_differential.py, bench/run.py) compares what both conclude. This module
is written independently of `engine.inference.compiler` and `engine.inference.premises` so that a
shared mistake is unlikely: its own negation push-down for the left-hand sides, and its own
three-valued evaluation (CLIPS deffunctions) for the premise certainty on the right-hand side.

How a KB rule reads in CLIPS:

    (defrule r_<id> (declare (salience S))
      <condition, negation pushed to the leaves, at_least expanded into its combinations>
      (not (fired (rule <id>)))   ; a KB rule fires at most once per case (last, so that a
      =>                          ; reset does not make a partial match for every rule)
      (assert (fired (rule <id>)))
      (conclude <id> <conclusion> <rule certainty> <urgency> <premise certainty>))

Findings are `(finding (id F) (value V))` facts (booleans are the symbols TRUE/FALSE, sides and
enum values are strings); conclusions are `(conclusion (id C) (cf X) (urgency U))` facts. The
premise certainty is evaluated in CLIPS over the whole condition in three values (true with a
certainty, false as 0, unknown as -1), so `any` takes the strongest true part, `at_least N` the
N-th strongest, and a finding counts as 1. Certainties combine as EMYCIN's (`a + b (1 - a)` for
support, `a + b (1 + a)` for two against, `(a + b) / (1 - min(|a|, |b|))` for mixed signs; a rule
with `against: true` contributes a negative factor) and are rounded to 6 decimals after each step,
as the engine does, by the one rule both sides share (`engine.inference.premises.round_cf`:
scale by 10**6, add or subtract 0.5, truncate toward zero, divide back; the same double
operations in both, so certainties agree to the bit and the differential check can use a
tolerance far below a rounding step).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import clips

from engine.inference.compiler import firing_order
from engine.kb import model as m

SIDES = ("left", "right", "bilateral")
# Both sides round every certainty by the same rule to 6 decimals, so a certainty may differ
# only by float noise far below that; a tie rounded the other way differs by 1e-6 and fails.
CF_TOLERANCE = 1e-9
URGENCY_RANK = {"emergency": 0, "urgent": 1, "soon": 2}

PRELUDE = r"""
(deftemplate finding (slot id (type SYMBOL)) (slot value))
(deftemplate conclusion (slot id (type SYMBOL)) (slot cf (type FLOAT)) (slot urgency (default nil)))
(deftemplate fired (slot rule (type SYMBOL)))
(deftemplate mismatch (slot rule (type SYMBOL)) (slot premise))

(deffunction round6 (?x)
  (bind ?s (* ?x 1000000.0))
  (/ (if (>= ?s 0) then (integer (+ ?s 0.5)) else (integer (- ?s 0.5))) 1000000.0))

(deffunction fval (?id)
  (bind ?found (find-fact ((?f finding)) (eq ?f:id ?id)))
  (if (= (length$ ?found) 0) then UNKNOWN else (fact-slot-value (nth$ 1 ?found) value)))

(deffunction ccf (?id)
  (bind ?found (find-fact ((?c conclusion)) (eq ?c:id ?id)))
  (if (= (length$ ?found) 0) then 0.0 else (fact-slot-value (nth$ 1 ?found) cf)))

(deffunction t-concluded (?id ?low)
  (bind ?cf (ccf ?id))
  (if (and (> ?cf 0) (>= ?cf ?low)) then ?cf else 0))

(deffunction t-not (?x)
  (if (< ?x 0) then -1 else (if (> ?x 0) then 0 else 1.0)))

(deffunction t-all ($?xs)
  (bind ?unknown FALSE)
  (bind ?low 1.0)
  (foreach ?x ?xs
    (if (= ?x 0) then (return 0))
    (if (< ?x 0) then (bind ?unknown TRUE) else (bind ?low (min ?low ?x))))
  (if ?unknown then -1 else ?low))

(deffunction t-any ($?xs)
  (bind ?unknown FALSE)
  (bind ?high 0)
  (foreach ?x ?xs
    (if (< ?x 0) then (bind ?unknown TRUE) else (bind ?high (max ?high ?x))))
  (if (> ?high 0) then ?high else (if ?unknown then -1 else 0)))

(deffunction t-at-least (?n $?xs)
  (bind ?true (create$))
  (bind ?unknown 0)
  (foreach ?x ?xs
    (if (< ?x 0) then (bind ?unknown (+ ?unknown 1))
     else (if (> ?x 0) then (bind ?true (create$ ?true ?x)))))
  (if (>= (length$ ?true) ?n) then (return (nth$ ?n (sort < ?true))))
  (if (< (+ (length$ ?true) ?unknown) ?n) then 0 else -1))

(deffunction more-urgent (?a ?b)
  (if (eq ?a nil) then (return ?b))
  (if (eq ?b nil) then (return ?a))
  (bind ?order (create$ emergency urgent soon))
  (if (< (member$ ?a ?order) (member$ ?b ?order)) then ?a else ?b))

(deffunction emycin (?a ?b)
  (if (and (>= ?a 0) (>= ?b 0)) then (return (+ ?a (* ?b (- 1.0 ?a)))))
  (if (and (<= ?a 0) (<= ?b 0)) then (return (+ ?a (* ?b (+ 1.0 ?a)))))
  (bind ?d (- 1.0 (min (abs ?a) (abs ?b))))
  (if (<= ?d 0) then 0.0 else (/ (+ ?a ?b) ?d)))

(deffunction conclude (?rule ?concl ?certainty ?level ?premise)
  (if (<= ?premise 0) then
    (assert (mismatch (rule ?rule) (premise ?premise)))
    (return))
  (if (eq ?concl nil) then (return))
  (bind ?contribution (round6 (* ?certainty ?premise)))
  (bind ?found (find-fact ((?c conclusion)) (eq ?c:id ?concl)))
  (if (= (length$ ?found) 0) then
    (assert (conclusion (id ?concl) (cf (round6 ?contribution)) (urgency ?level)))
   else
    (bind ?f (nth$ 1 ?found))
    (bind ?before (fact-slot-value ?f cf))
    (modify ?f (cf (round6 (emycin ?before ?contribution)))
               (urgency (more-urgent (fact-slot-value ?f urgency) ?level)))))

(deffunction load-case ($?pairs)
  (loop-for-count (?i 1 (div (length$ ?pairs) 2))
    (assert (finding (id (nth$ (- (* 2 ?i) 1) ?pairs)) (value (nth$ (* 2 ?i) ?pairs))))))

(deffunction results ()
  ; One string, one record a line-free run of four words, read back with str.split: clipspy
  ; converts each value of a returned multifield into a Python object (microseconds each),
  ; and building a multifield with create$ in a loop copies it on every append. A string is
  ; one conversion; str-cat copies the characters so far per record (a few hundred bytes).
  (bind ?out "")
  (do-for-all-facts ((?c conclusion)) TRUE
    (bind ?out (str-cat ?out "conclusion " ?c:id " " ?c:cf " " ?c:urgency " ")))
  (do-for-all-facts ((?f fired)) TRUE
    (bind ?out (str-cat ?out "fired " ?f:rule " " (fact-index ?f) " nil ")))
  (do-for-all-facts ((?x mismatch)) TRUE
    (bind ?out (str-cat ?out "mismatch " ?x:rule " " ?x:premise " nil ")))
  ?out)

(deffunction assess-case ($?pairs)
  ; the whole case in one call from Python: reset, assert the findings, run, read the results
  (reset)
  (load-case ?pairs)
  (run)
  (results))
"""


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(float(value)) if isinstance(value, float) else str(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _equals(var: str, expected: Any, sided: bool) -> str:
    """CLIPS test that the finding's value `var` equals `expected` as the rule language means it."""
    if isinstance(expected, bool):
        if sided and expected:  # `true` on a sided finding: present on any side
            sides = " ".join(f'(eq {var} "{side}")' for side in SIDES)
            return f"(or (eq {var} TRUE) {sides})"
        return f"(eq {var} {_literal(expected)})"
    if isinstance(expected, (int, float)):
        return f"(and (numberp {var}) (= {var} {_literal(expected)}))"
    if sided and expected in SIDES:  # bilateral symptoms are present on the side asked about
        return f'(or (eq {var} {_literal(expected)}) (eq {var} "bilateral"))'
    return f"(eq {var} {_literal(expected)})"


_COMPARE = {"lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def leaf_expr(test: m.Test, finding_type: str, var: str) -> str:
    """A CLIPS boolean expression of `var` (a known value) for one finding test."""
    sided = finding_type == "sided"
    if test.op == "eq":
        return _equals(var, test.value, sided)
    if test.op == "ne":
        return f"(not {_equals(var, test.value, sided)})"
    if test.op == "in":
        return "(or " + " ".join(_equals(var, v, sided) for v in test.value) + ")"
    if isinstance(test.value, (int, float)) and not isinstance(test.value, bool):
        return f"(and (numberp {var}) ({_COMPARE[test.op]} {var} {_literal(test.value)}))"
    raise NotImplementedError(f"no CLIPS translation for {test.finding} {test.op} {test.value!r}")


class _RuleWriter:
    """Writes one rule's left-hand side and premise expression."""

    def __init__(self, kb: m.KnowledgeBase) -> None:
        self.kb = kb
        self.counter = 0

    def _type(self, finding: str) -> str:
        found = self.kb.findings.get(finding)
        return found.type if found else "boolean"

    def lhs(self, cond: m.Cond, negate: bool = False) -> str:
        """Conditional elements: a leaf under `not` means 'known, and the test fails'."""
        if isinstance(cond, m.Test):
            self.counter += 1
            var = f"?v{self.counter}"
            expr = leaf_expr(cond, self._type(cond.finding), var)
            if negate:
                expr = f"(not {expr})"
            return f"(finding (id {cond.finding}) (value {var}&:{expr}))"
        if isinstance(cond, m.Concluded):
            self.counter += 1
            var = f"?c{self.counter}"
            pattern = (f"(conclusion (id {cond.conclusion}) "
                       f"(cf {var}&:(and (> {var} 0) (>= {var} {float(cond.min_certainty)}))))")
            return f"(not {pattern})" if negate else pattern
        if isinstance(cond, m.Not):
            return self.lhs(cond.item, not negate)
        if isinstance(cond, m.AtLeast):
            need = len(cond.items) - cond.count + 1 if negate else cond.count
            options = []
            for combo in itertools.combinations(cond.items, need):
                options.append("(and " + " ".join(self.lhs(item, negate) for item in combo) + ")")
            return options[0] if len(options) == 1 else "(or " + " ".join(options) + ")"
        conjunctive = isinstance(cond, m.All) != negate
        parts = " ".join(self.lhs(item, negate) for item in cond.items)
        return f"({'and' if conjunctive else 'or'} {parts})"

    def premise(self, cond: m.Cond) -> str:
        """A CLIPS expression: >0 the premise certainty when true, 0 false, -1 unknown."""
        if isinstance(cond, m.Test):
            expr = leaf_expr(cond, self._type(cond.finding), "?x")
            return (f"(if (eq (bind ?x (fval {cond.finding})) UNKNOWN) then -1 "
                    f"else (if {expr} then 1.0 else 0))")
        if isinstance(cond, m.Concluded):
            return f"(t-concluded {cond.conclusion} {float(cond.min_certainty)})"
        if isinstance(cond, m.Not):
            return f"(t-not {self.premise(cond.item)})"
        parts = " ".join(self.premise(item) for item in cond.items)
        if isinstance(cond, m.All):
            return f"(t-all {parts})"
        if isinstance(cond, m.AnyOf):
            return f"(t-any {parts})"
        return f"(t-at-least {cond.count} {parts})"


def translate(kb: m.KnowledgeBase) -> str:
    """The whole KB as CLIPS source (prelude plus one defrule per KB rule)."""
    ordered = firing_order(kb)
    if len(ordered) > 10000:
        raise ValueError("CLIPS salience stops at 10000; too many rules for this translation")
    out = [PRELUDE]
    total = len(ordered)
    for position, rule in enumerate(ordered):
        writer = _RuleWriter(kb)
        lhs = writer.lhs(rule.when)
        premise = writer.premise(rule.when)
        concl = rule.concludes or "nil"
        level = "nil"
        if rule.concludes and (rule.urgency or rule.kind == "red_flag"):
            level = rule.urgency or kb.conclusions[rule.concludes].urgency or "nil"
        out.append(
            f"(defrule r_{rule.id}\n"
            f"  (declare (salience {total - position}))\n"
            f"  {lhs}\n"
            f"  (not (fired (rule {rule.id})))\n"
            f"  =>\n"
            f"  (assert (fired (rule {rule.id})))\n"
            f"  (conclude {rule.id} {concl} {-rule.certainty if rule.against else rule.certainty} "
            f"{level} {premise}))\n")
    return "\n".join(out)


@dataclass(frozen=True)
class ClipsResult:
    """What CLIPS concluded for one case."""

    certainty: dict[str, float]
    urgency: dict[str, str]
    fired: tuple[str, ...]
    mismatches: tuple[tuple[str, float], ...]

    @property
    def triage(self) -> str:
        if not self.urgency:
            return "routine"
        return min(self.urgency.values(), key=URGENCY_RANK.__getitem__)


class ClipsReasoner:
    """A CLIPS environment holding the translated KB; `run(facts)` assesses one case."""

    def __init__(self, kb: m.KnowledgeBase) -> None:
        self.kb = kb
        self.source = translate(kb)
        self.env = clips.Environment()
        for construct in _constructs(self.source):
            self.env.build(construct)
        # Facts go in through one deffunction call: clipspy's template.assert_fact leaves
        # garbage behind that makes every later call slower (about 0.3 us more per case run).
        self._load = self.env.find_function("load-case")
        self._assess = self.env.find_function("assess-case")
        self._symbols = {fid: clips.Symbol(fid) for fid in kb.findings}

    def _pairs(self, facts: Mapping[str, Any]) -> list[Any]:
        symbols = self._symbols
        pairs: list[Any] = []
        for fid, value in facts.items():
            pairs.append(symbols.get(fid) or clips.Symbol(fid))
            pairs.append(value)
        return pairs

    def run(self, facts: Mapping[str, Any]) -> ClipsResult:
        """Assess one case: one call into CLIPS (reset, assert, run, results as one string)."""
        words = str(self._assess(*self._pairs(facts))).split()
        certainty: dict[str, float] = {}
        urgency: dict[str, str] = {}
        fired: list[tuple[int, str]] = []
        mismatches: list[tuple[str, float]] = []
        for i in range(0, len(words), 4):
            kind, name, number, level = words[i:i + 4]
            if kind == "conclusion":
                certainty[name] = float(number)
                if level != "nil":
                    urgency[name] = level
            elif kind == "fired":
                fired.append((int(number), name))
            else:
                mismatches.append((name, float(number)))
        return ClipsResult(certainty, urgency, tuple(r for _, r in sorted(fired)), tuple(mismatches))

    def load(self, facts: Mapping[str, Any]) -> None:
        """Reset and assert a case's findings without running (to time CLIPS's `run` alone)."""
        self.env.reset()
        self._load(*self._pairs(facts))

    def run_only(self) -> None:
        """CLIPS's inference alone on the case `load` asserted: no round trip for results."""
        self.env.run()


def disagreement(certainty: Mapping[str, float], urgency: Mapping[str, str], triage: str,
                 fired: tuple[str, ...], theirs: ClipsResult) -> str:
    """'' when an engine's results equal CLIPS's (certainties to `CF_TOLERANCE`), else what
    differs first. Shared by the test suite and bench/run.py."""
    if theirs.mismatches:
        return f"CLIPS fired a rule whose premise it evaluates as not true: {theirs.mismatches}"
    if set(certainty) != set(theirs.certainty):
        return f"conclusions {sorted(certainty)} vs {sorted(theirs.certainty)}"
    for cid, cf in certainty.items():
        if abs(cf - theirs.certainty[cid]) > CF_TOLERANCE:
            return f"certainty of {cid}: {cf!r} vs {theirs.certainty[cid]!r}"
    if dict(urgency) != theirs.urgency or triage != theirs.triage:
        return f"triage {triage} {dict(urgency)} vs {theirs.triage} {theirs.urgency}"
    if fired != theirs.fired:
        return f"firing order {fired} vs {theirs.fired}"
    return ""


def _constructs(source: str) -> list[str]:
    """Split CLIPS source into top-level constructs (clipspy builds one at a time)."""
    out: list[str] = []
    depth = 0
    start = None
    in_string = False
    previous = ""
    for i, ch in enumerate(source):
        if in_string:
            if ch == '"' and previous != "\\":
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == ";" and depth == 0:
            pass
        elif ch == "(":
            if depth == 0:
                start = i
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0 and start is not None:
                out.append(source[start:i + 1])
                start = None
        previous = ch
    return out


__all__ = ["CF_TOLERANCE", "ClipsReasoner", "ClipsResult", "disagreement", "leaf_expr", "translate"]
