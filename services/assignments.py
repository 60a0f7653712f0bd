"""Who does what by when: item owners, deadlines, incident roles, personal to-dos. No Mattermost I/O.

Times are what the callers pass in (`now`, `due_at`), so the rules stay free of clocks, and a
deadline typed as `30m` is returned as a duration for the flows to place (they know the
product's time scale). Every change takes the incident row first and bumps its version in the
same transaction, like the checklist's own edits (`services/checklists.py`).
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any, Iterator

from models import STATE_OPEN, Checklist, ChecklistItem, Incident, prepared
from models.assignments import AssignmentMessage, IncidentRole, ItemAssignment

from . import timeline
from .actor import Actor
from .checklist_rules import clean_role
from .checklists import find_item, locked_active
from .errors import Conflict, Invalid, NotFound
from .item_defaults import COMMANDER

DEFAULT_ROLES = (COMMANDER, "scribe", "comms")
DEADLINE_FORMS = "30m, 2h or 1d from now, 14:00 today, or 2026-12-03 09:00 (in your Mattermost timezone); or off"
LONGEST_DEADLINE_DAYS = 365
KEEP: Any = object()  # "the deadline stays as it is"

_DURATION = re.compile(r"(\d{1,6})([mhd])")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400}
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_DATE_CLOCK = re.compile(r"(\d{4})-(\d{2})-(\d{2})[ t](\d{1,2}):(\d{2})")


# ---- deadlines as people type them ----------------------------------------------------------------
@dataclass(frozen=True)
class Deadline:
    """`after_seconds` from now (`30m`; the flows apply the time scale), or the moment `at` (ms)."""

    after_seconds: int | None = None
    at: int | None = None


def parse_deadline(text: str, *, now: int, zone: tzinfo) -> Deadline | None:
    """`30m`, `2h`, `1d`, `14:00` (today), `2026-12-03 09:00`, in `zone`; None for `off`."""
    word = " ".join(text.split()).lower()
    if word == "off":
        return None
    duration = _DURATION.fullmatch(word)
    if duration:
        seconds = int(duration.group(1)) * _UNIT_SECONDS[duration.group(2)]
        if not 60 <= seconds <= LONGEST_DEADLINE_DAYS * 86400:
            raise Invalid(f"A deadline is from 1m to {LONGEST_DEADLINE_DAYS}d away.")
        return Deadline(after_seconds=seconds)
    local_now = datetime.fromtimestamp(now / 1000, tz=timezone.utc).astimezone(zone)
    clock = _CLOCK.fullmatch(word)
    if clock:
        hour, minute = _time_of_day(clock.group(1), clock.group(2))
        at = _moment(local_now.date(), hour, minute, zone)
        if at <= now:
            tomorrow = local_now.date() + timedelta(days=1)
            raise Invalid(f"{hour:02d}:{minute:02d} today has passed (it is {local_now:%H:%M} in {_zone_name(zone)}); "
                          f"for tomorrow write {tomorrow.isoformat()} {hour:02d}:{minute:02d}.")
        return Deadline(at=at)
    dated = _DATE_CLOCK.fullmatch(word)
    if dated:
        try:
            day = date(int(dated.group(1)), int(dated.group(2)), int(dated.group(3)))
        except ValueError:
            raise Invalid(f"{dated.group(1)}-{dated.group(2)}-{dated.group(3)} is not a date: write it as 2026-12-03.") from None
        hour, minute = _time_of_day(dated.group(4), dated.group(5))
        at = _moment(day, hour, minute, zone)
        if at <= now:
            raise Invalid(f"{day.isoformat()} {hour:02d}:{minute:02d} is in the past; a deadline is in the future.")
        if at - now > LONGEST_DEADLINE_DAYS * 86400 * 1000:
            raise Invalid(f"A deadline is at most {LONGEST_DEADLINE_DAYS} days away.")
        return Deadline(at=at)
    raise Invalid(f"I can't read {' '.join(text.split())[:40]!r} as a deadline; write {DEADLINE_FORMS}.")


def _time_of_day(hours: str, minutes: str) -> tuple[int, int]:
    hour, minute = int(hours), int(minutes)
    if hour > 23:
        raise Invalid(f"{hours}:{minutes} is not a time of day: hours go from 00 to 23.")
    if minute > 59:
        raise Invalid(f"{hours}:{minutes} is not a time of day: minutes go from 00 to 59.")
    return hour, minute


def _zone_name(zone: tzinfo) -> str:
    return getattr(zone, "key", None) or str(zone)


def _moment(day: date, hour: int, minute: int, zone: tzinfo) -> int:
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
    back = local.astimezone(timezone.utc).astimezone(zone)
    if (back.hour, back.minute) != (hour, minute):  # the hour the clocks skip when they move forward
        raise Invalid(f"{hour:02d}:{minute:02d} does not exist on {day.isoformat()} in {_zone_name(zone)}: "
                      "the clocks skip it; pick another time.")
    return int(local.timestamp() * 1000)


# ---- which item -----------------------------------------------------------------------------
def item_number(checklist: Checklist, item: ChecklistItem) -> str:
    return f"{checklist.position + 1}.{item.position + 1}"


@contextmanager
def _changing(actor: Actor, incident: Incident) -> Iterator[Incident]:
    """A transaction holding the incident row (fresh); the incident must be active."""
    with locked_active(actor, incident, when_ended="{name} has ended; restart it to give out or plan its items.") as current:
        yield current
        Incident.update(version=Incident.version + 1).where(Incident.id == current.id).execute()


def _row(incident: Incident, item: ChecklistItem) -> ItemAssignment:
    row = ItemAssignment.get_or_none(ItemAssignment.item == item.id)
    if row is None:
        ItemAssignment.insert(incident=incident.id, item=item.id).on_conflict_ignore().execute()
        row = ItemAssignment.get(ItemAssignment.item == item.id)
    return row


def _not_member(username: str, channel_name: str, what: str) -> Invalid:
    # the name stays out of the command: answers make mentions inert, which would break a copied command
    return Invalid(f"@{username} is not in ~{channel_name}: invite them there first (`/invite` in ~{channel_name}, "
                   f"or the channel's *Add Members*), then {what}.")


# ---- owners ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    """What a change did to one item: the item, its number, its row now, who had it before."""

    item: ChecklistItem
    number: str
    assignment: ItemAssignment
    previous_id: str | None = None
    previous_due: int | None = None


def give(actor: Actor, incident: Incident, ref: str | int, user_id: str, *, username: str, is_member: bool, is_bot: bool = False,
         due_at: Any = KEEP, now: int) -> Change:
    """Give an open item to a channel member; `due_at` (ms, None: no deadline) changes the deadline too."""
    with _changing(actor, incident) as current:
        checklist, item = find_item(current, ref)
        number = item_number(checklist, item)
        if item.is_checked:
            raise Conflict(f"Item {number} is already ticked; untick it first to give it to someone.")
        if is_bot:
            raise Invalid(f"@{username} is a bot; give the item to a person.")
        if not is_member:
            raise _not_member(username, current.channel_name, "give them the item")
        row = _row(current, item)
        if row.assignee_id == user_id and (due_at is KEEP or due_at == row.due_at):
            raise Conflict(f"@{username} already has item {number}.")
        changes: dict[Any, Any] = {}
        if row.assignee_id != user_id:
            changes.update({ItemAssignment.assignee_id: user_id, ItemAssignment.assigned_by: actor.user_id,
                            ItemAssignment.assigned_at: now, ItemAssignment.announced: False})
            timeline.record(current, "item_assigned", actor.user_id, at=now, item_id=item.id, assignee_id=user_id,
                            previous_id=row.assignee_id)
        if due_at is not KEEP and due_at != row.due_at:
            changes.update(_due_changes(due_at))
            timeline.record(current, "item_due_changed", actor.user_id, at=now, item_id=item.id, due_at=due_at)
        ItemAssignment.update(changes).where(ItemAssignment.id == row.id).execute()
    return Change(item, number, ItemAssignment.get_by_id(row.id), row.assignee_id, row.due_at)


def take_back(actor: Actor, incident: Incident, ref: str | int, *, now: int) -> Change:
    with _changing(actor, incident) as current:
        checklist, item = find_item(current, ref)
        number = item_number(checklist, item)
        row = ItemAssignment.get_or_none(ItemAssignment.item == item.id)
        if row is None or row.assignee_id is None:
            raise Conflict(f"Nobody has item {number}.")
        ItemAssignment.update(assignee_id=None, assigned_by=actor.user_id, assigned_at=now, announced=True).where(
            ItemAssignment.id == row.id).execute()
        timeline.record(current, "item_unassigned", actor.user_id, at=now, item_id=item.id, previous_id=row.assignee_id)
    return Change(item, number, ItemAssignment.get_by_id(row.id), row.assignee_id, row.due_at)


def _due_changes(due_at: int | None) -> dict[Any, Any]:
    # a new deadline earns a new reminder; a playbook's offset no longer applies
    return {ItemAssignment.due_at: due_at, ItemAssignment.reminded_at: None, ItemAssignment.due_offset: None}


def set_due(actor: Actor, incident: Incident, ref: str | int, due_at: int | None, *, now: int) -> Change:
    """A deadline for an open item (None: none); whoever has it, or the commander, is reminded then."""
    with _changing(actor, incident) as current:
        checklist, item = find_item(current, ref)
        number = item_number(checklist, item)
        if item.is_checked:
            raise Conflict(f"Item {number} is already ticked; it needs no deadline.")
        row = _row(current, item)
        if due_at is None and row.due_at is None and row.due_offset is None:
            raise Conflict(f"Item {number} has no deadline.")
        ItemAssignment.update(_due_changes(due_at)).where(ItemAssignment.id == row.id).execute()
        timeline.record(current, "item_due_changed", actor.user_id, at=now, item_id=item.id, due_at=due_at)
    return Change(item, number, ItemAssignment.get_by_id(row.id), row.assignee_id, row.due_at)


def owners_of(incident: Incident) -> dict[int, ItemAssignment]:
    """Item id -> its row, for rendering."""
    # every checklist render reads it: SQL made once (models/prepared.py)
    rows = prepared.select(ItemAssignment, "item owners of an incident", _owners_query, incident.id)
    return {row.item_id: row for row in rows}


def _owners_query(incident_id: int) -> Any:
    return ItemAssignment.select().where(ItemAssignment.incident == incident_id)


def assignment_of(item_id: int) -> ItemAssignment | None:
    return ItemAssignment.get_or_none(ItemAssignment.item == item_id)


def item_with_number(incident: Incident, item_id: int) -> tuple[ChecklistItem, str] | None:
    """The item (of this incident) and its number now; None once removed."""
    found = (ChecklistItem.select(ChecklistItem, Checklist).join(Checklist)
             .where((ChecklistItem.id == item_id) & (Checklist.incident == incident.id)).first())
    return (found, item_number(found.checklist, found)) if found else None


# ---- roles -------------------------------------------------------------------------------------
def roles_of(incident: Incident) -> list[tuple[str, str | None]]:
    """(role, who holds it) for every role of the incident: the defaults, then the ones its
    playbook's items name, then any other held."""
    # every /incident info reads them: SQL made once (models/prepared.py)
    held = {row.role: row.user_id for row in prepared.select(IncidentRole, "roles held in an incident", _held_query, incident.id)}
    named = [str(role) for role, in prepared.rows("roles its items name", _named_query, incident.id)]
    order: list[str] = []
    for role in [*DEFAULT_ROLES, *named, *held]:
        if role not in order:
            order.append(role)
    return [(role, incident.commander_id if role == COMMANDER else held.get(role)) for role in order]


def _held_query(incident_id: int) -> Any:
    return IncidentRole.select().where(IncidentRole.incident == incident_id)


def _named_query(incident_id: int) -> Any:
    return (ItemAssignment.select(ItemAssignment.role)
            .where((ItemAssignment.incident == incident_id) & ItemAssignment.role.is_null(False))
            .order_by(ItemAssignment.id))


def known_role(incident: Incident, text: str) -> str:
    role = clean_role(text)
    names = [name for name, _ in roles_of(incident)]
    if role not in names:
        raise Invalid(f"{incident.name!r} has no role {role!r}; its roles are {', '.join(names)} "
                      "(a playbook adds its own by starting an item with [role]).")
    return role


@dataclass(frozen=True)
class RoleGiven:
    role: str
    previous_id: str | None
    items: list[tuple[ItemAssignment, str]]  # the items it brought, with their numbers


def give_role(actor: Actor, incident: Incident, role: str, user_id: str, *, username: str, is_member: bool,
              is_bot: bool = False, now: int) -> RoleGiven:
    """Name who holds a role (not the commander: that is a hand-over); the role's unowned open
    items become theirs."""
    if role == COMMANDER:
        raise ValueError("the commander is handed over, not given as a role")
    with _changing(actor, incident) as current:
        role = known_role(current, role)
        if is_bot:
            raise Invalid(f"@{username} is a bot; give the role to a person.")
        if not is_member:
            raise _not_member(username, current.channel_name, "give them the role")
        existing = IncidentRole.get_or_none((IncidentRole.incident == current.id) & (IncidentRole.role == role))
        if existing is not None and existing.user_id == user_id:
            raise Conflict(f"@{username} is already the {role} of {current.name!r}.")
        IncidentRole.delete().where((IncidentRole.incident == current.id) & (IncidentRole.role == role)).execute()
        IncidentRole.create(incident=current.id, role=role, user_id=user_id, set_by=actor.user_id, set_at=now)
        waiting = [row for row in ItemAssignment.select(ItemAssignment, ChecklistItem, Checklist)
                   .join(ChecklistItem).join(Checklist)
                   .where((ItemAssignment.incident == current.id) & (ItemAssignment.role == role)
                          & ItemAssignment.assignee_id.is_null() & (ChecklistItem.state == STATE_OPEN))
                   .order_by(Checklist.position, ChecklistItem.position)]
        for row in waiting:
            ItemAssignment.update(assignee_id=user_id, assigned_by=actor.user_id, assigned_at=now, announced=False).where(
                ItemAssignment.id == row.id).execute()
        timeline.record(current, "role_assigned", actor.user_id, at=now, user_id=user_id,
                        previous_id=existing.user_id if existing else None, items=len(waiting))
    given = [(ItemAssignment.get_by_id(row.id), item_number(row.item.checklist, row.item)) for row in waiting]
    return RoleGiven(role, existing.user_id if existing else None, given)


# ---- a person's to-do ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Todo:
    incident: Incident
    item: ChecklistItem
    number: str
    due_at: int | None


def todo_of(user_id: str, now: int) -> list[Todo]:
    """The person's open items in active incidents, overdue first, then by deadline; the caller
    keeps only the incidents they may see."""
    rows = (ItemAssignment.select(ItemAssignment, ChecklistItem, Checklist, Incident)
            .join(ChecklistItem).join(Checklist).switch(ItemAssignment).join(Incident)
            .where((ItemAssignment.assignee_id == user_id) & (ChecklistItem.state == STATE_OPEN)
                   & (Incident.is_active == True)))  # noqa: E712
    found = [Todo(row.incident, row.item, item_number(row.item.checklist, row.item), row.due_at) for row in rows]

    def order(todo: Todo) -> tuple[int, int, int, int, int]:
        rank = 2 if todo.due_at is None else (0 if todo.due_at <= now else 1)
        return (rank, todo.due_at or 0, todo.incident.created_at, todo.item.checklist.position, todo.item.position)

    return sorted(found, key=order)


# ---- deadlines that fall due, and DMs still to send ---------------------------------------------------
def due_reminders(now: int) -> list[ItemAssignment]:
    """Open items of active incidents whose deadline passed and whose reminder is not sent."""
    return list(ItemAssignment.select(ItemAssignment, ChecklistItem).join(ChecklistItem).switch(ItemAssignment).join(Incident)
                .where((ItemAssignment.due_at <= now) & ItemAssignment.reminded_at.is_null()
                       & (ChecklistItem.state == STATE_OPEN) & (Incident.is_active == True))  # noqa: E712
                .order_by(ItemAssignment.due_at))


def claim_reminder(row: ItemAssignment, now: int) -> bool:
    """True for the one caller (across replicas) that sends this reminder."""
    claimed = (ItemAssignment.update(reminded_at=now)
               .where((ItemAssignment.id == row.id) & (ItemAssignment.due_at == row.due_at)
                      & ItemAssignment.reminded_at.is_null())
               .execute())
    if claimed:
        timeline.record(incident_of(row), "item_due_reminded", None, at=now, item_id=row.item_id, due_at=row.due_at)
    return bool(claimed)


def unannounced(incident_id: int | None = None) -> list[ItemAssignment]:
    """Items given to someone who has not been told yet (at start, or by a replica that stopped)."""
    query = (ItemAssignment.select().join(Incident)
             .where((ItemAssignment.announced == False) & ItemAssignment.assignee_id.is_null(False)  # noqa: E712
                    & (Incident.is_active == True)))  # noqa: E712
    if incident_id is not None:
        query = query.where(ItemAssignment.incident == incident_id)
    return list(query)


def claim_announcement(row: ItemAssignment) -> bool:
    """True for the one caller that tells this owner (the item may have moved on meanwhile)."""
    return bool(ItemAssignment.update(announced=True)
                .where((ItemAssignment.id == row.id) & (ItemAssignment.assignee_id == row.assignee_id)
                       & (ItemAssignment.announced == False))  # noqa: E712
                .execute())


def unplaced_offsets(incident_id: int | None = None) -> list[ItemAssignment]:
    """Playbook deadlines ("+30m") not yet turned into moments."""
    query = ItemAssignment.select().where(ItemAssignment.due_offset.is_null(False) & ItemAssignment.due_at.is_null())
    if incident_id is not None:
        query = query.where(ItemAssignment.incident == incident_id)
    return list(query)


def place_offset(row: ItemAssignment, due_at: int) -> bool:
    return bool(ItemAssignment.update(due_at=due_at, due_offset=None)
                .where((ItemAssignment.id == row.id) & ItemAssignment.due_offset.is_null(False)).execute())


def incident_of(row: ItemAssignment | AssignmentMessage) -> Incident:
    incident = Incident.get_or_none(Incident.id == row.incident_id)
    if incident is None:
        raise NotFound("There is no such incident.")
    return incident


# ---- the DMs ----------------------------------------------------------------------------------------
def record_message(incident_id: int, item_id: int, user_id: str, kind: str, post_id: str, shown: str, at: int) -> None:
    AssignmentMessage.create(incident=incident_id, item_id=item_id, user_id=user_id, kind=kind, post_id=post_id,
                             shown=shown, sent_at=at)


def messages_of(incident_id: int) -> list[AssignmentMessage]:
    return list(AssignmentMessage.select().where(AssignmentMessage.incident == incident_id).order_by(AssignmentMessage.id))


def item_has_messages(item_id: int) -> bool:
    """Has anyone had a DM about this item? Asked on every tick: SQL made once (models/prepared.py)."""
    return bool(prepared.select(AssignmentMessage, "a DM about an item", _item_messages_query, item_id))


def _item_messages_query(item_id: int) -> Any:
    return AssignmentMessage.select(AssignmentMessage.id).where(AssignmentMessage.item_id == item_id).limit(1)


def set_shown(message: AssignmentMessage, shown: str) -> None:
    AssignmentMessage.update(shown=shown).where(AssignmentMessage.id == message.id).execute()
