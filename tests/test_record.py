"""engine.record.Record behaves as the frozen dataclass it replaces, field for field.

Each property compares a Record class with the dataclass written from the same annotations, on
values hypothesis draws: construction (positional, keyword, defaults, factories), equality,
hashing, repr, `replace`, pickling and copying, and the TypeError for bad arguments.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import record
from engine.errors import Location, Problem
from engine.kb import model as m
from engine.kb.cache import _CLASSES
from engine.record import FrozenRecordError, Record, field, fields, replace


class Point(Record):
    """A record with a required field, plain defaults and a default factory."""

    name: str
    x: int
    tags: tuple[str, ...] = ()
    weight: float = 1.0
    extra: dict[str, int] = field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class DataPoint:
    name: str
    x: int
    tags: tuple[str, ...] = ()
    weight: float = 1.0
    extra: dict[str, int] = dataclasses.field(default_factory=dict)


class Pair(Record):
    """A one-field record and a subclass that adds fields."""

    left: int


class Triple(Pair):
    middle: int = 0
    right: str = ""


names = st.text(max_size=8)
tags = st.tuples() | st.tuples(names) | st.tuples(names, names)
weights = st.floats(allow_nan=False) | st.integers(-5, 5).map(float)


@st.composite
def arguments(draw: st.DrawFn) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Some leading fields given by position, some later ones by keyword, the rest defaulted."""
    values = {"name": draw(names), "x": draw(st.integers()), "tags": draw(tags),
              "weight": draw(weights), "extra": draw(st.dictionaries(names, st.integers(), max_size=2))}
    order = list(values)
    given_count = draw(st.integers(2, len(order)))
    positional = draw(st.integers(0, given_count))
    keyword_names = order[positional:given_count]
    keyword_names = draw(st.permutations(keyword_names))
    return (tuple(values[n] for n in order[:positional]),
            {n: values[n] for n in keyword_names})


@given(arguments())
def test_construction_matches_the_dataclass(args: tuple[tuple[Any, ...], dict[str, Any]]) -> None:
    positional, keywords = args
    ours, theirs = Point(*positional, **keywords), DataPoint(*positional, **keywords)
    assert [getattr(ours, n) for n in fields(Point)] == [
        getattr(theirs, f.name) for f in dataclasses.fields(DataPoint)]
    assert repr(ours) == repr(theirs).replace("DataPoint(", "Point(", 1)


@given(arguments(), arguments())
def test_equality_and_hash_follow_the_field_values(a: Any, b: Any) -> None:
    ours_a, ours_b = Point(*a[0], **a[1]), Point(*b[0], **b[1])
    theirs_a, theirs_b = DataPoint(*a[0], **a[1]), DataPoint(*b[0], **b[1])
    assert (ours_a == ours_b) == (theirs_a == theirs_b)
    assert ours_a == Point(*a[0], **a[1])
    for unhashable in (ours_a, theirs_a):  # a dict field makes it unhashable, in both
        with pytest.raises(TypeError, match="unhashable"):
            hash(unhashable)
    label_a, label_b = Pair(ours_a.x), Pair(ours_b.x)
    assert (label_a == label_b) == (ours_a.x == ours_b.x)
    if label_a == label_b:
        assert hash(label_a) == hash(label_b)


@given(arguments(), st.integers(), names)
def test_replace_changes_only_the_fields_named(args: Any, x: int, name: str) -> None:
    before = Point(*args[0], **args[1])
    after = replace(before, x=x, name=name)
    assert (after.x, after.name) == (x, name)
    assert (after.tags, after.weight, after.extra) == (before.tags, before.weight, before.extra)
    assert before == Point(*args[0], **args[1])  # the original is untouched
    with pytest.raises(TypeError, match="no field 'nope'"):
        replace(before, nope=1)


@given(arguments())
def test_pickle_and_copy_give_an_equal_record(args: Any) -> None:
    original = Point(*args[0], **args[1])
    for clone in (pickle.loads(pickle.dumps(original)), copy.copy(original), copy.deepcopy(original)):
        assert clone == original and type(clone) is Point


def test_a_record_is_frozen() -> None:
    point = Point("a", 1)
    with pytest.raises(FrozenRecordError, match="frozen Point"):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del point.name  # type: ignore[misc]
    assert point.x == 1


def test_each_record_gets_its_own_factory_default() -> None:
    first, second = Point("a", 1), Point("b", 2)
    assert first.extra == {} and first.extra is not second.extra


@pytest.mark.parametrize(("call", "message"), [
    (lambda: Point(), "missing required argument: 'name'"),
    (lambda: Point("a"), "missing required argument: 'x'"),
    (lambda: Point("a", 1, (), 1.0, {}, 6), "takes 5 positional arguments but 6 were given"),
    (lambda: Point("a", 1, name="b"), "multiple values for argument 'name'"),
    (lambda: Point("a", 1, colour="red"), "unexpected keyword argument 'colour'"),
    (lambda: Point(name="a", x=1, colour="red"), "unexpected keyword argument 'colour'"),
])
def test_bad_arguments_are_refused_as_a_dataclass_refuses_them(call: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        call()


def test_records_of_different_classes_are_never_equal() -> None:
    assert Pair(1) != Triple(1)
    assert Triple(1) == Triple(1, 0, "") and Triple(1, 2) != Triple(1, 3)
    assert fields(Triple) == ("left", "middle", "right")
    assert repr(Pair(1)) == "Pair(left=1)" and hash(Pair(1)) == hash(Pair(1))


def test_a_field_without_a_default_may_not_follow_one() -> None:
    with pytest.raises(TypeError, match="'b' without a default follows 'a'"):
        class Bad(Record):
            a: int = 0
            b: int


def test_field_refuses_both_a_default_and_a_factory() -> None:
    with pytest.raises(TypeError, match="not both"):
        field(default=1, default_factory=int)


def test_the_model_classes_are_records_and_not_dataclasses() -> None:
    """The KB cache rebuilds exactly these; none may fall back to dataclass code generation,
    which costs every command's start (engine.record's docstring)."""
    assert {"Finding", "Rule", "KnowledgeBase", "Test", "All", "Location", "Problem"} <= set(_CLASSES)
    for cls in _CLASSES.values():
        assert issubclass(cls, Record) and not dataclasses.is_dataclass(cls), cls
    assert Problem(Location("kb/x.yaml", 3), "bad").render() == "kb/x.yaml:3: bad"
    assert m.Review(6, "re-test").after_weeks == 6
    assert record.replace(Location("a", 1), line=2) == Location("a", 2)
