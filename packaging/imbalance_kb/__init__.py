"""The `imbalance` command's launcher: the one top-level name the wheel installs.

The checkout keeps the layout its users know (`engine/`, `reports/`, `commands/`, `clinic/`,
`cli.py`, `kb/` at the top). Installed as they are, those generic names would sit in
site-packages where another distribution's `engine` or `cli` could overwrite them, or ours
theirs. So the wheel puts the unchanged tree under `imbalance_kb/app/` (byte for byte the code
that was tested; docs/PACKAGING.md weighs the alternatives) and this launcher puts that folder
at the front of `sys.path` only inside the `imbalance` process. In a development checkout
(editable install) there is no `app/` folder and the checkout root is already importable.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # the C module under `signal` (no stub); `signal` imports enum first
import os


def interrupted_while_starting(_signum: int, _frame: object) -> None:
    """Ctrl-C before a command runs (while Python imports): no traceback, nothing to clean up.
    `cli` puts Python's own handler back as a command starts, so a command can clean up."""
    os.write(2, b"interrupted\n")
    os._exit(130)


# First thing, so a Ctrl-C while the rest is imported ends quietly too. Only this module, which
# the `imbalance` console script alone imports, installs it, and not when told to ignore
# Ctrl-C: a process that imports `cli` for other reasons (a test runner's worker) keeps its own.
if _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:
    _signal.signal(_signal.SIGINT, interrupted_while_starting)

import gc  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

# The cyclic garbage collector is paused while the command starts: every object made until then
# (modules, classes, functions; then the KB and the engine) lives until the process exits, and
# Python's default thresholds scanned them some 40 times in a start of `assess` for nothing
# (about 5% of its time, bench/RESULTS.md). `cli` resumes it as soon as it knows the command,
# unless that command is one of `cli.COLLECTOR_PAUSED` (one case in, one answer or document out).
collector_paused = gc.isenabled()
gc.disable()

APP = Path(__file__).resolve().parent / "app"

# experta 1.9.4 pins frozendict==1.2, which imports `collections.Mapping` and so fails on
# Python 3.10+. uv's override-dependencies (pyproject.toml) lifts the pin; plain pip cannot.
OLD_FROZENDICT = ("error: frozendict {version} is installed (experta's pin), which does not work on "
                  "Python 3.10+ (install with uv: 'uv tool install imbalance-kb', or 'uv pip install "
                  "--override' with frozendict>=2.4 and schema>=0.7; see docs/PACKAGING.md)")


def main() -> None:
    _check_frozendict()
    if APP.is_dir() and str(APP) not in sys.path:
        sys.path.insert(0, str(APP))
    from cli import main as cli_main

    try:
        cli_main()
    finally:
        # Python ends with a full collection over every object still alive, although at exit
        # nothing is left to reclaim early: 40-60 ms after a `report` (networkx and jinja2 hold
        # hundreds of thousands), a few ms after `assess`. Frozen objects are skipped by it;
        # everything else about the exit (atexit handlers, flushing and closing files, freeing
        # memory) is unchanged.
        gc.freeze()


def _check_frozendict() -> None:
    """Refuse experta's old frozendict pin with one line, before anything imports experta.

    Tried by importing it (experta's commands import it anyway): 0.x and 1.x fail right there
    on Python 3.10+. `importlib.metadata`, which names the version, is imported only then: it
    pulls in email, zipfile and csv and scans site-packages, 20-50 ms of every start otherwise.
    """
    try:
        import frozendict  # noqa: F401
    except ModuleNotFoundError:
        return  # not installed at all: the commands that need it say so
    except (ImportError, AttributeError):
        from importlib import metadata

        try:
            version = metadata.version("frozendict")
        except metadata.PackageNotFoundError:  # pragma: no cover - importable yet not installed
            version = "?"
        print(OLD_FROZENDICT.format(version=version), file=sys.stderr)
        raise SystemExit(2) from None
