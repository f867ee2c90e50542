"""The safety policy: what a patient is told when a red flag calls for referral.

A red flag of urgency `urgent` or `emergency` means the patient must be seen by a doctor before
anything else (IFOMPT 2020: moderate or high concern -> refer; NICE NG59). Until now the knowledge
base kept this as a convention, a `not:` guard copied into every advice rule, so a clinic layer
that forgot the guard could put "strengthen gluteus maximus" beside a cauda equina emergency.
This module is the one place that decides it, applied to every assessment whatever rule or layer
produced the advice:

- every recommendation whose `kind` is not a referral kind (`model.REFERRAL_KINDS`: the red
  flag's referral and the safety-net) is withheld; exercises, stretches and strengthening
  (`model.EXERCISE_KINDS`) are the ones that must never pass, and load management, education and
  self-care wait with them, because they presume a benign cause;
- both muscle lists are emptied;
- the referral leads the list (it does with every red flag, referral-level or not);
- what was withheld is kept, with the flags that caused it, so every output can say that advice
  was held back and why, rather than silently showing less.

Anything built from recommendations later (the plan) goes through `gate`, so there is one gate.
Kinds come from the schema (`kind:` in kb/conclusions/recommendations.yaml), never from an id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from engine.kb import model as m
from engine.record import Record

REFERRAL_URGENCIES = ("emergency", "urgent")  # IFOMPT's moderate and high concern: refer


class _Flag(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def urgency(self) -> str: ...


class _Kinded(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def kind(self) -> str: ...


Item = TypeVar("Item", bound=_Kinded)


class Withheld(Record):
    """What the policy held back and the referral-level red flags that made it do so."""

    because: tuple[str, ...] = ()  # red flag ids at referral level
    recommendations: tuple[str, ...] = ()
    stretch: tuple[str, ...] = ()
    strengthen: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.because)

    def to_dict(self) -> dict[str, list[str]]:
        return {"because": list(self.because), "recommendations": list(self.recommendations),
                "stretch": list(self.stretch), "strengthen": list(self.strengthen)}


def referral_flags(red_flags: Sequence[_Flag]) -> tuple[str, ...]:
    """The red flags that call for referral now (urgent or emergency)."""
    return tuple(flag.id for flag in red_flags if flag.urgency in REFERRAL_URGENCIES)


def allowed(kind: str, referral: bool) -> bool:
    """May advice of this kind be given? Everything may, except with a referral-level flag."""
    return not referral or kind in m.REFERRAL_KINDS


def gate(items: Sequence[Item], red_flags: Sequence[_Flag]) -> list[Item]:
    """`items` the patient may be given, referrals first: the one gate for recommendations and
    for anything (the plan) made from them."""
    referral = bool(referral_flags(red_flags))
    kept = [item for item in items if allowed(item.kind, referral)]
    return sorted(kept, key=lambda item: item.kind != "referral")  # stable: order kept otherwise


def apply_policy(red_flags: Sequence[_Flag], recommendations: Sequence[Item],
                 stretch: Sequence[str], strengthen: Sequence[str]) -> tuple[
                     list[Item], tuple[str, ...], tuple[str, ...], Withheld]:
    """(recommendations, stretch, strengthen, withheld) once the policy has been applied."""
    because = referral_flags(red_flags)
    kept = gate(recommendations, red_flags)
    if not because:
        return kept, tuple(stretch), tuple(strengthen), Withheld()
    dropped = tuple(item.id for item in recommendations if not allowed(item.kind, True))
    return kept, (), (), Withheld(because, dropped, tuple(stretch), tuple(strengthen))
