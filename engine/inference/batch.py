"""Assess many cases in worker processes, streaming one JSON line per case in input order.

A clinic screens a whole caseload at once, so a batch must survive a bad case (it becomes an
error record and the batch goes on), an interruption (every finished case is already on disk,
and `resume` skips the ids found there), and any size (lines are read lazily, only a bounded
number are in flight, and the ids seen so far live in an on-disk `IdStore`, so memory does not
grow with the number of cases).

Input is a folder of case files (the id is the file's path inside the folder), a JSONL file, or
`-` for JSONL on standard input (the id is a line's `id` key, or `line-N`). The parent reads
each line only far enough to learn its id (a size and depth check, then the C JSON parser):
ids must be settled in input order, so that a repeated id is always the later line, on a first
run and on a resumed one alike. The repeat's error record carries the id `line-N` so that it is
written, and skipped on resume, like any other record. Everything else about a case (the strict
parse, the checks, the assessment) is `assess_item`, a pure function of the item, run in the
workers.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

from engine.cases import strictjson
from engine.cases.idstore import IdStore
from engine.errors import ImbalanceError, InputError, one_line

CASE_SUFFIXES = (".yaml", ".yml", ".json")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
CHUNK = 48  # cases per task sent to a worker: large enough to amortise the hand-over
IN_FLIGHT_PER_WORKER = 4  # chunks queued per worker; bounds memory whatever the input size
TRIM_EVERY = 64  # chunks of results between giving the parent's free heap back (engine.inference.heap)
S = TypeVar("S")  # what the pool is given, one at a time
T = TypeVar("T")  # what it gives back for each


@dataclass(frozen=True)
class Item:
    """One case to assess: from a file (`path`) or a JSONL line (`text`), or already bad."""

    id: str
    name: str
    path: str = ""
    text: str = ""
    error: str = ""
    line: int = 0  # the JSONL line number (0 for a case file)
    document: bool = False  # `text` is a whole case file's content (YAML, JSON or FHIR)


@dataclass(frozen=True)
class Record:
    """The outcome of one case: the JSON line to write, and what the summary counts."""

    id: str
    line: str
    triage: str = ""
    error: str = ""


def check_input(source: str) -> str:
    """'folder', 'jsonl' or 'stdin'; anything else is refused before the output is touched."""
    if source == "-":
        return "stdin"
    path = Path(source)
    try:
        if not path.exists():
            raise InputError(f"batch input '{source}' does not exist",
                             suggestion="give a folder of case files or a .jsonl file")
        if path.is_dir():
            return "folder"
    except OSError as exc:
        raise InputError(f"cannot read batch input '{source}': {exc.strerror or exc}") from None
    suffix = path.suffix.lower()
    if suffix in CASE_SUFFIXES:
        raise InputError(f"'{source}' is one case file; batch takes a folder of case files or a "
                         "JSONL file", suggestion=f"use 'imbalance assess {source}'")
    if suffix not in JSONL_SUFFIXES:
        raise InputError(f"batch input '{source}' is neither a folder nor a JSONL file "
                         f"({', '.join(JSONL_SUFFIXES)}); it would not be read as meant",
                         suggestion="give a folder of case files, or a file of one JSON case "
                                    "object per line named *.jsonl")
    return "jsonl"


def _case_files(folder: Path, skip: tuple[int, int] | None = None) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.endswith(CASE_SUFFIXES) and not name.startswith("."):
                path = Path(root) / name
                if skip is not None and _identity(path) == skip:
                    continue  # our own output, written inside the input folder
                yield path


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_dev, info.st_ino


def count_items(source: str) -> int:
    """How many cases the input holds (for the progress bar); 0 for stdin; reads no case."""
    if source == "-":
        return 0
    if Path(source).is_dir():
        return sum(1 for _ in _case_files(Path(source)))
    count = 0
    with open(source, "rb") as handle:
        for raw in handle:
            if raw.strip():
                count += 1
    return count


def read_items(source: str, done: IdStore | None = None,
               skip_file: tuple[int, int] | None = None) -> Iterator[Item]:
    """The cases of a folder, JSONL file or stdin, lazily, without those whose id is in `done`.

    `skip_file` is the (device, inode) of the output, never read back as a case."""
    with IdStore() as seen:
        for item in _raw_items(source, skip_file):
            first = seen.add(item.id, item.line)
            if first:
                where = f" (first on line {first})" if first > 0 else ""
                item = Item(f"line-{item.line}", item.name, line=item.line,
                            error=f"{item.name}: duplicate case id '{item.id}'{where}; each case "
                                  "needs its own id")
                seen.add(item.id, item.line)
            if done is not None and item.id in done:
                continue
            yield item


def _raw_items(source: str, skip_file: tuple[int, int] | None) -> Iterator[Item]:
    if source != "-" and Path(source).is_dir():
        for path in _case_files(Path(source), skip_file):
            yield Item(path.relative_to(source).as_posix(), str(path), path=str(path))
        return
    if source == "-":
        yield from _jsonl_items(sys.stdin.buffer, "<stdin>")
        return
    with open(source, "rb") as handle:
        yield from _jsonl_items(handle, source)


def _jsonl_items(handle: IO[bytes], shown: str) -> Iterator[Item]:
    for number, raw in _lines(handle):
        name = f"{shown}:{number}"
        fallback = f"line-{number}"
        if raw is None:
            yield Item(fallback, name, line=number, error=f"{name}: the line is larger than the "
                       f"{strictjson.MAX_CASE_BYTES // 1_000_000} MB limit for a case")
            continue
        if number == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield Item(fallback, name, line=number,
                       error=f"{name}: not UTF-8 text (byte {exc.start + 1})")
            continue
        case_id, problem = _peek_id(text)
        yield Item(case_id or fallback, name, text=text, line=number,
                   error=f"{name}: {problem}" if problem else "")


def _lines(handle: IO[bytes]) -> Iterator[tuple[int, bytes | None]]:
    """Numbered lines, each at most the case size limit; a longer one is skipped to its end
    without being held in memory (None in its place)."""
    limit = strictjson.MAX_CASE_BYTES
    number = 0
    while True:
        raw = handle.readline(limit + 1)
        if not raw:
            return
        number += 1
        if len(raw) > limit and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):
                raw = handle.readline(1 << 20)
            yield number, None
            continue
        yield number, raw


def _peek_id(text: str) -> tuple[str, str]:
    """(the line's id or '', a problem with the id or ''). Only the id is read here; the rest
    of the line is checked by the worker, which reports it precisely."""
    try:
        strictjson.check_depth(text)
        data = json.loads(text)
    except (ValueError, RecursionError):
        return "", ""
    if not isinstance(data, dict) or data.get("id") in (None, ""):
        return "", ""
    value = data["id"]
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return "", f"'id' must be text or a whole number, not {json.dumps(value)[:40]}"
    return str(value), ""


# --- work done in each worker -----------------------------------------------------------------

_STATE: dict[str, Any] = {}


def prepare(kb_dirs: tuple[str, ...]) -> None:
    """Load and compile the KB once per process (inherited as is by forked workers); a broken
    KB raises here, before the output is touched or any worker starts."""
    if _STATE.get("kb_dirs") == kb_dirs:
        return
    from engine.inference.reasoner import Reasoner
    from engine.kb.loader import load_kb

    kb = load_kb(kb_dirs)
    _STATE.update(kb_dirs=kb_dirs, kb=kb, reasoner=Reasoner(kb))


def _worker_init(kb_dirs: tuple[str, ...]) -> None:
    """Workers leave Ctrl-C to the parent, which stops the pool and reports once."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    prepare(kb_dirs)


def case_of_item(item: Item, kb: Any) -> Any:
    """The checked `Case` of one item against `kb`; raises ImbalanceError for a bad case."""
    from engine.cases.case import case_from_data, load_case, parse_case

    if item.path:
        return load_case(item.path, kb)
    if item.document:
        return parse_case(item.text, item.name, kb)
    return case_from_data(_case_object(item), item.name, kb)


def assess_item(item: Item) -> Record:
    """Assess one case: a pure function of the item (once `prepare` has run in this process).
    Any problem with the case becomes an error record, never an exception."""
    if item.error:
        return _error(item.id, item.error)
    try:
        case = case_of_item(item, _STATE["kb"])
        result = _STATE["reasoner"].assess(case)
    except ImbalanceError as exc:
        return _error(item.id, exc.render())
    except Exception as exc:  # one broken case must not stop a caseload
        return _error(item.id, f"{item.name}: internal error ({type(exc).__name__}: {exc})")
    out = {"id": item.id, **result.to_dict()}
    return Record(item.id, _dumps(out), triage=result.triage)


def _case_object(item: Item) -> dict[str, Any]:
    try:
        data = strictjson.loads(item.text)
    except strictjson.JsonProblem as exc:
        raise InputError(f"{item.name}: {exc.reason}") from None
    if not isinstance(data, dict):
        raise InputError(f"{item.name}: a line must be one case object {{\"findings\": ...}}")
    data.pop("id", None)
    return data


def _error(case_id: str, message: str) -> Record:
    message = one_line(message)
    return Record(case_id, _dumps({"id": case_id, "error": message}), error=message)


def _dumps(value: dict[str, Any]) -> str:
    """One JSON line; ids from odd file names may hold undecodable bytes, escaped as \\udcXX."""
    line = json.dumps(value, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(value, ensure_ascii=True)
    return line


def _assess_chunk(chunk: list[Item]) -> list[Record]:
    return [assess_item(item) for item in chunk]


def _chunks(items: Iterable[S], size: int, gate: threading.Semaphore | None) -> Iterator[list[S]]:
    chunk: list[S] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            if gate is not None:
                gate.acquire()
            yield chunk
            chunk = []
    if chunk:
        if gate is not None:
            gate.acquire()
        yield chunk


def default_jobs() -> int:
    """Worker processes when -j is not given: measured in bench/ (see RESULTS.md), not assumed."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, cores)


def run_batch(items: Iterable[Item], kb_dirs: tuple[str, ...], jobs: int,
              chunk_size: int = CHUNK) -> Iterator[Record]:
    """Records in input order; with `jobs` > 1 they are assessed in worker processes.

    Only `jobs * IN_FLIGHT_PER_WORKER` chunks are ever read ahead of the output, so memory stays
    flat however many cases the input holds; the order makes the output the same for the same
    input, whatever the number of workers."""
    prepare(kb_dirs)  # errors in the KB surface here, once, before any worker starts
    if jobs <= 1:
        for item in items:
            yield assess_item(item)
        return
    yield from run_pool(items, _worker_init, (kb_dirs,), _assess_chunk, jobs, chunk_size)


def run_pool(items: Iterable[S], init: Callable[..., None], initargs: tuple[Any, ...],
             work: Callable[[list[S]], list[T]], jobs: int,
             chunk_size: int = CHUNK) -> Iterator[T]:
    """`work` over chunks of `items` in `jobs` worker processes, results in input order.

    The one worker pool of the project: `batch` assesses with it and `kb diff` compares two
    knowledge bases with it. `init` runs once per worker (it should ignore SIGINT, which the
    parent handles); `work` and `init` must be module-level functions so a spawned worker can
    import them. At most `jobs * IN_FLIGHT_PER_WORKER` chunks are in flight, and the parent's
    free heap is handed back to the system every `TRIM_EVERY` chunks, so its memory stays flat
    however long the input."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    gate = threading.Semaphore(jobs * IN_FLIGHT_PER_WORKER)
    with context.Pool(jobs, initializer=init, initargs=initargs) as pool:
        try:
            for done, results in enumerate(pool.imap(work, _chunks(items, chunk_size, gate)), 1):
                gate.release()
                yield from results
                if done % TRIM_EVERY == 0:
                    # results arrive on the pool's thread and are freed on this one; without
                    # this the parent's heap crept up with the caseload (engine.inference.heap)
                    from engine.inference.heap import release_free_memory

                    release_free_memory()
        finally:  # before the pool stops: never leave its feeder thread waiting on the gate
            for _ in range(jobs * IN_FLIGHT_PER_WORKER + 1):
                gate.release()


__all__ = ["Item", "Record", "assess_item", "check_input", "count_items", "default_jobs",
           "prepare", "read_items", "run_batch", "run_pool"]
