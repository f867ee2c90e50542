"""`imbalance batch --dask ADDRESS`: the same per-case function on a Dask cluster.

A caseload larger than one machine can assess in the time a clinic has goes to a Dask cluster
(dask.distributed, the optional extra `imbalance-kb[dask]`). Nothing about assessing changes:
each worker runs `engine.inference.batch.assess_item`, the pure function the local pool runs,
on partitions of items, and the client writes the records in input order, so OUT is the file a
local run writes.

What travels:

- the knowledge base as data, once per worker: the client loads and checks it (a broken
  `--kb` layer stops the batch before anything is sent), encodes it with `engine.kb.cache`
  (plain values, marshal; no pickled code, no files needed on the workers), and broadcasts it;
  each worker process rebuilds and compiles it on its first partition;
- the cases as text: a JSONL line as read, a case file's content read by the client (workers
  need not see the client's disks), so a multi-machine cluster needs only the package
  installed, at the same version, on every worker;
- back, one `Record` (the JSON line) per case.

Input is streamed: partitions of `PARTITION` cases are submitted while at most `window`
partitions are in flight, so the client's memory does not grow with the caseload.
"""

from __future__ import annotations

import hashlib
import logging
import marshal
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from engine.cases.case import read_case_text
from engine.errors import ImbalanceError, InputError
from engine.inference import batch as work
from engine.inference.batch import Item, Record

PARTITION = 256  # cases per task: a task costs the scheduler about a millisecond
IN_FLIGHT_PER_WORKER = 3  # partitions queued per worker thread


def _kb_blob() -> tuple[str, bytes]:
    from engine.kb.cache import encode

    blob = marshal.dumps(encode(work._STATE["kb"]))
    return hashlib.blake2b(blob, digest_size=16).hexdigest(), blob


def assess_partition(digest: str, blob: bytes, items: list[Item]) -> list[Record]:
    """On a worker: make sure this process holds the KB `digest` names, then assess each item
    with the same function as a local batch."""
    if work._STATE.get("kb_dirs") != ("dask", digest):
        from engine.inference.reasoner import Reasoner
        from engine.kb.cache import decode

        kb = decode(marshal.loads(blob))
        work._STATE.update(kb_dirs=("dask", digest), kb=kb, reasoner=Reasoner(kb))
    return [work.assess_item(item) for item in items]


def portable(items: Iterable[Item]) -> Iterator[Item]:
    """Items a remote worker can assess: a case file's content instead of its path."""
    for item in items:
        if not item.path:
            yield item
            continue
        try:
            name, text = read_case_text(item.path)
        except ImbalanceError as exc:
            yield Item(item.id, item.name, error=exc.render())
            continue
        yield Item(item.id, name, text=text, document=True)


def connect(address: str, workers: int) -> tuple[Any, Any]:
    """(client, local cluster or None). `local` starts a LocalCluster of `workers` processes
    with one thread each (the engine holds the GIL); anything else is a scheduler address."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError("--dask needs Dask, which is an optional extra",
                         key="--dask", suggestion="install it with: pip install "
                         "'imbalance-kb[dask]' (or uv sync --extra dask)") from None
    quiet = logging.ERROR  # the batch's own summary is the one line on stderr
    for name in ("distributed", "dask", "tornado"):
        logging.getLogger(name).setLevel(quiet)
    if address == "local":
        # CRITICAL in the cluster's own processes: as it stops, a worker may log a failed
        # heartbeat to the scheduler that is already gone (ERROR, with a traceback: seen in CI);
        # a worker that really fails still fails its partition, which ends the batch with one line.
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.CRITICAL)
        return Client(cluster), cluster
    try:
        return Client(address, timeout="5s"), None
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"cannot reach the Dask scheduler at '{address}': {exc}", key="--dask",
                         suggestion="start one with 'dask scheduler' (and 'dask worker ADDRESS' "
                         "on each machine), or use --dask local") from None


@contextmanager
def cluster_client(address: str, workers: int) -> Iterator[Any]:
    """A connected Dask client for the batch (and its local cluster), closed on exit. A batch
    connects before it opens OUT, so an unreachable scheduler leaves OUT as it was."""
    client, cluster = connect(address, workers)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_on_dask(items: Iterable[Item], kb_dirs: tuple[str, ...], client: Any,
                partition: int = PARTITION) -> Iterator[Record]:
    """Records in input order, assessed on the client's cluster (see the module docstring)."""
    work.prepare(kb_dirs)  # the KB is checked here, once, before the cluster is involved
    digest, blob = _kb_blob()
    threads = max(1, sum(client.nthreads().values()))
    window = threads * IN_FLIGHT_PER_WORKER
    kb_future = client.scatter(blob, broadcast=True, hash=False)
    pending: deque[Any] = deque()
    chunk: list[Item] = []
    for item in portable(items):
        chunk.append(item)
        if len(chunk) >= partition:
            pending.append(client.submit(assess_partition, digest, kb_future, chunk, pure=False))
            chunk = []
            while len(pending) >= window:
                yield from pending.popleft().result()
    if chunk:
        pending.append(client.submit(assess_partition, digest, kb_future, chunk, pure=False))
    while pending:
        yield from pending.popleft().result()


__all__ = ["assess_partition", "cluster_client", "connect", "portable", "run_on_dask"]
