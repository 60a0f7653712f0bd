"""Who does what by when: give items and roles, set deadlines, tell owners by DM, remind when due.

The DMs follow their item: every change that touches an item (a tick anywhere, a rename, a
removal, another owner, the end of the incident) marks the incident for `ctx.assignment_dms`,
whose worker redraws the DMs whose content changed. Ticks and item edits come from other flows,
so they are heard through the services' change notices (`watch`), on every replica.

Deadlines are stored; the timers' sweep (`send_due_reminders`) reminds once across replicas,
tells owners who were not told yet (items given at start), and places a playbook's "+30m"
deadlines, so a restart or a second replica loses none of it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable

from models.assignments import AssignmentMessage, ItemAssignment
from models.incidents import Incident
from render import assignments as view
from render.dates import user_zone
from services import assignments, checklists, events, incidents, permissions
from services.actor import Actor
from services.assignments import KEEP, Change, Deadline, RoleGiven, Todo
from services.checklists import TickResult

from .port import ChatError

if TYPE_CHECKING:
    from datetime import tzinfo

    from .context import FlowContext

log = logging.getLogger("incident.flows.assignments")

# change notices after which an item's DM may show something else
ITEM_NOTICES = frozenset({"item_checked", "item_unchecked", "item_removed", "item_renamed", "item_moved", "item_added",
                          "incident_ended", "incident_restarted", "commander_changed"})
TICK_NOTICES = frozenset({"item_checked", "item_unchecked"})


# ---- time -------------------------------------------------------------------------------------
def zone_of(ctx: FlowContext, user_id: str) -> tzinfo:
    try:
        return user_zone(ctx.chat.user(user_id))
    except ChatError:
        from datetime import timezone
        return timezone.utc


def parse_deadline(ctx: FlowContext, user_id: str, text: str) -> Deadline | None:
    """What `user_id` typed, read in their Mattermost timezone."""
    return assignments.parse_deadline(text, now=ctx.now(), zone=zone_of(ctx, user_id))


def place(ctx: FlowContext, deadline: Any) -> Any:
    """A parsed deadline as a moment (ms); durations follow the product's time scale."""
    if deadline is KEEP or deadline is None:
        return deadline
    return ctx.due_after(deadline.after_seconds) if deadline.after_seconds is not None else deadline.at


# ---- owners --------------------------------------------------------------------------------------
def assign(ctx: FlowContext, actor: Actor, incident: Incident, ref: str | int, user: dict[str, Any],
           deadline: Any = KEEP) -> Change:
    """Give an item to `user` (a Mattermost user, in the channel); `deadline` changes its deadline too."""
    change = assignments.give(actor, incident, ref, user["id"], username=str(user.get("username", "")),
                              is_member=ctx.chat.is_channel_member(incident.channel_id, user["id"]),
                              is_bot=bool(user.get("is_bot")), due_at=place(ctx, deadline), now=ctx.now())
    _changed(ctx, incident)
    announce(ctx, change.assignment)
    ctx.remind_at(change.assignment.due_at)
    return change


def unassign(ctx: FlowContext, actor: Actor, incident: Incident, ref: str | int) -> Change:
    change = assignments.take_back(actor, incident, ref, now=ctx.now())
    _changed(ctx, incident)
    return change


def set_due(ctx: FlowContext, actor: Actor, incident: Incident, ref: str | int, deadline: Deadline | None) -> Change:
    change = assignments.set_due(actor, incident, ref, place(ctx, deadline), now=ctx.now())
    _changed(ctx, incident)
    ctx.remind_at(change.assignment.due_at)
    return change


def tick(ctx: FlowContext, actor: Actor, incident: Incident, item_id: int) -> TickResult:
    """The *Done* of a DM or a to-do: as if ticked on the checklist message."""
    result = checklists.set_item_state(actor, incident, item_id, True)
    ctx.checklists.changed(incident.id, wait=True)
    ctx.assignment_dms.changed(incident.id)
    return result


def _changed(ctx: FlowContext, incident: Incident) -> None:
    ctx.checklists.changed(incident.id, wait=True)
    ctx.assignment_dms.changed(incident.id)  # the previous owner's DM, a new deadline


# ---- roles ---------------------------------------------------------------------------------------
def give_role(ctx: FlowContext, actor: Actor, incident: Incident, role: str, user: dict[str, Any]) -> RoleGiven:
    """Name who holds a role (not the commander: see flows.incidents.hand_over); the channel is told,
    and the role's items that waited for it are theirs."""
    given = assignments.give_role(actor, incident, role, user["id"], username=str(user.get("username", "")),
                                  is_member=ctx.chat.is_channel_member(incident.channel_id, user["id"]),
                                  is_bot=bool(user.get("is_bot")), now=ctx.now())
    items = "".join(f"\n- {number}" for _, number in given.items)
    with_items = f" Their items:{items}" if given.items else ""
    ctx.chat.post(incident.channel_id, f"@{actor.username} made @{user['username']} the **{given.role}** of this incident."
                                       + with_items)
    _changed(ctx, incident)
    for row, _ in given.items:
        announce(ctx, row)
    return given


def roles(ctx: FlowContext, incident: Incident) -> list[tuple[str, str | None]]:
    return [(role, ctx.username(user_id) if user_id else None) for role, user_id in assignments.roles_of(incident)]


# ---- a person's to-do ------------------------------------------------------------------------------
def todo(ctx: FlowContext, user_id: str, actor_in: Callable[[str], Actor]) -> list[Todo]:
    """The person's open items in the active incidents they can see (`actor_in(team)`: them, in that team)."""
    actors: dict[str, Actor] = {}
    mine = []
    for entry in assignments.todo_of(user_id, ctx.now()):
        team = entry.incident.team_id
        if team not in actors:
            actors[team] = actor_in(team)
        if permissions.can_view_incident(actors[team], entry.incident):
            mine.append(entry)
    return mine


def todo_message(ctx: FlowContext, user_id: str, entries: list[Todo], surface: str) -> tuple[str, list[dict[str, Any]]]:
    lines = [view.TodoLine(e.incident.id, e.incident.name, _url(ctx, e.incident), e.item.id, e.number, e.item.title,
                           e.due_at) for e in entries]
    return view.todo_message(lines, ctx.now(), zone_of(ctx, user_id), user_id, surface, ctx.links.sign,
                             ctx.links.action_url)


# ---- what the checklist message shows ----------------------------------------------------------------
def owners(ctx: FlowContext, incident: Incident) -> dict[int, view.Owner]:
    rows = assignments.owners_of(incident)
    present: dict[str, bool] = {}
    shown = {}
    for item_id, row in rows.items():
        if row.assignee_id and row.assignee_id not in present:
            try:
                present[row.assignee_id] = ctx.chat.is_channel_member(incident.channel_id, row.assignee_id)
            except ChatError:
                present[row.assignee_id] = True  # unknown: say nothing rather than something wrong
        shown[item_id] = view.Owner(username=ctx.username(row.assignee_id) if row.assignee_id else None,
                                    left=not present.get(row.assignee_id or "", True), role=row.role, due_at=row.due_at)
    return shown


# ---- DMs ---------------------------------------------------------------------------------------------
def announce(ctx: FlowContext, row: ItemAssignment) -> None:
    """Tell an item's new owner, once (the claim), with a button that ticks it."""
    if row.assignee_id is None or not assignments.claim_announcement(row):
        return
    _send(ctx, assignments.incident_of(row), row.item_id, row.assignee_id, "assigned")


def _send(ctx: FlowContext, incident: Incident, item_id: int, user_id: str, kind: str) -> None:
    if user_id == ctx.chat.bot_user_id:
        return
    message = AssignmentMessage(incident=incident.id, item_id=item_id, user_id=user_id, kind=kind)
    try:
        drawn = _draw(ctx, incident, message)
        if drawn is None:
            return
        shown, key = drawn
        post = ctx.chat.direct_message(user_id, shown["message"], props=shown["props"])
    except ChatError as exc:  # they were deactivated, the team is gone: the checklist still says it
        log.warning("incident %s: could not DM %s about item %s: %s", incident.id, user_id, item_id, exc)
        return
    assignments.record_message(incident.id, item_id, user_id, kind, str(post["id"]), key, ctx.now())


def _draw(ctx: FlowContext, incident: Incident, message: AssignmentMessage) -> tuple[dict[str, Any], str] | None:
    found = assignments.item_with_number(incident, message.item_id)
    row = assignments.assignment_of(message.item_id) if found else None
    item, number = found if found else (None, None)
    if item is None and not message.post_id:
        return None  # nothing to tell about an item that is gone
    title = item.title if item is not None else _title_shown(ctx, message)
    dm = view.ItemDM(kind=message.kind, for_user=message.user_id, incident_id=incident.id, incident_name=incident.name,
                     incident_url=_url(ctx, incident), active=incident.is_active, item_id=message.item_id,
                     number=number, title=title,
                     checked_by=item.checked_by if item is not None and item.is_checked else None,
                     checked_at=item.checked_at if item is not None else None,
                     owner=row.assignee_id if row else None, given_by=row.assigned_by if row else None,
                     due_at=row.due_at if row else None, zone=zone_of(ctx, message.user_id))
    owner_name = ctx.username(dm.owner) if dm.owner else None
    shown = view.item_dm(dm, owner_name, ctx.username(dm.given_by) if dm.given_by else None,
                         ctx.username(dm.checked_by) if dm.checked_by else None, ctx.links.sign, ctx.links.action_url)
    return shown, dm.state_key(owner_name)


def _url(ctx: FlowContext, incident: Incident) -> str:
    try:
        return ctx.channel_url(incident)
    except ChatError:  # the team is out of reach: a link to the server still helps
        return ctx.links.site_url


def _title_shown(ctx: FlowContext, message: AssignmentMessage) -> str:
    """A removed item's title, as its DM last showed it."""
    try:
        text = ctx.chat.get_post(message.post_id)["props"]["attachments"][0]["fallback"]
        return str(text).split(" ", 1)[-1]
    except (ChatError, KeyError, IndexError, TypeError):
        return "an item"


def dm_for_post(ctx: FlowContext, incident: Incident, post_id: str) -> dict[str, Any] | None:
    """A DM as it should look now (a click's answer), recording what it shows."""
    for message in assignments.messages_of(incident.id):
        if message.post_id == post_id:
            try:
                drawn = _draw(ctx, incident, message)
            except ChatError as exc:
                log.warning("incident %s: could not redraw a DM: %s", incident.id, exc)
                return None
            if drawn is None:
                return None
            assignments.set_shown(message, drawn[1])
            return drawn[0]
    return None


def refresh_dms(ctx: FlowContext, incident_id: int) -> None:
    """The synchronizer's job: every DM of the incident shows its item as stored now."""
    incident = incidents.by_id(incident_id)
    if incident is None:
        return
    for message in assignments.messages_of(incident_id):
        try:
            drawn = _draw(ctx, incident, message)
            if drawn is None or drawn[1] == message.shown:
                continue
            ctx.chat.patch_post(message.post_id, drawn[0]["message"], drawn[0]["props"])
        except ChatError as exc:
            log.warning("incident %s: could not redraw a DM about item %s: %s", incident_id, message.item_id, exc)
            continue
        assignments.set_shown(message, drawn[1])


def watch(ctx: FlowContext) -> Callable[[], None]:
    """Hear item changes made anywhere (other flows, other commands) and redraw their DMs."""
    def heard(notice: events.Notice) -> None:
        incident_id = notice.ids.get("incident_id")
        if notice.name not in ITEM_NOTICES or not isinstance(incident_id, int):
            return
        item_id = notice.ids.get("item_id")
        # most ticks are of items nobody had a DM about: waking the worker for them cost a tenth of
        # every click's CPU, and it took the incident's lock the next click waits for (issue 14)
        if notice.name in TICK_NOTICES and isinstance(item_id, int) and not assignments.item_has_messages(item_id):
            return
        ctx.assignment_dms.changed(incident_id)

    return events.subscribe(heard)


# ---- the start, and the sweep --------------------------------------------------------------------------
def started(ctx: FlowContext, incident: Incident) -> None:
    """A new incident: its playbook's deadlines become moments, and the owners of its items
    (the commander's, at start) hear of them."""
    if _catch_up(ctx, incident.id):
        ctx.checklists.changed(incident.id)


def send_due_reminders(ctx: FlowContext) -> int:
    """Remind the owner (or the commander) of every open item whose deadline passed; each reminder
    is sent by one replica only. Also places playbook deadlines and tells owners not told yet
    (a replica may have stopped in between). Returns how many reminders this call sent."""
    touched = _catch_up(ctx, None)
    sent = 0
    for row in assignments.due_reminders(ctx.now()):
        try:
            if assignments.claim_reminder(row, ctx.now()):
                incident = assignments.incident_of(row)
                _send(ctx, incident, row.item_id, row.assignee_id or incident.commander_id, "due")
                touched.add(incident.id)
                sent += 1
        except Exception:  # one item's trouble must not keep the others' reminders back
            log.exception("could not send the reminder of item %s", row.item_id)
    for incident_id in touched:
        ctx.checklists.changed(incident_id)  # a deadline placed, an overdue mark
    return sent


def _catch_up(ctx: FlowContext, incident_id: int | None) -> set[int]:
    """Place playbook deadlines, then tell owners not told yet (so their DM shows the deadline);
    returns the incidents whose checklist changed."""
    changed: set[int] = set()
    for row in assignments.unplaced_offsets(incident_id):
        incident = assignments.incident_of(row)
        due_at = ctx.due_after(row.due_offset, incident.created_at)
        if due_at is not None and assignments.place_offset(row, due_at):
            ctx.remind_at(due_at)
            changed.add(incident.id)
    for row in assignments.unannounced(incident_id):
        try:
            announce(ctx, row)
        except Exception:  # one owner's trouble must not keep the others uninformed
            log.exception("could not tell the owner of item %s", row.item_id)
    return changed
