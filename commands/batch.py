"""`imbalance batch INPUT -o OUT.jsonl`: assess a caseload, one JSON line per case.

The work is in `engine.inference.batch`; this module parses options, guards the output file, draws the
progress bar (only on a terminal) and prints the closing summary on stderr.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path
from typing import IO

import click

from commands.context import app
from engine.errors import InputError
from engine.kb.model import TRIAGE_ORDER


class Progress:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    def __init__(self, total: int, stream: IO[str], enabled: bool) -> None:
        self.total = total
        self.stream = stream
        self.enabled = enabled
        self.start = time.perf_counter()
        self.last = 0.0
        self.done = 0

    def step(self, force: bool = False) -> None:
        self.done += 1
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self.last < 0.1 and self.done != self.total:
            return
        self.last = now
        rate = self.done / max(now - self.start, 1e-9)
        share = self.done / self.total if self.total else 1.0
        bar = "#" * int(share * 30)
        self.stream.write(f"\r[{bar:<30}] {self.done:,}/{self.total:,} {rate:,.0f} cases/s ")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.done:
            self.stream.write("\n")
            self.stream.flush()


@click.command()
@click.argument("source", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("-o", "--output", "out", required=True, type=click.Path(path_type=Path),
              help="The JSONL file to write, one result per line.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: all cores).")
@click.option("--resume", is_flag=True, help="Keep OUT and skip the case ids already in it.")
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
@click.pass_context
def batch(ctx: click.Context, source: Path, out: Path, jobs: int | None, resume: bool,
          force: bool) -> None:
    """Assess every case in INPUT (a folder of case files, or a JSONL file with one case
    object per line and an optional "id") into OUT, one JSON line per case.

    Results are written as each case finishes, so an interrupted batch keeps its work; run it
    again with --resume to finish. A bad case becomes an error line and the batch goes on;
    the exit code is 1 when any case failed.
    """
    from engine.inference import batch as work

    state = app(ctx)
    kind = work.check_input(source)
    if resume and force:
        raise InputError("--resume and --force contradict each other", key="--force",
                         suggestion="--resume keeps OUT and adds to it; --force starts it anew")
    if out.exists() and not (resume or force):
        raise InputError(f"output file '{out}' already exists", key="-o",
                         suggestion="add --resume to finish it, or --force to overwrite it")
    if out.is_dir():
        raise InputError(f"output '{out}' is a folder", key="-o", suggestion="give a .jsonl file path")
    if not out.parent.exists():
        raise InputError(f"the folder of output file '{out}' does not exist", key="-o")
    done = work.finished_ids(out) if resume else set()
    jobs = jobs or work.default_jobs()
    total = max(work.count_items(source) - len(done), 0)
    stderr = sys.stderr
    progress = Progress(total, stderr, enabled=stderr.isatty())
    triage: Counter[str] = Counter()
    errors = 0
    started = time.perf_counter()
    items = work.read_items(source, skip=frozenset(done))
    with out.open("a" if resume else "w", encoding="utf-8") as handle:
        try:
            for record in work.run_batch(items, state.kb_dirs, jobs):
                handle.write(record.line + "\n")
                if record.error:
                    errors += 1
                else:
                    triage[record.triage] += 1
                progress.step()
                if progress.done % 64 == 0:
                    handle.flush()
        finally:
            handle.flush()
            progress.close()
    elapsed = time.perf_counter() - started
    cases = progress.done
    counts = ", ".join(f"{level} {triage[level]}" for level in TRIAGE_ORDER)
    skipped = f" ({len(done):,} already in {out}, skipped)" if done else ""
    rate = cases / elapsed if elapsed > 0 else 0.0
    click.echo(f"{cases:,} cases{skipped} from {kind} {source}: {counts}; errors {errors}; "
               f"{elapsed:.1f} s, {rate:,.0f} cases/s, {jobs} worker{'s' if jobs != 1 else ''}",
               err=True)
    if errors:
        click.echo(f"{errors} case{'s' if errors != 1 else ''} failed; see the \"error\" lines "
                   f"in {out}", err=True)
        sys.exit(1)
