"""What conditions mean: leaf predicates and three-valued evaluation.

The compiled experta rules and every explanation (WHY NOT, interview, lint) use the predicates
defined here, so a premise means the same thing everywhere. Unknown findings make a premise
unknown, never false: only `all/any/not/at_least` combine truth, in Kleene's three-valued logic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from engine.kb import model as m
from engine.kb.values import is_present

Truth = bool | None  # True, False, or None for unknown


def _eq(actual: Any, expected: Any, sided: bool) -> bool:
    if sided and expected is True:
        return is_present(actual)
    if sided and expected in m.SIDES and actual == "bilateral":
        return True  # bilateral symptoms are present on the side asked about
    return bool(actual == expected and isinstance(actual, bool) == isinstance(expected, bool))


OPERATORS: dict[str, Callable[[Any, Any, bool], bool]] = {
    "eq": _eq,
    "ne": lambda a, b, sided: not _eq(a, b, sided),
    "lt": lambda a, b, _s: a < b,
    "le": lambda a, b, _s: a <= b,
    "gt": lambda a, b, _s: a > b,
    "ge": lambda a, b, _s: a >= b,
    "in": lambda a, b, sided: any(_eq(a, item, sided) for item in b),
}


def predicate(test: m.Test, finding_type: str) -> Callable[[Any], bool]:
    """A one-argument test of a known value; shared by experta patterns and evaluation.

    The commonest tests get a direct check equal to what `OPERATORS` says (a boolean finding
    `eq true` is `value is True`: `_eq` wants an equal value of the same bool-ness; `gt 30` is
    one comparison), because the engine calls these on every premise it evaluates. Checks are
    shared: every test with the same operator, value and sidedness gets the same function, so
    a KB of thousands of rules holds a few hundred checks, not one per leaf (less memory for a
    case to touch as the KB grows)."""
    sided = finding_type == "sided"
    key = (test.op, sided, repr(test.value))  # repr: `eq true` and `eq 1` must not share
    check = _SHARED.get(key)
    if check is None:
        check = _SHARED[key] = _make_check(test.op, test.value, sided)
    return check


_SHARED: dict[tuple[str, bool, str], Callable[[Any], bool]] = {}


def _make_check(op: str, expected: Any, sided: bool) -> Callable[[Any], bool]:
    if op == "eq" and isinstance(expected, bool) and not (sided and expected):
        return _is_true if expected else _is_false
    if op == "eq" and sided and expected is True:
        return is_present
    if op in _ORDERINGS:
        return _ORDERINGS[op](expected)
    compare = OPERATORS[op]

    def check(actual: Any) -> bool:
        try:
            return bool(compare(actual, expected, sided))
        except TypeError:
            return False

    return check


def _is_true(actual: Any) -> bool:
    return actual is True


def _is_false(actual: Any) -> bool:
    return actual is False


def _less(bound: Any) -> Callable[[Any], bool]:
    def check(actual: Any) -> bool:
        try:
            return bool(actual < bound)
        except TypeError:
            return False
    return check


def _at_most(bound: Any) -> Callable[[Any], bool]:
    def check(actual: Any) -> bool:
        try:
            return bool(actual <= bound)
        except TypeError:
            return False
    return check


def _more(bound: Any) -> Callable[[Any], bool]:
    def check(actual: Any) -> bool:
        try:
            return bool(actual > bound)
        except TypeError:
            return False
    return check


def _at_least(bound: Any) -> Callable[[Any], bool]:
    def check(actual: Any) -> bool:
        try:
            return bool(actual >= bound)
        except TypeError:
            return False
    return check


# the same comparisons as OPERATORS' lt/le/gt/ge, one call fewer per check
_ORDERINGS: dict[str, Callable[[Any], Callable[[Any], bool]]] = {
    "lt": _less, "le": _at_most, "gt": _more, "ge": _at_least}


class Evaluator:
    """Evaluates conditions against known findings and the certainties concluded so far."""

    def __init__(self, kb: m.KnowledgeBase) -> None:
        self.kb = kb
        # by the test object's id, with the object kept beside its check: hashing a test by
        # value (its finding, operator, value and location) cost more than the check itself,
        # and the entry holds the test, so its id cannot be reused while the entry exists
        self._predicates: dict[int, tuple[m.Test, Callable[[Any], bool]]] = {}

    def test_truth(self, test: m.Test, findings: Mapping[str, Any]) -> Truth:
        if test.finding not in findings:
            return None
        entry = self._predicates.get(id(test))
        if entry is None or entry[0] is not test:
            finding = self.kb.findings.get(test.finding)
            entry = (test, predicate(test, finding.type if finding else "boolean"))
            self._predicates[id(test)] = entry
        return entry[1](findings[test.finding])

    def evaluate(self, cond: m.Cond, findings: Mapping[str, Any],
                 concluded: Mapping[str, float]) -> tuple[Truth, float]:
        """(truth, certainty of the premise); certainty is meaningful only when truth is True."""
        if isinstance(cond, m.Test):
            return self.test_truth(cond, findings), 1.0
        if isinstance(cond, m.Concluded):
            cf = concluded.get(cond.conclusion)
            if cf is None or cf < cond.min_certainty or cf <= 0:
                return False, 0.0
            return True, cf
        if isinstance(cond, m.Not):
            truth, _ = self.evaluate(cond.item, findings, concluded)
            return (None if truth is None else not truth), 1.0
        results = [self.evaluate(item, findings, concluded) for item in cond.items]
        truths = [t for t, _ in results]
        true_cfs = sorted((cf for t, cf in results if t is True), reverse=True)
        if isinstance(cond, m.All):
            if False in truths:
                return False, 0.0
            if None in truths:
                return None, 0.0
            return True, min(true_cfs)
        if isinstance(cond, m.AnyOf):
            if true_cfs:
                return True, true_cfs[0]
            return (None if None in truths else False), 0.0
        # at least N of
        n_true = len(true_cfs)
        n_unknown = truths.count(None)
        if n_true >= cond.count:
            return True, true_cfs[cond.count - 1]
        if n_true + n_unknown < cond.count:
            return False, 0.0
        return None, 0.0


    def support(self, cond: m.Cond, findings: Mapping[str, Any],
                concluded: Mapping[str, float]) -> tuple[set[str], set[str]]:
        """(finding ids, conclusion ids) that make a true `cond` true: every satisfied branch,
        not just the one the matcher happened to take, so evidence lists are complete. Under
        `not`, the known findings that rule the inner condition out are the support."""
        found: set[str] = set()
        used: set[str] = set()

        def walk(node: m.Cond, want: bool) -> None:
            truth, _ = self.evaluate(node, findings, concluded)
            if truth is not want:
                return
            if isinstance(node, m.Test):
                found.add(node.finding)
            elif isinstance(node, m.Concluded):
                if want:
                    used.add(node.conclusion)
            elif isinstance(node, m.Not):
                walk(node.item, not want)
            else:
                for item in node.items:
                    walk(item, want)

        walk(cond, True)
        return found, used


CF_PLACES = 6  # certainties are kept to 6 decimals after every step
_SCALE = 10.0 ** CF_PLACES


def round_cf(x: float) -> float:
    """A certainty to `CF_PLACES` decimals, ties away from zero, computed as `x * 10**6`,
    rounded to an integer, divided back: the same three double operations a C or CLIPS
    implementation does, so an independent one (bench/clips_kb.py, bench/pyfix.py) gets the
    same bits. Python's `round(x, 6)` rounds the exact binary value half to even instead, and
    disagreed with CLIPS in the sixth decimal on about 2% of random cases."""
    scaled = x * _SCALE
    whole = int(scaled + 0.5) if scaled >= 0 else int(scaled - 0.5)  # int() truncates toward 0
    return whole / _SCALE


def combine(cf1: float, cf2: float) -> float:
    """EMYCIN's parallel combination of two certainty factors in [-1, 1] for one conclusion
    (Buchanan & Shortliffe 1984, ch. 10; van Melle 1980): support adds up towards 1, evidence
    against (negative) towards -1, and mixed signs meet in between. Heckerman (1986) showed this is
    exactly multiplying likelihood ratios under CF = 1 - 1/LR (LR >= 1) and CF = LR - 1 (LR < 1),
    so the result does not depend on the order the rules fire in. With positive factors only it
    is MYCIN's `cf1 + cf2 (1 - cf1)`, as before."""
    if cf1 >= 0 and cf2 >= 0:
        return cf1 + cf2 * (1.0 - cf1)
    if cf1 <= 0 and cf2 <= 0:
        return cf1 + cf2 * (1.0 + cf1)
    denominator = 1.0 - min(abs(cf1), abs(cf2))
    return 0.0 if denominator <= 0 else (cf1 + cf2) / denominator


# --- can a `concluded:` premise still come true? ---------------------------------------------------


def ceiling(current: float, open_rules: Iterable[m.Rule]) -> float:
    """The most certainty a conclusion can still reach: what it has now, combined with every
    rule for it that is still open firing at full strength (evidence against only lowers)."""
    best = current
    for rule in open_rules:
        if not rule.against:
            best = combine(best, rule.certainty)
    return best


def concluded_truth(leaf: m.Concluded, current: float, reachable: float) -> Truth:
    """A `concluded:` premise in an open world, the one answer WHY NOT and the interview give:
    true once reached strongly enough (`min_certainty`), unknown while the open rules could
    still take it there (`reachable` is `ceiling(...)`), false when nothing can."""
    if current > 0 and current >= leaf.min_certainty:
        return True
    if reachable > 0 and reachable >= leaf.min_certainty:
        return None
    return False
