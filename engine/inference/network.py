"""The RETE network our compiled engines match with: experta's nodes, wired for our rule shapes.

experta's own `ReteMatcher` is general but pays for generality on every case: each fact is
tested against every alpha branch in turn, `reset()` walks the whole network, and every agenda
update asks every rule's conflict-set node for news. Each of those costs grows with the number of
rules, so a bigger KB made every case slower even when the case touched the same few rules.

`IndexedMatcher` keeps experta's matching (its join, not and conflict-set nodes, activations,
agenda and strategy) and changes how the network is laid out and visited, and what a token is:

- the bus routes a fact by `(fact class, id)` through a dict straight to the alpha nodes that
  test that finding or conclusion, instead of a linear scan of type and id checks;
- alpha tests are shared: one node per distinct (finding, test), whatever the number of rules;
- join nodes are shared between rules whose conjunctions start alike (beta prefix sharing);
- conflict-set nodes report themselves when a token reaches them, so an agenda update asks only
  those ("dirty" nodes), and `reset()` clears only the memories touched since the last reset;
- a token is a `(valid, facts)` pair: our patterns bind no variables, so experta's per-token
  context, the copy each node makes of it, its type assertions and its debug logging at every
  activation were pure overhead (they were most of the time of a case).

So the cost of a case follows the rules its facts can reach, not the size of the KB.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from experta.abstract import Matcher
from experta.activation import Activation
from experta.fact import Fact, InitialFact
from experta.matchers.rete.check import SameContextCheck
from experta.matchers.rete.nodes import (
    BusNode,
    ConflictSetNode,
    NotNode,
    OrdinaryMatchNode,
)
from experta.rule import Rule


@dataclass(frozen=True)
class Pattern:
    """One positive or negated (`NOT`) pattern: facts of `fact_type` with this `key` (a finding or
    conclusion id) whose `field` passes `test`. `test` is None for the initial fact."""

    fact_type: type
    key: str | None
    field: str = ""
    test: Callable[[Any], bool] | None = None
    negated: bool = False

    @property
    def route(self) -> tuple[type, str | None]:
        return (self.fact_type, self.key)


@dataclass(frozen=True)
class CompiledRule:
    """An experta rule (salience, identity) and its left-hand side in disjunctive normal form:
    the rule is activated by any of `conjunctions`, each a sequence of patterns."""

    rule: Rule
    conjunctions: tuple[tuple[Pattern, ...], ...]


INITIAL = Pattern(InitialFact, None)


def route_of(fact: Fact) -> tuple[type, Any]:
    """Where the bus sends a fact: its class and id (`None` for the initial fact)."""
    return (fact.__class__, dict.get(fact, "id"))


# A token is a plain `(valid, facts)` pair: `valid` is True for an addition and False for a
# retraction, `facts` a frozenset. experta's `Token` also carries a binding context and asserts
# its types on every copy; our patterns bind no variables (every context would stay empty and
# every `SameContextCheck` pass), and nothing downstream mutates a token, so nodes pass them on
# without the copies experta makes at each node.
_Token = tuple[bool, frozenset[Fact]]


class _Branch:
    """The alpha part for one distinct test of one route: facts passing `test` on `field` go
    to `callbacks` (join inputs or conflict-set nodes). `test` None passes everything."""

    __slots__ = ("callbacks", "field", "test")

    def __init__(self, field: str, test: Callable[[Any], bool] | None) -> None:
        self.field = field
        self.test = test
        self.callbacks: list[Callable[[_Token], Any]] = []

    def add_child(self, node: Any, callback: Callable[[_Token], Any]) -> None:
        self.callbacks.append(callback)


class _RoutingBus(BusNode):
    """The network's entry and its whole alpha part: a fact is routed by `(class, id)` through a
    dict to the distinct tests of that finding or conclusion, and on to the joins of each test
    that passes."""

    def __init__(self) -> None:
        super().__init__()
        self.routes: dict[tuple[type, Any], list[_Branch]] = {}

    def branch(self, route: tuple[type, Any], field: str,
               test: Callable[[Any], bool] | None) -> _Branch:
        branches = self.routes.setdefault(route, [])
        for existing in branches:
            if existing.test is test:
                return existing
        created = _Branch(field, test)
        branches.append(created)
        return created

    def _send(self, fact: Fact, valid: bool) -> None:
        branches = self.routes.get((fact.__class__, dict.get(fact, "id")))
        if not branches:
            return
        token = (valid, frozenset((fact,)))
        for branch in branches:
            test = branch.test
            if test is None or test(fact[branch.field]):
                for callback in branch.callbacks:
                    callback(token)

    def add(self, fact: Fact) -> None:
        self._send(fact, True)

    def remove(self, fact: Fact) -> None:
        self._send(fact, False)


class _KeepsCallbacks:
    """Two-input nodes call their children from a plain list instead of experta's child
    records: one attribute lookup per token on the hottest path."""

    callbacks: list[Callable[[_Token], Any]]

    def add_child(self, node: Any, callback: Callable[[_Token], Any]) -> None:
        super().add_child(node, callback)  # type: ignore[misc]
        self.callbacks.append(callback)


class _Join(_KeepsCallbacks, OrdinaryMatchNode):
    """experta's join node for context-free tokens: each side's memory holds fact sets, every
    pair joins (experta's `SameContextCheck` passes any two empty contexts), and it records that
    it was touched so a reset visits only the nodes a case used. No token copies, no logging."""

    def __init__(self, touched: set[Any]) -> None:
        OrdinaryMatchNode.__init__(self, SameContextCheck())
        self._touched = touched
        self.callbacks: list[Callable[[_Token], Any]] = []

    def activate_left(self, token: _Token) -> None:
        self._touched.add(self)
        self._activation(token, self.left_memory, self.right_memory)

    def activate_right(self, token: _Token) -> None:
        self._touched.add(self)
        self._activation(token, self.right_memory, self.left_memory)

    def _activation(self, token: _Token, memory: list[frozenset[Fact]],
                    other: list[frozenset[Fact]]) -> None:
        valid, data = token
        if valid:
            memory.append(data)
        elif data in memory:
            memory.remove(data)
        if other:
            callbacks = self.callbacks
            for other_data in other:
                joined = (valid, data | other_data)
                for callback in callbacks:
                    callback(joined)


class _Not(_KeepsCallbacks, NotNode):
    """experta's not node for context-free tokens: a left token passes while the right memory is
    empty, and every right fact counts against every left token. Records that it was touched."""

    def __init__(self, touched: set[Any]) -> None:
        NotNode.__init__(self, SameContextCheck())
        self._touched = touched
        self.callbacks: list[Callable[[_Token], Any]] = []

    def activate_left(self, token: _Token) -> None:
        self._touched.add(self)
        valid, data = token
        if not self.right_memory:
            if valid:
                self.left_memory[data] = 0
            else:
                del self.left_memory[data]
            for callback in self.callbacks:
                callback(token)
        elif valid:
            self.left_memory[data] = len(self.right_memory)
        else:
            del self.left_memory[data]

    def activate_right(self, token: _Token) -> None:
        self._touched.add(self)
        valid, data = token
        if valid:
            self.right_memory.append(data)
            inc = 1
        else:
            self.right_memory.remove(data)
            inc = -1
        left_memory = self.left_memory
        for left in left_memory:
            count = left_memory[left] = left_memory[left] + inc
            # the first blocking fact retracts the left token; the last one leaving restores it
            if count == 1 and valid:
                for callback in self.callbacks:
                    callback((False, left))
            elif count == 0 and not valid:
                for callback in self.callbacks:
                    callback((True, left))


_NO_CONTEXT: frozenset[Any] = frozenset()


class _Activation(Activation):
    """experta's activation with an empty context and its hash computed once: the agenda and
    the conflict-set node hash each activation several times, and experta's `__hash__` builds a
    frozenset of its facts every time. The value is the one experta's `__hash__` gives."""

    def __init__(self, rule: Rule, facts: frozenset[Fact]) -> None:
        self.rule = rule
        self.facts = set(facts)
        self.key = None
        self.context: dict[str, Any] = {}
        self._hash = hash((rule, facts, _NO_CONTEXT))

    def __hash__(self) -> int:
        return self._hash


class _ConflictSet(ConflictSetNode):
    """experta's conflict-set node for context-free tokens, reporting itself dirty (and touched)
    when a token arrives."""

    def __init__(self, rule: Rule, dirty: set[Any], touched: set[Any]) -> None:
        super().__init__(rule)
        self._dirty = dirty
        self._touched = touched

    def _reset(self) -> None:
        """Wipe the memory and any news not yet collected (experta's reset, then its
        `get_activations`, in one step)."""
        self.memory: set[Any] = set()
        self.added: set[Any] = set()
        self.removed: set[Any] = set()

    def activate(self, token: _Token) -> None:
        self._dirty.add(self)
        self._touched.add(self)
        valid, data = token
        activation = _Activation(self.rule, data)
        if valid:
            if data not in self.memory:
                self.memory.add(data)
                if activation in self.removed:
                    self.removed.remove(activation)
                else:
                    self.added.add(activation)
        elif data in self.memory:
            self.memory.remove(data)
            if activation in self.added:
                self.added.remove(activation)
            else:
                self.removed.add(activation)


class IndexedMatcher(Matcher):
    """A matcher for engines made by `compile_kb`; see the module docstring for what differs."""

    def __init__(self, engine: Any) -> None:
        super().__init__(engine)
        self._dirty: set[_ConflictSet] = set()
        self._touched: set[Any] = set()
        self.root_node = _RoutingBus()
        self.conflict_set_nodes: list[_ConflictSet] = []
        self._build(engine.compiled_rules)

    def _build(self, rules: Sequence[CompiledRule]) -> None:
        joins: dict[tuple[int, int, bool], Any] = {}  # ids of nodes kept alive by `alpha`/`joins`

        def alpha_node(pattern: Pattern) -> _Branch:
            """The branch whose callbacks receive facts matching `pattern` (shared)."""
            return self.root_node.branch(pattern.route, pattern.field, pattern.test)

        for compiled in rules:
            for conjunction in compiled.conjunctions:
                patterns = list(conjunction)
                if patterns[0].negated:
                    patterns.insert(0, INITIAL)
                node = alpha_node(patterns[0])
                for pattern in patterns[1:]:
                    right = alpha_node(pattern)
                    key = (id(node), id(right), pattern.negated)
                    join = joins.get(key)
                    if join is None:
                        join = _Not(self._touched) if pattern.negated else _Join(self._touched)
                        node.add_child(join, join.activate_left)
                        right.add_child(join, join.activate_right)
                        joins[key] = join
                    node = join
                csn = _ConflictSet(compiled.rule, self._dirty, self._touched)
                node.add_child(csn, csn.activate)
                self.conflict_set_nodes.append(csn)

    def changes(self, adding: Iterable[Fact] | None = None,
                deleting: Iterable[Fact] | None = None) -> tuple[list[Any], list[Any]]:
        """Pass working-memory changes through the network; collect news from dirty rules only."""
        if deleting:
            for fact in deleting:
                self.root_node.remove(fact)
        if adding:
            for fact in adding:
                self.root_node.add(fact)
        added: list[Any] = []
        removed: list[Any] = []
        if self._dirty:
            for csn in self._dirty:
                c_added, c_removed = csn.get_activations()
                added.extend(c_added)
                removed.extend(c_removed)
            self._dirty.clear()
        return added, removed

    def reset(self) -> None:
        """Clear the memories touched since the last reset (all others are still empty)."""
        for node in self._touched:
            node._reset()
        self._touched.clear()
        self._dirty.clear()


__all__ = ["INITIAL", "CompiledRule", "IndexedMatcher", "Pattern", "route_of"]
