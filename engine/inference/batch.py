"""Assess many cases in worker processes, streaming one JSON line per case as each finishes.

A clinic screens a whole caseload at once, so a batch must survive a bad case (it becomes an
error record and the batch goes on), an interruption (every finished case is already on disk,
and `resume` skips the ids found there), and any size (cases are read lazily and only a bounded
number are in flight, so memory does not grow with the number of cases).

Input is a folder of case files (the id is the file's path inside the folder) or a JSONL file
with one case object per line (the id is its `id` key, or `line-N`). Each output line is the
contract's JSON object with `id` first, or `{"id": ..., "error": "..."}`.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import ImbalanceError, InputError

CASE_SUFFIXES = (".yaml", ".yml", ".json")
CHUNK = 48  # cases per task sent to a worker: large enough to amortise the hand-over
IN_FLIGHT_PER_WORKER = 4  # chunks queued per worker; bounds memory whatever the input size


@dataclass(frozen=True)
class Item:
    """One case to assess: from a file (`path`) or a JSONL line (`text`), or already bad."""

    id: str
    name: str
    path: str = ""
    text: str = ""
    error: str = ""


@dataclass(frozen=True)
class Record:
    """The outcome of one case: the JSON line to write, and what the summary counts."""

    id: str
    line: str
    triage: str = ""
    error: str = ""


def check_input(source: Path) -> str:
    """'folder' or 'jsonl'; a missing or single-case input is a usage error."""
    if not source.exists():
        raise InputError(f"batch input '{source}' does not exist",
                         suggestion="give a folder of case files or a .jsonl file")
    if source.is_dir():
        return "folder"
    if source.suffix.lower() in (".yaml", ".yml"):
        raise InputError(f"'{source}' is one case file; batch takes a folder of case files or a "
                         "JSONL file", suggestion=f"use 'imbalance assess {source}'")
    return "jsonl"


def _case_files(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.endswith(CASE_SUFFIXES) and not name.startswith("."):
                yield Path(root) / name


def count_items(source: Path) -> int:
    """How many cases the input holds (for the progress bar); cheap, reads no case."""
    if source.is_dir():
        return sum(1 for _ in _case_files(source))
    count = 0
    with source.open("rb") as handle:
        for raw in handle:
            if raw.strip():
                count += 1
    return count


def read_items(source: Path, skip: set[str] | frozenset[str] = frozenset()) -> Iterator[Item]:
    """The cases of a folder or JSONL file, lazily, without those whose id is in `skip`."""
    seen: set[str] = set()

    def checked(item: Item) -> Item | None:
        if item.id in skip:
            return None
        if item.id in seen:
            return Item(item.id, item.name, error=f"{item.name}: duplicate case id '{item.id}'")
        seen.add(item.id)
        return item

    if source.is_dir():
        for path in _case_files(source):
            case_id = path.relative_to(source).as_posix()
            item = checked(Item(case_id, str(path), path=str(path)))
            if item is not None:
                yield item
        return
    with source.open(encoding="utf-8", errors="replace") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            name = f"{source}:{number}"
            case_id = f"line-{number}"
            error = ""
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                error = f"{name}: malformed JSON: {exc.msg} (column {exc.colno})"
            else:
                if isinstance(data, dict) and data.get("id") not in (None, ""):
                    case_id = str(data["id"])
                elif not isinstance(data, dict):
                    error = f"{name}: a line must be one case object {{\"findings\": ...}}"
            item = checked(Item(case_id, name, text=text, error=error))
            if item is not None:
                yield item


def finished_ids(out: Path) -> set[str]:
    """Ids already written to `out`; a torn last line (an interrupted write) is cut off."""
    done: set[str] = set()
    if not out.exists():
        return done
    keep = 0
    with out.open("rb") as handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                break
            try:
                record = json.loads(raw)
            except ValueError:
                break
            if isinstance(record, dict) and "id" in record:
                done.add(str(record["id"]))
            keep += len(raw)
    if keep != out.stat().st_size:
        with out.open("r+b") as handle:
            handle.truncate(keep)
    return done


# --- work done in each worker -----------------------------------------------------------------

_STATE: dict[str, Any] = {}


def _setup(kb_dirs: tuple[str, ...]) -> None:
    """Load and compile the KB once per process (inherited as is by forked workers)."""
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
    _setup(kb_dirs)


def assess_item(item: Item) -> Record:
    """Assess one case; any problem with it becomes an error record, never an exception."""
    from engine.cases.case import case_from_data, load_case

    if item.error:
        return _error(item.id, item.error)
    kb = _STATE["kb"]
    try:
        if item.path:
            case = load_case(item.path, kb)
        else:
            data = json.loads(item.text)
            data.pop("id", None)
            case = case_from_data(data, item.name, kb)
        result = _STATE["reasoner"].assess(case)
    except ImbalanceError as exc:
        return _error(item.id, exc.render())
    except Exception as exc:  # one broken case must not stop a caseload
        return _error(item.id, f"internal error ({type(exc).__name__}: {exc})")
    out = {"id": item.id, **result.to_dict()}
    return Record(item.id, json.dumps(out, ensure_ascii=False), triage=result.triage)


def _error(case_id: str, message: str) -> Record:
    line = json.dumps({"id": case_id, "error": message}, ensure_ascii=False)
    return Record(case_id, line, error=message)


def _assess_chunk(chunk: list[Item]) -> list[Record]:
    return [assess_item(item) for item in chunk]


def _chunks(items: Iterable[Item], size: int, gate: threading.Semaphore | None) -> Iterator[list[Item]]:
    chunk: list[Item] = []
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
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def run_batch(items: Iterable[Item], kb_dirs: tuple[str, ...], jobs: int,
              chunk_size: int = CHUNK) -> Iterator[Record]:
    """Records in the order cases finish; with `jobs` > 1 they are assessed in worker processes.

    Only `jobs * IN_FLIGHT_PER_WORKER` chunks are ever read ahead of the output, so memory stays
    flat however many cases the input holds.
    """
    _setup(kb_dirs)  # errors in the KB surface here, once, before any worker starts
    if jobs <= 1:
        for item in items:
            yield assess_item(item)
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    gate = threading.Semaphore(jobs * IN_FLIGHT_PER_WORKER)
    with context.Pool(jobs, initializer=_worker_init, initargs=(kb_dirs,)) as pool:
        try:
            for records in pool.imap_unordered(_assess_chunk, _chunks(items, chunk_size, gate)):
                gate.release()
                yield from records
        finally:  # before the pool stops: never leave its feeder thread waiting on the gate
            for _ in range(jobs * IN_FLIGHT_PER_WORKER + 1):
                gate.release()


__all__ = ["Item", "Record", "assess_item", "check_input", "count_items", "default_jobs",
           "finished_ids", "read_items", "run_batch"]
