"""Did-you-mean suggestions for unknown names, by string similarity.

Only a mistake needs one, so difflib is imported then, not at every start."""

from __future__ import annotations

from collections.abc import Iterable


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The most similar known name, or None when nothing is close enough to be a typo."""
    import difflib

    pool = list(candidates)
    matches = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if matches:
        return matches[0]
    lowered = name.lower()
    for candidate in pool:
        if lowered and (lowered in candidate or candidate in lowered) and len(lowered) >= 4:
            return candidate
    return None


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """A ready-to-print suggestion, empty when there is no plausible match."""
    match = closest(name, candidates)
    return f"did you mean '{match}'?" if match else ""
