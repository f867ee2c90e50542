"""A validated on-disk cache of the loaded knowledge base, so a command starts without parsing.

Parsing and validating the ~40 YAML files of the shipped KB was about 40% of the time of a cold
`imbalance assess`. The result of a load (the `KnowledgeBase`, every problem found, the rules a
layer switched off) is pure data, so it is written once to the user's cache folder
(platformdirs; `IMBALANCE_CACHE_DIR` overrides it, `IMBALANCE_NO_CACHE=1` turns it off) and read
back while nothing it came from has changed.

Never stale: an entry is used only when its stamp equals the stamp of this load, which names
every file of every layer (path, size, mtime in nanoseconds, and a BLAKE2 digest of its bytes,
so even an edit that keeps size and mtime is seen), the working directory (locations are shown
relative to it), the tool's version and the size and mtime of the modules that read KB files
(a changed schema makes a different KB from the same files). Safe to delete: a missing,
unreadable, corrupt or foreign entry is a miss, and the load simply runs.

Data only, never code: the entry is `marshal` of plain values (str, int, float, bool, None,
tuple, list, dict, and bytes holding more of the same). Model objects are written as
[class name, field values] and rebuilt only from the record classes listed in `_CLASSES`, without
calling anything of theirs; marshal is not pickle: reading builds values and never calls a
constructor or a function, so loading an entry cannot run anything. Written with a temporary
file and `os.replace`, so a reader never sees half an entry.

Fast to read, because every command starts with it: only containers that hold model objects
are tagged, the rest is what marshal returns; the KB's case tests (over half of an entry) stay
bytes until something reads them (`Deferred`).

Hand-written because the pieces are ours: which inputs make a KB (the stamp) and which classes
a KB is made of; the cache folder itself comes from platformdirs.
"""

from __future__ import annotations

import gc
import marshal
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from engine import errors
from engine.kb import conditions
from engine.kb import model as m
from engine.record import Record, fields

try:  # hashlib's own BLAKE2: `import hashlib` first loads OpenSSL, 3-10 ms of every start
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - a Python built without it
    from hashlib import blake2b

FORMAT = 2  # bump when the encoding below changes
_CLASSES: dict[str, type] = {
    cls.__name__: cls
    for module in (m, conditions, errors)
    for cls in vars(module).values()
    if isinstance(cls, type) and issubclass(cls, Record) and cls.__module__ == module.__name__
}
_HERE = Path(__file__).resolve().parent
# the modules that read KB files (schema/ too), the one defining Location and Problem, and the
# record base the model's classes are built on
_CODE_FILES = (*sorted(_HERE.rglob("*.py")), _HERE.parent / "errors.py", _HERE.parent / "record.py")


def cache_dir() -> Path | None:
    """Where entries live, or None when caching is off."""
    if os.environ.get("IMBALANCE_NO_CACHE", "") not in ("", "0"):
        return None
    chosen = os.environ.get("IMBALANCE_CACHE_DIR")
    if chosen:
        return Path(chosen)
    return _user_cache_dir()


def _user_cache_dir() -> Path:
    """platformdirs' user cache folder for the tool. On Linux with an absolute XDG_CACHE_HOME or
    HOME it is that folder (or ~/.cache) + 'imbalance', said here directly: importing
    platformdirs (which imports tempfile, shutil, random and bz2) was 7-12 ms of every start.
    Anything else (macOS, Windows, no usable HOME) asks platformdirs; tests/test_kb_cache.py
    checks the two agree."""
    if sys.platform == "linux":
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        if os.path.isabs(xdg):
            return Path(xdg, "imbalance")
        home = os.environ.get("HOME", "")
        if os.path.isabs(home):
            return Path(home, ".cache", "imbalance")
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("imbalance", appauthor=False))


def stamp(files: Sequence[Path], folders: Sequence[Path]) -> tuple[Any, ...]:
    """Everything the loaded KB depends on (see the module docstring)."""
    from engine import __version__

    parts: list[Any] = [FORMAT, __version__, sys.version_info[:2], os.getcwd(),
                        tuple(str(f) for f in folders)]
    for path in _CODE_FILES:
        info = path.stat()
        parts.append((str(path.relative_to(_HERE.parent)), info.st_size, info.st_mtime_ns))
    for path in files:
        info = path.stat()
        digest = blake2b(path.read_bytes(), digest_size=16).hexdigest()
        parts.append((str(path), info.st_size, info.st_mtime_ns, digest))
    return tuple(parts)


def _entry_path(folder: Path, folders: Sequence[Path]) -> Path:
    """One entry per set of layers and working directory; a later load overwrites it."""
    name = blake2b(repr((os.getcwd(), [str(Path(f).resolve()) for f in folders]))
                           .encode(), digest_size=12).hexdigest()
    return folder / f"kb-{name}.marshal"


def cached(folders: Sequence[Path], files: Sequence[Path], load: Callable[[], Any]) -> Any:
    """`load()`'s result from the cache when the stamp matches, else `load()` (and store it)."""
    folder = cache_dir()
    if folder is None:
        return load()
    try:
        current = stamp(files, folders)
    except OSError:
        return load()  # a file vanished while listing: let the load report it
    entry = _entry_path(folder, folders)
    collecting = gc.isenabled()
    gc.disable()  # thousands of new containers, none of them garbage: the collector only costs
    try:
        stored_stamp, data = marshal.loads(entry.read_bytes())
        if stored_stamp == current:
            return decode(data)
    except (OSError, EOFError, ValueError, TypeError, KeyError):
        pass  # no entry, unreadable or not ours: a miss
    finally:
        if collecting:
            gc.enable()
    result = load()
    try:
        data = encode(result)
    except TypeError:  # pragma: no cover - a model class the encoder does not know yet
        return result
    _store(entry, current, data)
    return result


def _store(entry: Path, current: tuple[Any, ...], data: Any) -> None:
    import tempfile  # only when writing: a cache hit should not pay for the import

    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=".kb-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(marshal.dumps((current, data)))
            os.replace(tmp, entry)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass  # a read-only or full cache folder only costs the next start a parse


# --- plain data <-> model objects ---------------------------------------------------------------
# Written for the speed of `decode`, which runs at every start: only containers that hold
# something to rebuild are tagged, everything else is stored as marshal gives it back.
#   str, int, float, bool, None      as they are
#   a tuple of those (nested too)    as it is: marshal returns tuples
#   a record of the model            [class name, field values in declaration order]
#   any other tuple / list           [0, items...] / [1, items...]
#   a dict keyed by text             a dict of encoded values
#   a deferred field (_DEFERRED)     [2, marshal bytes of its encoded value], decoded on first use

_TUPLE, _LIST, _DEFERRED_TAG = 0, 1, 2
_FIELDS: dict[str, tuple[str, ...]] = {
    name: fields(cls) for name, cls in _CLASSES.items()}
# Fields a start of `assess` or `report` never reads, kept as bytes until something does: the
# KB's case tests are over half of the entry and only `kb test`, `kb lint` and the authoring
# tools read them.
_DEFERRED = {("KnowledgeBase", "tests")}
_RECORDS: dict[str, tuple[type, tuple[str, ...]]] = {
    name: (cls, _FIELDS[name]) for name, cls in _CLASSES.items()}
_new = object.__new__
_LOCATION = errors.Location  # decode builds it by its two fields, path and line


def _plain(value: Any) -> bool:
    if value.__class__ is tuple:
        return all(_plain(item) for item in value)
    return value is None or isinstance(value, (str, bool, int, float))


def encode(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Record):
        name = type(value).__name__
        if _CLASSES.get(name) is not type(value):
            raise TypeError(f"{name} is not a knowledge-base class")
        return [name, *(_encode_field(name, field, getattr(value, field))
                        for field in _FIELDS[name])]
    if isinstance(value, tuple):
        return value if _plain(value) else [_TUPLE, *(encode(v) for v in value)]
    if isinstance(value, Deferred):
        return encode(tuple(value))
    if isinstance(value, list):
        return [_LIST, *(encode(v) for v in value)]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("only dicts keyed by text are cached")
        return {k: encode(v) for k, v in value.items()}
    raise TypeError(f"cannot cache a {type(value).__name__}")


def _encode_field(cls_name: str, field: str, value: Any) -> Any:
    if (cls_name, field) in _DEFERRED:
        if isinstance(value, Deferred) and value._items is None:
            return [_DEFERRED_TAG, value._blob]  # still as read: pass it on (Dask) undecoded
        return [_DEFERRED_TAG, marshal.dumps(encode(tuple(value)))]
    return encode(value)


def decode(value: Any) -> Any:
    """The inverse of `encode`: rebuilds every object of the KB (only classes in `_CLASSES`)."""
    kind = value.__class__
    if kind is dict:
        return {k: v if v.__class__ is not list and v.__class__ is not dict else decode(v)
                for k, v in value.items()}
    if kind is not list:
        return value
    head = value[0]
    if head == "Location" and len(value) == 3:
        # a third of an entry's records are Locations (one per rule and condition node): built
        # directly, a quarter of the time `decode` took
        obj: Any = _new(_LOCATION)
        slots = obj.__dict__
        slots["path"], slots["line"] = value[1], value[2]
        return obj
    items = [v if v.__class__ is not list and v.__class__ is not dict else decode(v)
             for v in value[1:]]
    if head.__class__ is str:
        cls, names = _RECORDS[head]
        if len(items) != len(names):
            raise ValueError(f"{head} with {len(items)} fields")  # not ours: a miss
        obj = _new(cls)
        # the frozen record's own fields, as its __init__ would set them (none computes any)
        obj.__dict__.update(zip(names, items, strict=False))  # lengths checked above
        return obj
    if head == _TUPLE:
        return tuple(items)
    if head == _LIST:
        return items
    if head == _DEFERRED_TAG and len(items) == 1 and items[0].__class__ is bytes:
        return Deferred(items[0])
    raise ValueError(f"unknown tag {head!r}")


class Deferred(Sequence[Any]):
    """A tuple from the cache, decoded on first use (see `_DEFERRED`); equal to the tuple."""

    __slots__ = ("_blob", "_items")

    def __init__(self, blob: bytes) -> None:
        self._blob = blob
        self._items: tuple[Any, ...] | None = None

    def _tuple(self) -> tuple[Any, ...]:
        if self._items is None:
            items = decode(marshal.loads(self._blob))
            self._items = items if items.__class__ is tuple else tuple(items)
            self._blob = b""
        return self._items

    def __getitem__(self, index: Any) -> Any:
        return self._tuple()[index]

    def __len__(self) -> int:
        return len(self._tuple())

    def __iter__(self) -> Iterator[Any]:
        return iter(self._tuple())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Deferred):
            other = other._tuple()
        return self._tuple() == other if isinstance(other, tuple) else NotImplemented

    def __hash__(self) -> int:
        return hash(self._tuple())

    def __repr__(self) -> str:
        return repr(self._tuple())


__all__ = ["Deferred", "cache_dir", "cached", "decode", "encode", "stamp"]
