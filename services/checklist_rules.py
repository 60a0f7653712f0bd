"""Checklist rules shared by incidents and playbooks: limits, item text, numbering."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import Invalid
from .text import one_line

ITEMS_PER_CHECKLIST_MAX = 200
ITEM_TEXT_MAX = 500
CHECKLIST_TITLE_MAX = 64
CHECKLISTS_MAX = 20
DEFAULT_CHECKLIST_TITLE = "Checklist"


@dataclass
class ChecklistSpec:
    """A checklist as plain values: what a playbook version holds and an incident copies."""

    title: str
    items: list[str] = field(default_factory=list)


ROLE_MAX = 32
_ROLE = re.compile(r"[a-z][a-z0-9-]{0,%d}" % (ROLE_MAX - 1))
# a playbook item's owner, by role: `[comms] Update the status page` (one word in brackets)
_LEADING_ROLE = re.compile(r"\[([^\]\s]*)\]\s+(\S.*)")
# and its deadline after the start: `... +30m` (a last word of + digits and letters)
_TRAILING_OFFSET = re.compile(r"(.*\S)\s+\+(\d+)([a-z]+)")
_OFFSET_UNITS = {"m": 60, "h": 3600, "d": 86400}
OFFSET_MAX = 7 * 86400
ROLE_RULE = "a role is one word of lowercase letters, digits and dashes that starts with a letter, such as comms"


@dataclass(frozen=True)
class ItemMarkup:
    """A playbook item as written, split: its title, the role that gets it, when it is due."""

    title: str
    role: str | None = None
    due_offset: int | None = None  # seconds after the incident starts


def clean_role(text: str) -> str:
    """A role's name as stored: `Comms` and `comms` are one role."""
    word = text.strip().lower()
    if not _ROLE.fullmatch(word):
        raise Invalid(f"{' '.join(text.split())[:40]!r} is not a role name: {ROLE_RULE}.")
    return word


def split_item_markup(text: str) -> ItemMarkup:
    """`[comms] Update the status page +30m` -> the title, role `comms`, due 30 minutes after the start.

    Both parts are optional; brackets holding several words are part of the title."""
    title, role, offset = text, None, None
    leading = _LEADING_ROLE.fullmatch(title)
    if leading:
        try:
            role = clean_role(leading.group(1))
        except Invalid:
            raise Invalid(f"In the item {text[:60]!r}, [{leading.group(1)[:40]}] is not a role name: {ROLE_RULE}.") from None
        title = leading.group(2)
    trailing = _TRAILING_OFFSET.fullmatch(title)
    if trailing:
        amount, unit = int(trailing.group(2)), trailing.group(3)
        if unit not in _OFFSET_UNITS or not 60 <= amount * _OFFSET_UNITS[unit] <= OFFSET_MAX:
            raise Invalid(f"In the item {text[:60]!r}, +{trailing.group(2)}{unit} is not a deadline: write when it is due "
                          "after the start as +30m, +2h or +1d (at most +7d).")
        title, offset = trailing.group(1), amount * _OFFSET_UNITS[unit]
    return ItemMarkup(title, role, offset)


def clean_item_text(text: str) -> str:
    cleaned = one_line(text)
    if not cleaned:
        raise Invalid("A checklist item needs some text.")
    if len(cleaned) > ITEM_TEXT_MAX:
        raise Invalid(
            f"That item is {len(cleaned)} characters long; keep items to {ITEM_TEXT_MAX}."
        )
    return cleaned


def clean_checklist_title(title: str) -> str:
    cleaned = one_line(title)
    if not cleaned:
        raise Invalid("A checklist needs a name.")
    if len(cleaned) > CHECKLIST_TITLE_MAX:
        raise Invalid(
            f"The checklist name {cleaned[:20]!r}... is {len(cleaned)} characters long; "
            f"use at most {CHECKLIST_TITLE_MAX}."
        )
    return cleaned


def check_room_for(count: int, checklist_number: int) -> None:
    if count >= ITEMS_PER_CHECKLIST_MAX:
        raise Invalid(
            f"Checklist {checklist_number} already has {ITEMS_PER_CHECKLIST_MAX} items, the most "
            "it can hold; remove one first or use another checklist."
        )


def validate_specs(specs: list[ChecklistSpec]) -> list[ChecklistSpec]:
    """Clean every title and item and enforce the limits; returns cleaned copies."""
    if len(specs) > CHECKLISTS_MAX:
        raise Invalid(f"A playbook can have at most {CHECKLISTS_MAX} checklists; this has {len(specs)}.")
    cleaned = []
    for number, spec in enumerate(specs, start=1):
        if len(spec.items) > ITEMS_PER_CHECKLIST_MAX:
            raise Invalid(
                f"Checklist {number} ({spec.title}) has {len(spec.items)} items; "
                f"the most a checklist can hold is {ITEMS_PER_CHECKLIST_MAX}."
            )
        items = [clean_item_text(i) for i in spec.items]
        for item in items:
            split_item_markup(item)  # a playbook item may name its owner's role and a deadline: they must read
        cleaned.append(ChecklistSpec(clean_checklist_title(spec.title), items))
    return cleaned


def parse_checklists_text(text: str) -> list[ChecklistSpec]:
    """One item per line; a line `## Name` starts another checklist.

    An item may start with the role that gets it and end with its deadline after the start:
    `[comms] Update the status page +30m` (`split_item_markup`); the text is kept as written.

    Items before the first heading go to a checklist named "Checklist". Blank lines
    are skipped and a leading Markdown bullet ("- ", "* ", "- [ ] ") is dropped, so a
    pasted Markdown list works. No text at all gives one empty checklist.
    """
    specs: list[ChecklistSpec] = []
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("##"):
            specs.append(ChecklistSpec(line.lstrip("#").strip()))
            continue
        for bullet in ("- [ ] ", "- [x] ", "- ", "* "):
            if line.startswith(bullet):
                line = line[len(bullet):]
                break
        if not specs:
            specs.append(ChecklistSpec(DEFAULT_CHECKLIST_TITLE))
        specs[-1].items.append(line)
    return validate_specs(specs or [ChecklistSpec(DEFAULT_CHECKLIST_TITLE)])


def locate_checklist(counts: list[int], checklist_number: int) -> int:
    """0-based index of a 1-based checklist number, with a message saying what exists."""
    if not 1 <= checklist_number <= len(counts):
        have = f"{len(counts)} checklist" + ("" if len(counts) == 1 else "s")
        raise Invalid(f"Checklist {checklist_number} does not exist: there {'is' if len(counts) == 1 else 'are'} {have}.")
    return checklist_number - 1


def locate_item(counts: list[int], checklist_number: int, item_number: int) -> tuple[int, int]:
    """0-based (checklist, item) indices of a 1-based reference, with clear messages."""
    ci = locate_checklist(counts, checklist_number)
    if not 1 <= item_number <= counts[ci]:
        raise Invalid(
            f"Item {item_number} does not exist: checklist {checklist_number} has "
            f"{counts[ci]} item{'' if counts[ci] == 1 else 's'}."
        )
    return ci, item_number - 1


def locate_target_position(count: int, checklist_number: int, position: int) -> int:
    """0-based index for moving an item to 1-based `position` among `count` items."""
    if not 1 <= position <= count:
        raise Invalid(
            f"Position {position} is out of range: checklist {checklist_number} has "
            f"{count} item{'' if count == 1 else 's'}, so use 1 to {count}."
        )
    return position - 1
