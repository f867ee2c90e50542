"""Frozen value records whose classes cost next to nothing to define.

Every command imports the knowledge-base model, the condition tree, the error types and the
assessment records at start: about 30 classes. As dataclasses, each class had its `__init__`,
`__repr__`, `__eq__`, `__hash__` and frozen `__setattr__` written out as source and compiled with
`exec` when the module was imported, about 0.7 ms a class on this machine: 23 ms of the 100 ms
that `assess --format json` may take from a cold start (issue 17, bench/RESULTS.md). The well-kept
alternatives do not help: attrs generates source the same way, and msgspec's Struct, although
defined in C, imports its inspection and JSON-schema helpers with it (about 17 ms here).

A `Record` subclass is described by its annotations, as a dataclass is (the same defaults,
`field(default_factory=...)`, and the type checker reads it through `dataclass_transform`). But its
methods are shared functions that read the class's field names, not code compiled for each class,
so defining one costs about 20 microseconds. It behaves as the frozen dataclass it replaces:
keyword or positional construction, equality and hashing by field values within one class, a
dataclass-style repr, and no assignment after construction. Pickling and copying work by the
instance `__dict__`, as the KB cache's decoder (engine.kb.cache) relies on.

`replace` and `fields` stand in for `dataclasses.replace` and `dataclasses.fields`.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

if TYPE_CHECKING:  # tells the type checker a Record subclass is built as a dataclass is
    from typing_extensions import dataclass_transform
else:  # only a marker for type checkers (typing has it from Python 3.11 on)
    def dataclass_transform(**_kwargs: Any) -> Callable[[type], type]:
        return lambda cls: cls

R = TypeVar("R", bound="Record")

_MISSING: Any = object()


class _Factory:
    """A default made afresh for each record (`field(default_factory=dict)`)."""

    __slots__ = ("make",)

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make


def field(*, default: Any = _MISSING, default_factory: Callable[[], Any] | None = None) -> Any:
    """A field's default, as `dataclasses.field` gives it: a value or a factory for each record."""
    if default_factory is not None:
        if default is not _MISSING:
            raise TypeError("field() takes a default or a default_factory, not both")
        return _Factory(default_factory)
    return default


class FrozenRecordError(AttributeError):
    """Raised on assignment to a frozen record's field (as dataclasses.FrozenInstanceError)."""


@dataclass_transform(eq_default=True, frozen_default=True, field_specifiers=(field,))
class Record:
    """Base of the frozen value records; see the module docstring."""

    _record_fields: ClassVar[tuple[str, ...]] = ()
    _record_defaults: ClassVar[dict[str, Any]] = {}
    _record_values: ClassVar[Callable[[Any], tuple[Any, ...]]]
    _record_names: ClassVar[frozenset[str]] = frozenset()
    _record_plain: ClassVar[dict[str, Any]] = {}  # defaults that are values
    _record_factories: ClassVar[tuple[tuple[str, Callable[[], Any]], ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        names = list(cls._record_fields)
        defaults = dict(cls._record_defaults)
        # this class's own annotations (not inherited ones); inspect.get_annotations would do
        # the same at the cost of importing inspect (10 ms) into processes that lack it
        own = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
        for name, annotation in own.items():
            if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
                continue
            if name not in names:
                names.append(name)
            if name in cls.__dict__:
                default = cls.__dict__[name]
                defaults[name] = default
                if isinstance(default, _Factory):
                    delattr(cls, name)
            elif name in defaults:
                raise TypeError(f"{cls.__name__}.{name} takes away the default a base class gave")
        seen_default = ""
        for name in names:
            if name in defaults:
                seen_default = name
            elif seen_default:
                raise TypeError(f"{cls.__name__}: field {name!r} without a default follows "
                                f"{seen_default!r}, which has one")
        cls._record_fields = tuple(names)
        cls._record_names = frozenset(names)
        cls._record_defaults = defaults
        cls._record_plain = {n: d for n, d in defaults.items() if not isinstance(d, _Factory)}
        cls._record_factories = tuple((n, d.make) for n, d in defaults.items()
                                      if isinstance(d, _Factory))
        getter = attrgetter(*names) if names else (lambda _obj: ())
        cls._record_values = getter if len(names) != 1 else (lambda obj: (getter(obj),))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        values = self.__dict__
        if args:
            names = cls._record_fields
            if len(args) == len(names) and not kwargs:
                values.update(zip(names, args, strict=True))
                return
            if len(args) > len(names) or not kwargs.keys().isdisjoint(names[:len(args)]):
                _refuse(cls, args, kwargs)
            values.update(cls._record_plain)
            values.update(zip(names, args, strict=False))  # the rest come from kwargs
        else:
            values.update(cls._record_plain)
        values.update(kwargs)
        for name, make in cls._record_factories:
            if name not in values:
                values[name] = make()
        if values.keys() != cls._record_names:
            _refuse(cls, args, kwargs)

    def __repr__(self) -> str:
        values = type(self)._record_values(self)
        inner = ", ".join(f"{name}={value!r}"
                          for name, value in zip(self._record_fields, values, strict=True))
        return f"{type(self).__qualname__}({inner})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            values = type(self)._record_values
            return values(self) == values(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(type(self)._record_values(self))

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenRecordError(f"cannot assign to field {name!r} of a frozen {type(self).__name__}")

    def __delattr__(self, name: str) -> None:
        raise FrozenRecordError(f"cannot delete field {name!r} of a frozen {type(self).__name__}")


def _refuse(cls: type[Record], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Raise the TypeError a dataclass's __init__ would for these arguments."""
    names = cls._record_fields
    if len(args) > len(names):
        raise TypeError(f"{cls.__name__}() takes {len(names)} positional arguments "
                        f"but {len(args)} were given")
    for name in kwargs:
        if name not in cls._record_names:
            raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {name!r}")
        if name in names[:len(args)]:
            raise TypeError(f"{cls.__name__}() got multiple values for argument {name!r}")
    given = set(names[:len(args)]) | kwargs.keys() | cls._record_defaults.keys()
    missing = [name for name in names if name not in given]
    raise TypeError(f"{cls.__name__}() missing required argument: {missing[0]!r}")


def fields(record: Record | type[Record]) -> tuple[str, ...]:
    """The field names of a record or record class, in declaration order."""
    return record._record_fields


def replace(record: R, **changes: Any) -> R:
    """A copy of `record` with some fields changed, as `dataclasses.replace`."""
    names = record._record_fields
    for name in changes:
        if name not in names:
            raise TypeError(f"{type(record).__name__} has no field {name!r}")
    values = {name: changes[name] if name in changes else getattr(record, name) for name in names}
    return type(record)(**values)
