"""Write output files atomically and never clobber one by accident.

The text is written to a temporary file in the target folder and moved into place with
`os.replace`, so a reader never sees half a report and a failed run leaves nothing behind.
An existing file is replaced only with `--force`.
"""

from __future__ import annotations

import stat
from pathlib import Path

from engine.cases.saving import write_atomic
from engine.errors import InputError


def is_device(target: Path) -> bool:
    """A character device or pipe (`/dev/null`, `/dev/stdout`, a FIFO): written in place.
    Replacing it with a regular file (what an atomic rename does) would break the device for
    every other program; writing into it destroys nothing, so it needs no --force either."""
    try:
        mode = target.stat().st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def check_target(path: str, force: bool, option: str = "-o") -> Path:
    """Fail early, before any work, when `path` cannot or must not be written."""
    target = Path(path)
    if target.is_dir():
        raise InputError(f"output '{path}' is a folder", key=option,
                         suggestion="give a file name, e.g. 'report.html'")
    if is_device(target):
        return target
    if target.exists() and not stat.S_ISREG(target.stat().st_mode):
        raise InputError(f"output '{path}' is not a regular file", key=option,
                         suggestion="write the report to a .html file")
    if target.exists() and not force:
        raise InputError(f"output file '{path}' already exists; not overwriting it", key=option,
                         suggestion="use --force to overwrite it, or choose another name")
    folder = target.parent
    if not folder.is_dir():
        raise InputError(f"output folder '{folder}' does not exist", key=option,
                         suggestion="create it first or write somewhere else")
    return target


def check_output(case: str, output: str, force: bool) -> None:
    """Refuse, before any work, an output that is the case file itself or exists already
    (without --force). A name ending in .pdf gets a PDF, any other the HTML."""
    if output == "-":
        return
    if case != "-" and Path(output).resolve() == Path(case).resolve():
        raise InputError(f"output '{output}' is the case file itself", key="-o",
                         suggestion="write to a .html or .pdf file, e.g. -o report.html")
    check_target(output, force)


def write_atomically(path: str, text: str | bytes, force: bool, option: str = "-o") -> None:
    """Write `text` to `path` via a temporary file and `os.replace` (engine.cases.saving does the
    moving, shared with the interview's --save); every failure becomes a clear InputError."""
    target = check_target(path, force, option)
    try:
        if is_device(target):
            data = text.encode("utf-8") if isinstance(text, str) else text
            with target.open("wb") as handle:  # a device or pipe is written into, never replaced
                handle.write(data)
            return
        write_atomic(target, text, replace=force)
    except FileExistsError:  # appeared while we were writing
        raise InputError(f"output file '{path}' already exists; not overwriting it", key=option,
                         suggestion="use --force to overwrite it, or choose another name") from None
    except OSError as exc:
        raise InputError(f"cannot write '{path}': {exc.strerror}", key=option) from None
