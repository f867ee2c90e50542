"""The output file of `imbalance batch`: checked before anything is touched, locked, append-only.

A batch's output is a clinician's record of a whole caseload, so:

- every refusal (output = input, a folder, no leave to overwrite, another batch writing it, a
  damaged file to resume) happens before a byte of it changes;
- one batch at a time writes a file: an `fcntl` lock on `OUT.lock`, which names the holder
  (pid, host, start time) so the second batch can say who has it; the kernel drops the lock when
  its holder dies, even by `kill -9`, so a stale lock file never blocks a later run;
- results are appended as they come, so an interruption loses at most the line being written,
  and `--resume` cuts exactly that torn last line. A damaged line anywhere else is a refusal:
  silently cutting there would throw away every record after it;
- `--force` empties the file only once the knowledge base has loaded and the lock is held.

Devices and pipes (`-o /dev/null`, a FIFO) are written in place; `-o -` is standard output.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from engine.cases.idstore import IdStore
from engine.errors import InputError

STDIO = "-"


@dataclass
class Target:
    """Where records go: a path, or standard output when `path` is None."""

    path: Path | None
    regular: bool = True  # False: a device or pipe, written in place without a lock
    identity: tuple[int, int] | None = None  # (device, inode) once open, to skip it as input
    _lock: int | None = field(default=None, repr=False)
    _lock_path: Path | None = field(default=None, repr=False)

    @property
    def shown(self) -> str:
        return "standard output" if self.path is None else str(self.path)


def check_target(out: str, source: str, resume: bool, force: bool) -> Target:
    """Refuse an unusable output before touching anything; nothing is created here."""
    if resume and force:
        raise InputError("--resume and --force contradict each other", key="--force",
                         suggestion="--resume keeps OUT and adds to it; --force starts it anew")
    if out == STDIO:
        if resume:
            raise InputError("--resume needs an output file to read back, not '-'", key="-o",
                             suggestion="write to a .jsonl file")
        return Target(None, regular=False)
    path = Path(out)
    try:
        exists = path.exists()
        if exists and path.is_dir():
            raise InputError(f"output '{out}' is a folder", key="-o",
                             suggestion="give a .jsonl file path")
        if not path.parent.is_dir():
            raise InputError(f"the folder of output file '{out}' does not exist", key="-o")
        if source != STDIO and exists and Path(source).exists() and path.samefile(source):
            raise InputError(f"output '{out}' is the input itself; writing it would destroy the "
                             "caseload", key="-o", suggestion="write the results to another file")
        regular = not exists or stat.S_ISREG(path.stat().st_mode)
    except OSError as exc:
        raise InputError(f"cannot use output '{out}': {exc.strerror or exc}", key="-o") from None
    if exists and regular and not (resume or force):
        raise InputError(f"output file '{out}' already exists", key="-o",
                         suggestion="add --resume to finish it, or --force to overwrite it")
    if regular and not os.access(path.parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot write in the folder of output '{out}'", key="-o")
    return Target(path, regular=regular)


def lock(target: Target) -> None:
    """Take the output's lock, or refuse naming the batch that holds it."""
    if target.path is None or not target.regular:
        return
    lock_path = target.path.with_name(target.path.name + ".lock")
    for _ in range(10):  # the holder may remove the file between our open and our lock
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise InputError(f"cannot create the lock file '{lock_path}': {exc.strerror}",
                             key="-o") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 400).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise InputError(f"output '{target.path}' is being written by another batch "
                             f"({holder})", key="-o",
                             suggestion="wait for it to finish, or write to another file") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(lock_path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            since = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            os.write(fd, f"pid {os.getpid()} on {socket.gethostname()} since {since}\n".encode())
            target._lock, target._lock_path = fd, lock_path
            return
        os.close(fd)
    raise InputError(f"could not take the lock '{lock_path}'", key="-o")  # pragma: no cover


def unlock(target: Target) -> None:
    if target._lock is not None and target._lock_path is not None:
        target._lock_path.unlink(missing_ok=True)  # while still holding it: no one else can
        os.close(target._lock)
        target._lock = target._lock_path = None


def finished_ids(out: Path, store: IdStore) -> int:
    """Read the ids already in `out` into `store`; the byte length of the intact part.

    Only the last line may be torn (no newline: the write was interrupted); a line that is not a
    record anywhere else means the file is not what --resume expects, and nothing is changed."""
    keep = 0
    if not out.exists() or not stat.S_ISREG(out.stat().st_mode):
        return keep
    with out.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.endswith(b"\n"):
                break  # the torn last line
            if raw.strip():
                case_id = _record_id(raw)
                if case_id is None:
                    raise InputError(f"{out}:{number}: not a batch record; the file is damaged or "
                                     "was not written by 'imbalance batch', so --resume stops "
                                     "before changing it", key="--resume",
                                     suggestion="repair or remove that line, or start a new "
                                                "output file")
                store.add(case_id, number)
            keep += len(raw)
    return keep


def _record_id(raw: bytes) -> str | None:
    try:
        record = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if isinstance(record, dict) and isinstance(record.get("id"), str):
        return record["id"]
    return None


def open_target(target: Target, force: bool, keep: int | None) -> IO[str]:
    """Open for appending: emptied with --force, cut to `keep` bytes when resuming (the torn
    last line), created otherwise. Call only once every check has passed and the lock is held."""
    if target.path is None:
        return sys.stdout
    if not target.regular:
        return target.path.open("w", encoding="utf-8")
    fd = os.open(target.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
    if force:
        os.ftruncate(fd, 0)
    elif keep is not None and os.fstat(fd).st_size != keep:
        os.ftruncate(fd, keep)
    info = os.fstat(fd)
    target.identity = (info.st_dev, info.st_ino)
    return os.fdopen(fd, "w", encoding="utf-8")


__all__ = ["STDIO", "Target", "check_target", "finished_ids", "lock", "open_target", "unlock"]
