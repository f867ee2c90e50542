"""`imbalance batch INPUT -o OUT.jsonl`: assess a caseload, one JSON line per case.

The work is in `engine.inference.batch` (reading and assessing) and
`engine.cases.batch_output` (checking, locking and appending to OUT); this module orders those
steps so that every refusal comes before OUT changes, draws the progress bar (only on a
terminal) and prints the closing summary on stderr.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from contextlib import ExitStack
from types import ModuleType
from typing import IO, Any

import click

from commands.context import app
from engine.errors import one_line
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
        if not self.total:  # standard input: the total is not known in advance
            self.stream.write(f"\r{self.done:,} cases {rate:,.0f} cases/s ")
            self.stream.flush()
            return
        share = min(self.done / self.total, 1.0)
        bar = "#" * int(share * 30)
        self.stream.write(f"\r[{bar:<30}] {self.done:,}/{self.total:,} {rate:,.0f} cases/s ")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.done:
            self.stream.write("\n")
            self.stream.flush()


@click.command()
@click.argument("source", metavar="INPUT")
@click.option("-o", "--output", "out", required=True, metavar="OUT.jsonl",
              help="The JSONL file to write, one result per line ('-' for standard output).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: the number of cores).")
@click.option("--resume", is_flag=True, help="Keep OUT and skip the case ids already in it.")
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
@click.option("--dask", "dask", metavar="ADDRESS", default=None,
              help="Assess on a Dask cluster: a scheduler address (tcp://host:8786), or 'local' "
                   "to start one on this machine with -j workers. Needs imbalance-kb[dask].")
@click.pass_context
def batch(ctx: click.Context, source: str, out: str, jobs: int | None, resume: bool,
          force: bool, dask: str | None) -> None:
    """Assess every case in INPUT (a folder of case files, a .jsonl file with one case object
    per line and an optional "id", or - for JSONL on standard input) into OUT, one JSON line per
    case, in input order.

    Results are written as each case finishes, so an interrupted batch keeps its work; run it
    again with --resume to finish. A bad case becomes an error line and the batch goes on;
    the exit code is 1 when any case failed. One batch at a time may write OUT (OUT.lock names
    the one that does). With --dask the same per-case work runs on a Dask cluster and OUT is
    the same file (docs/dask.md).
    """
    from engine.cases import batch_output as output
    from engine.cases.idstore import IdStore
    from engine.inference import batch as work

    state = app(ctx)
    kind = work.check_input(source)
    target = output.check_target(out, source, resume, force)
    output.lock(target)  # refusals above and below leave OUT as it was
    try:
        with IdStore() as done:
            keep = output.finished_ids(target.path, done) if resume and target.path else None
            jobs = jobs or work.default_jobs()
            work.prepare(state.kb_dirs)  # a broken --kb layer stops here, OUT untouched
            total = max(work.count_items(source) - len(done), 0)
            with ExitStack() as stack:
                client = None
                if dask:  # connected before OUT is opened: an unreachable cluster changes nothing
                    from engine.inference.cluster import cluster_client

                    client = stack.enter_context(cluster_client(dask, jobs))
                handle = output.open_target(target, force, keep)
                try:
                    _run(work, source, kind, target, handle, done, jobs, state.kb_dirs, total,
                         (dask, client) if dask else None)
                finally:
                    if handle is not sys.stdout:
                        handle.close()
    finally:
        output.unlock(target)


def _run(work: ModuleType, source: str, kind: str, target: Any, handle: IO[str], done: Any,
         jobs: int, kb_dirs: tuple[str, ...], total: int, dask: tuple[str, Any] | None) -> None:
    stderr = sys.stderr
    progress = Progress(total, stderr, enabled=stderr.isatty())
    triage: Counter[str] = Counter()
    errors = 0
    started = time.perf_counter()
    items = work.read_items(source, done if len(done) else None, target.identity)
    if dask:
        from engine.inference.cluster import run_on_dask

        address, client = dask
        records = run_on_dask(items, kb_dirs, client)
        where = f"on Dask ({'a local cluster of ' + str(jobs) if address == 'local' else address})"
    else:
        records = work.run_batch(items, kb_dirs, jobs)
        where = f"{jobs} worker{'s' if jobs != 1 else ''}"
    try:
        for record in records:
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
    skipped = f" ({len(done):,} already in {target.shown}, skipped)" if len(done) else ""
    rate = cases / elapsed if elapsed > 0 else 0.0
    shown = "standard input" if source == "-" else f"{kind} {source}"
    click.echo(one_line(f"{cases:,} cases{skipped} from {shown}: {counts}; errors {errors}; "
                        f"{elapsed:.1f} s, {rate:,.0f} cases/s, {where}"), err=True)
    if errors:
        click.echo(one_line(f"{errors} case{'s' if errors != 1 else ''} failed; see the "
                            f"\"error\" lines in {target.shown}"), err=True)
        sys.exit(1)
