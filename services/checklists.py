"""Incident checklist edits and ticks.

Concurrency: every write takes the incident row first (`SELECT ... FOR UPDATE` on
PostgreSQL; on SQLite the transaction already holds the database write lock from
`BEGIN IMMEDIATE`), then changes the item(s) and bumps `Incident.version` in the
same transaction. So two people ticking different items at once both stick, and
positions never shift under a concurrent edit.

Ticks: a button names its item by database id, so it ticks that item whatever
changed since its message was rendered; a typed command names it by its position
now ("2.3"). A button carries the state it asks for, so ticking an item into the
state it already has changes nothing: ALREADY.
"""
from __future__ import annotations

from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Any, Iterator

from models import STATE_CLOSED, STATE_OPEN, Checklist, ChecklistItem, Incident, db, is_postgres
from models import prepared
from models.clock import now_ms

from . import timeline
from .actor import Actor
from .checklist_rules import (
    check_room_for,
    clean_item_text,
    locate_checklist,
    locate_item,
    locate_target_position,
)
from .errors import Conflict, NotFound
from .figures import earliest
from .incidents import require_change
from .naming import parse_item_ref

ItemRef = int | str  # int: item id (buttons); str: "C.N" or "N" as users type it
Lists = list[tuple[Checklist, list[ChecklistItem]]]  # an incident's checklists and their items, in order


class TickOutcome(Enum):
    APPLIED = "applied"
    ALREADY = "already"


@dataclass(frozen=True)
class TickResult:
    outcome: TickOutcome
    item: ChecklistItem
    version: int  # the incident version after this call
    # the incident and its checklists as this call left them (read under its lock, at `version`): what to render
    incident: Incident
    checklists: Lists


def checklists_of(incident: Incident) -> Lists:
    """The incident's checklists and their items, in order (for rendering)."""
    # every click and render reads these: SQL made once (models/prepared.py)
    checklists = prepared.select(Checklist, "checklists of an incident", _checklists_query, incident.id)
    items: list[Any] = prepared.select(ChecklistItem, "checklist items of an incident", _items_query, incident.id) if checklists else []
    by_checklist: dict[int, list[ChecklistItem]] = {c.id: [] for c in checklists}
    for item in items:
        by_checklist[item.checklist_id].append(item)
    return [(c, by_checklist[c.id]) for c in checklists]


def _checklists_query(incident_id: int) -> Any:
    return Checklist.select().where(Checklist.incident == incident_id).order_by(Checklist.position)


def _items_query(incident_id: int) -> Any:
    return (ChecklistItem.select().join(Checklist, on=(ChecklistItem.checklist == Checklist.id))
            .where(Checklist.incident == incident_id).order_by(ChecklistItem.position))


def _locked_query(incident_id: int) -> Any:
    query = Incident.select().where(Incident.id == incident_id)
    return query.for_update() if is_postgres() else query


@contextmanager
def locked_active(actor: Actor, incident: Incident | int, *, when_ended: str) -> Iterator[Incident]:
    """A transaction holding the incident row; yields the fresh incident, which must be active
    (else Conflict with `when_ended`, in which `{name}` is the incident's name, quoted).

    `incident` may be just its id (a click names no more): then the actor's right to change it
    is checked on the row read under the lock, which spares a read before it."""
    if isinstance(incident, Incident):
        require_change(actor, incident)
    incident_id = incident.id if isinstance(incident, Incident) else incident
    with db.atomic():
        found = prepared.select(Incident, "incident, locked", _locked_query, incident_id)
        if not found:
            raise NotFound("This incident no longer exists.")
        current = found[0]
        if not isinstance(incident, Incident):
            require_change(actor, current)
        if not current.is_active:
            raise Conflict(when_ended.format(name=repr(current.name)))
        yield current


def _editing(actor: Actor, incident: Incident | int) -> AbstractContextManager[Incident]:
    return locked_active(actor, incident, when_ended="Incident {name} has ended; restart it to change its checklist.")


def _bump(current: Incident) -> int:
    prepared.execute("bump an incident's version", _bump_query, current.id)
    return current.version + 1


def _bump_query(incident_id: int) -> Any:
    return Incident.update(version=Incident.version + 1).where(Incident.id == incident_id)


def _is_first_tick(current: Incident, at: int) -> bool:
    """Read under the lock: only the incident's first tick writes its time (metrics' MTTA)."""
    return current.first_tick_at is None or current.first_tick_at > at


def _bump_first_tick(current: Incident, at: int) -> int:
    prepared.execute("bump an incident's version, first tick", _bump_first_tick_query, current.id, at)
    current.first_tick_at = at
    return current.version + 1


def _bump_first_tick_query(incident_id: int, at: int) -> Any:
    return (Incident.update(version=Incident.version + 1, first_tick_at=earliest(Incident.first_tick_at, at))
            .where(Incident.id == incident_id))


def _tick_query(item_id: int, target: str, user_id: str, at: int) -> Any:
    return (ChecklistItem.update(state=target, checked_by=user_id, checked_at=at)
            .where((ChecklistItem.id == item_id) & (ChecklistItem.state != target)))


def _untick_query(item_id: int, target: str) -> Any:
    return (ChecklistItem.update(state=target, checked_by=None, checked_at=None)
            .where((ChecklistItem.id == item_id) & (ChecklistItem.state != target)))


def find_item(incident: Incident, ref: ItemRef) -> tuple[Checklist, ChecklistItem]:
    """An item by id (buttons) or as people type it (`3`, `2.3`), with its checklist."""
    return _find_in(checklists_of(incident), ref)


def _find_in(lists: Lists, ref: ItemRef) -> tuple[Checklist, ChecklistItem]:
    if isinstance(ref, int) and not isinstance(ref, bool):
        for checklist, items in lists:
            for item in items:
                if item.id == ref:
                    return checklist, item
        raise NotFound("That checklist item no longer exists; it may have been removed.")
    ci, ii = locate_item([len(items) for _, items in lists], *parse_item_ref(str(ref)))
    return lists[ci][0], lists[ci][1][ii]


def _where(checklist: Checklist, item: ChecklistItem) -> dict[str, int]:
    """Ids and 1-based numbers for timeline data."""
    return {
        "item_id": item.id,
        "checklist_id": checklist.id,
        "checklist_number": checklist.position + 1,
        "item_number": item.position + 1,
    }


def set_item_state(
    actor: Actor, incident: Incident | int, item_ref_or_id: ItemRef, checked: bool
) -> TickResult:
    """`incident`: the incident, or its id (see locked_active)."""
    with _editing(actor, incident) as current:
        lists = checklists_of(current)
        checklist, item = _find_in(lists, item_ref_or_id)
        target = STATE_CLOSED if checked else STATE_OPEN
        at = now_ms()
        # every click runs this: SQL made once (models/prepared.py)
        changed = (prepared.execute("tick an item", _tick_query, item.id, target, actor.user_id, at) if checked
                   else prepared.execute("untick an item", _untick_query, item.id, target))
        if not changed:
            return TickResult(TickOutcome.ALREADY, item, current.version, current, lists)
        version = _bump_first_tick(current, at) if checked and _is_first_tick(current, at) else _bump(current)
        timeline.record(
            current, "item_checked" if checked else "item_unchecked", actor.user_id, at=at, **_where(checklist, item)
        )
    # what the UPDATE wrote, on the rows read under the lock (`item` is one of `lists`'): no read back
    item.state, item.checked_by, item.checked_at = target, actor.user_id if checked else None, at if checked else None
    current.version = version
    return TickResult(TickOutcome.APPLIED, item, version, current, lists)


def add_item(actor: Actor, incident: Incident, text: str, checklist_index: int = 1) -> ChecklistItem:
    text = clean_item_text(text)
    with _editing(actor, incident) as current:
        lists = checklists_of(current)
        ci = locate_checklist([len(items) for _, items in lists], checklist_index)
        checklist, items = lists[ci]
        check_room_for(len(items), checklist_index)
        item = ChecklistItem.create(checklist=checklist.id, position=len(items), title=text)
        _bump(current)
        timeline.record(current, "item_added", actor.user_id, **_where(checklist, item))
    return item


def _renumber(items: list[ChecklistItem]) -> None:
    for position, item in enumerate(items):
        if item.position != position:
            ChecklistItem.update(position=position).where(ChecklistItem.id == item.id).execute()
            item.position = position


def remove_item(actor: Actor, incident: Incident, ref: ItemRef) -> ChecklistItem:
    """Returns the removed item (no longer in the database) so the chat layer can name it."""
    with _editing(actor, incident) as current:
        checklist, item = find_item(current, ref)
        data = _where(checklist, item)
        item.delete_instance()
        siblings = [i for c, items in checklists_of(current) if c.id == checklist.id for i in items]
        _renumber(siblings)
        _bump(current)
        timeline.record(current, "item_removed", actor.user_id, **data)
    return item


def rename_item(actor: Actor, incident: Incident, ref: ItemRef, text: str) -> ChecklistItem:
    text = clean_item_text(text)
    with _editing(actor, incident) as current:
        checklist, item = find_item(current, ref)
        ChecklistItem.update(title=text).where(ChecklistItem.id == item.id).execute()
        _bump(current)
        timeline.record(current, "item_renamed", actor.user_id, **_where(checklist, item))
    return ChecklistItem.get_by_id(item.id)


def move_item(actor: Actor, incident: Incident, ref: ItemRef, position: int) -> ChecklistItem:
    """Move an item to 1-based `position` within its own checklist."""
    with _editing(actor, incident) as current:
        checklist, item = find_item(current, ref)
        siblings = [i for c, items in checklists_of(current) if c.id == checklist.id for i in items]
        target = locate_target_position(len(siblings), checklist.position + 1, position)
        from_number = item.position + 1
        moving = siblings.pop(item.position)
        siblings.insert(target, moving)
        _renumber(siblings)
        _bump(current)
        timeline.record(
            current, "item_moved", actor.user_id, from_number=from_number, **_where(checklist, moving)
        )
    return ChecklistItem.get_by_id(item.id)
