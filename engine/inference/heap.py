"""Give the C heap's free pages back to the operating system during a long batch.

Why this exists: a batch's parent process receives every worker's results on the pool's
result-handler thread and frees them on the main thread. glibc's allocator keeps what is freed
in per-thread arenas and returns memory to the system only from the top of a heap, so with
results of a few kilobytes streaming through, the parent's resident memory crept up with the
caseload (measured in bench/RESULTS.md, batch memory: 35 -> 60 MB from 10,000 to 1,000,000
cases) although nothing it holds grows. `malloc_trim(0)` releases the free pages inside every
arena (glibc 2.8 and later); called every few thousand cases it keeps the parent flat for a
cost of well under a millisecond per call.

There is no library for this one call: it is glibc's, reached through `ctypes`. Where the C
library has no `malloc_trim` (musl, macOS, Windows) `release_free_memory` does nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache


@cache
def _trim() -> Callable[[int], int] | None:
    try:
        import ctypes

        # the symbols already loaded into this process (the C library among them); not
        # ctypes.util.find_library, which runs ldconfig (50 ms)
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, ImportError, TypeError):
        return None
    return trim


def release_free_memory() -> bool:
    """Return the allocator's free pages to the system; False where that is not possible."""
    trim = _trim()
    if trim is None:
        return False
    trim(0)
    return True


__all__ = ["release_free_memory"]
