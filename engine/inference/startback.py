"""The Keele STarT Back score behind the contract's `risk_group` JSON key.

The care pathways are rules (kb/rules/advice/6_startback.yaml): `at_least` over the nine items
says which group a patient is in, as far as the answers settle it. The JSON key also reports
the two scores, and counting is arithmetic the rule language deliberately does not have, so it
is done here, in one place, from the nine contract ids. The group thresholds below are the
published ones (Hill 2008: total 3 or less low; distress subscale, items 5-9, 4 or more high;
otherwise medium); tests/test_startback.py checks, for all 512 answer patterns, that this module
and the rules name the same group, so the two cannot drift apart.

The contract gives a group only when all nine items are known; with any item unanswered the
key is null, even where the rules can already tell (six "no" answers make low risk).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TOOL = "startback"
ITEMS = (
    "startback_leg_pain",
    "startback_shoulder_or_neck_pain",
    "startback_walks_short_distances_only",
    "startback_dresses_slowly",
    "startback_unsafe_to_be_active",
    "startback_worrying_thoughts",
    "startback_feels_terrible",
    "startback_not_enjoyed_things",
    "startback_very_bothersome",
)
PSYCHOSOCIAL = ITEMS[4:]  # items 5-9: fear, anxiety, catastrophising, mood, bothersomeness
LOW_MAX_TOTAL = 3
HIGH_MIN_PSYCHOSOCIAL = 4


def group_of(total: int, psychosocial: int) -> str:
    """The risk group for a total (0-9) and a psychosocial subscore (0-5)."""
    if total <= LOW_MAX_TOTAL:
        return "low"
    return "high" if psychosocial >= HIGH_MIN_PSYCHOSOCIAL else "medium"


def risk_group(findings: Mapping[str, Any]) -> dict[str, Any] | None:
    """`{"tool", "id", "score", "psychosocial_score"}` once all nine items are known, else None."""
    if any(findings.get(item) is None for item in ITEMS):
        return None
    total = sum(findings[item] is True for item in ITEMS)
    psychosocial = sum(findings[item] is True for item in PSYCHOSOCIAL)
    return {"tool": TOOL, "id": group_of(total, psychosocial), "score": total,
            "psychosocial_score": psychosocial}
