"""Reading one typed line that answers a whole checklist, the way a clinician ticks a form.

    none            every item no
    2 5             items 2 and 5 yes, the rest no
    3r 7 left       a side for sided items (l, r, b or left, right, bilateral, both)
    2 skip 4 6      2 yes, 4 and 6 not known, the rest no ('no 3' may name a no as well);
                    members the checklist lists as `explicit_no` stay unasked unless named
    skip            nothing known (every item stays unknown)
    each            ask the items one at a time
    ? 3             why item 3 is asked (? alone: why the checklist is asked)

Never raises: a line that fits nothing comes back as `invalid` with a hint for asking again.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.kb import model as m

NONE_WORDS = ("none", "no", "n", "0", "nothing", "none of them", "none of these")
EACH_WORDS = ("each", "e", "one by one", "one at a time", "separately")
UNKNOWN_WORDS = ("skip", "s", "dk", "?", "unknown", "not known")
SIDE_WORDS = {"l": "left", "left": "left", "r": "right", "right": "right", "b": "bilateral",
              "bilateral": "bilateral", "both": "bilateral"}
WHY_WORDS = ("?", "why")
_ITEM = re.compile(r"^(\d+)([a-z]*)$")


@dataclass(frozen=True)
class Ticks:
    """A checklist answered: a value for every member that is known, the rest not known."""

    values: dict[str, Any] = field(default_factory=dict)
    unknown: tuple[str, ...] = ()


@dataclass(frozen=True)
class TickReply:
    """What a line means for a checklist: answer (with Ticks), why (with an item index or
    None), skip, each, back, quit, help, or invalid with a hint."""

    kind: str
    ticks: Ticks = field(default_factory=Ticks)
    item: int | None = None
    hint: str = ""


COMMANDS = {"back": "back", "undo": "back", "quit": "quit", "q": "quit", "exit": "quit",
            "help": "help", "h": "help"}


def tick_words(members: Sequence[m.Finding]) -> str:
    """The answers a checklist takes, as a clinician would type them."""
    sided = next((str(i) for i, f in enumerate(members, 1) if f.type == "sided"), "")
    side = f"; {sided}r for a side" if sided else ""
    return f"none, or the numbers that apply (e.g. 1 3{side}); 'skip 2' for one not known"


def read_ticks(members: Sequence[m.Finding], text: str,
               explicit_no: Collection[str] = ()) -> TickReply:
    """Read one typed line for a checklist of `members` (numbered from 1). Members in
    `explicit_no` are recorded as no only when the line says so ('none', or 'no 3'); a tick
    elsewhere leaves them unasked, so ticking the leg never records the back as pain-free."""
    word = " ".join(text.strip().lower().replace(",", " ").replace(";", " ").split())
    if not word:
        return TickReply("invalid", hint=f"type {tick_words(members)}")
    if word in COMMANDS:
        return TickReply(COMMANDS[word])
    if word in WHY_WORDS:
        return TickReply("why")
    first, _, rest = word.partition(" ")
    if first in WHY_WORDS and rest.isdigit():
        index = int(rest)
        if 1 <= index <= len(members):
            return TickReply("why", item=index - 1)
        return TickReply("invalid", hint=f"there is no item {rest}; the items are 1 to {len(members)}")
    if word in UNKNOWN_WORDS:
        return TickReply("skip")
    if word in EACH_WORDS:
        return TickReply("each")
    if word in NONE_WORDS:
        return TickReply("answer", Ticks({f.id: False for f in members}))
    return _items(members, word.split(), explicit_no)


def _items(members: Sequence[m.Finding], tokens: list[str],
           explicit_no: Collection[str] = ()) -> TickReply:
    chosen: dict[int, Any] = {}
    unknown: set[int] = set()
    mode = "yes"
    last: int | None = None
    for token in tokens:
        if token in UNKNOWN_WORDS:
            mode, last = "unknown", None
            continue
        if token in ("yes", "y", "no", "n"):
            mode, last = ("yes" if token.startswith("y") else "no"), None
            continue
        if token in SIDE_WORDS and last is not None:
            problem = _side(members, last, token, chosen)
            if problem:
                return TickReply("invalid", hint=problem)
            last = None
            continue
        match = _ITEM.match(token)
        if not match:
            return TickReply("invalid", hint=f"'{token}' is not an item number; type "
                             f"{tick_words(members)}")
        index = int(match.group(1)) - 1
        if not 0 <= index < len(members):
            return TickReply("invalid", hint=f"there is no item {match.group(1)}; the items are "
                             f"1 to {len(members)}")
        if index in chosen or index in unknown:
            return TickReply("invalid", hint=f"item {index + 1} is given twice")
        if mode != "yes":
            if match.group(2):
                return TickReply("invalid", hint=f"a side goes only with an item that applies "
                                 f"({token})")
            if mode == "unknown":
                unknown.add(index)
            else:
                chosen[index] = False
            last = None
            continue
        chosen[index] = True
        last = index
        if match.group(2):
            problem = _side(members, index, match.group(2), chosen)
            if problem:
                return TickReply("invalid", hint=problem)
            last = None
    if not chosen and not unknown:  # 'yes' alone: some apply, but which?
        return TickReply("invalid", hint="which ones? type the numbers that apply (e.g. 2 5), or "
                         "none")
    values = {f.id: chosen.get(i, False) for i, f in enumerate(members)
              if i not in unknown and (i in chosen or f.id not in explicit_no)}
    return TickReply("answer", Ticks(values, tuple(members[i].id for i in sorted(unknown))))


def _side(members: Sequence[m.Finding], index: int, word: str, chosen: dict[int, Any]) -> str:
    """Put the side `word` on item `index`; returns a hint when it does not fit."""
    finding = members[index]
    side = SIDE_WORDS.get(word)
    if side is None:
        return f"'{word}' after item {index + 1} is not a side; use l, r or b"
    if finding.type != "sided":
        return f"item {index + 1} ({finding.label}) has no side; type just {index + 1}"
    chosen[index] = side
    return ""


__all__ = ["TickReply", "Ticks", "read_ticks", "tick_words"]
