"""Writing a case file safely: never over a file without leave, never half-written.

The interview checks its `--save` path before the first question (so a refused path costs no
answers) and remembers what the file held when it was allowed to write it. When it saves, the
text goes to a temporary file in the same folder and then replaces the target in one step; if
the file changed on disk in the meantime it is left alone and a new file beside it is used.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.errors import InputError


@dataclass(frozen=True)
class SaveTarget:
    """Where the answers go, and what the file held when we were allowed to replace it
    (None: it did not exist, so it must still not exist when we write)."""

    path: Path
    expected: str | None
    update: bool = False


def check_target(save_to: str, resumed: str | None, resume_text: str, force: bool,
                 confirm: Callable[[str], bool] | None) -> SaveTarget:
    """Check the --save path before any question, so a refused path costs no answers.
    `confirm` asks the user a yes/no question; None when there is no terminal to ask on."""
    path = Path(save_to)
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise InputError(f"--save '{save_to}': the interview writes YAML case files",
                         key="--save", suggestion=f"use a name ending in .yaml, e.g. '{path.stem}.yaml'")
    if path.is_dir():
        raise InputError(f"--save '{save_to}' is a folder", key="--save",
                         suggestion="give a file name inside it")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"--save '{save_to}': folder '{folder}' does not exist", key="--save")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"--save '{save_to}': cannot write in folder '{folder}'", key="--save",
                         suggestion="choose a folder you can write to")
    if resumed is not None and path.exists() and path.resolve() == Path(resumed).resolve():
        return SaveTarget(path, resume_text, update=True)
    if not path.exists():
        return SaveTarget(path, None)
    current = _read(path)
    if force:
        return SaveTarget(path, current)
    if confirm is not None:
        if confirm(f"'{save_to}' already exists. Replace it with this interview's answers? [y/N] "):
            return SaveTarget(path, current)
        raise InputError(f"left '{save_to}' unchanged", key="--save",
                         suggestion=f"choose another --save file, or resume it: "
                                    f"imbalance interview {save_to} --save {save_to}")
    raise InputError(f"--save '{save_to}' already exists; not replacing it without confirmation",
                     key="--save", suggestion=f"pass --force to replace it, or resume it with "
                                              f"'imbalance interview {save_to} --save {save_to}'")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        return "\0unreadable"


def write_atomic(path: Path, text: str | bytes, replace: bool) -> None:
    """Write a temporary file beside `path`, then move it into place in one step. Without
    `replace`, an existing `path` is never touched (FileExistsError). Bytes (a PDF) are written
    as they are."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        data = text.encode("utf-8") if isinstance(text, str) else text
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask()
        os.chmod(tmp, mode)
        if replace:
            os.replace(tmp, path)
            return
        try:
            os.link(tmp, path)  # atomic and refuses to clobber
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links
            if path.exists():
                raise FileExistsError(str(path)) from None
            os.replace(tmp, path)
            return
        os.unlink(tmp)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def save(target: SaveTarget, text: str) -> tuple[Path, bool]:
    """(where the answers went, whether that is the requested file). If the file changed on
    disk since we were allowed to write it, it is left alone and a new file beside it is used."""
    if _read(target.path) == target.expected:
        try:
            write_atomic(target.path, text, replace=target.expected is not None)
            return target.path, True
        except FileExistsError:
            pass
    for n in range(1, 1000):
        other = target.path.with_name(f"{target.path.stem}.interview-{n}{target.path.suffix}")
        try:
            write_atomic(other, text, replace=False)
            return other, False
        except FileExistsError:
            continue
    raise InputError(f"could not find a free file name beside '{target.path}'")  # pragma: no cover
