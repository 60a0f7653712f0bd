"""Incident lifecycle: plan, start, end, restart, commander, privacy, lookup.

The flows create the channel; the services only record the incident. The order is
`plan_incident` (validates and names the channel before anything exists in
Mattermost), `record_start` (the intent, so a crash can be finished or rolled back),
create the channel, then `record_started` (the incident itself).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import peewee
from peewee import fn

from models import Checklist, ChecklistItem, Incident, Playbook, db, prepared
from models.incidents import (CHANGE_END, CHANGE_RESTART, START_RECOVERED, START_ROLLED_BACK, START_STARTED,
                              START_STARTING, ChannelChange, IncidentStart)
from models.clock import now_ms
from models.incidents import name_key

from . import item_defaults, permissions, timeline
from .actor import Actor
from .checklist_rules import DEFAULT_CHECKLIST_TITLE, ChecklistSpec
from .errors import Conflict, Forbidden, Invalid, NotFound
from .naming import channel_name_for, validate_display_name
from .playbooks import checklists_of, facts_for
from .text import one_line, paragraphs


@dataclass(frozen=True)
class IncidentPlan:
    name: str
    channel_name: str
    is_private: bool


def _privacy(playbook: Playbook | None, is_private: bool | None) -> bool:
    if is_private is not None:
        return is_private
    if playbook is not None:
        return not playbook.create_public_incidents
    return False


def _check_playbook_usable(actor: Actor, team_id: str, playbook: Playbook) -> None:
    if playbook.is_deleted:
        raise NotFound(f"Playbook {playbook.title!r} was deleted; pick another one.")
    if playbook.team_id != team_id or not permissions.can_view_playbook(actor, facts_for(playbook)):
        raise NotFound("That playbook does not exist in this team.")


def plan_incident(
    actor: Actor, team_id: str, name: str, *, playbook: Playbook | None = None, is_private: bool | None = None
) -> IncidentPlan:
    """Check everything that can be checked before the channel exists."""
    if not (actor.in_team(team_id) or actor.is_system_admin):
        raise Forbidden("You can only start incidents in a team you belong to.")
    display = validate_display_name(name)
    channel_name = channel_name_for(display)
    if playbook is not None:
        _check_playbook_usable(actor, team_id, playbook)
    return IncidentPlan(display, channel_name, _privacy(playbook, is_private))


def _copy_checklists(incident_id: int, specs: list[ChecklistSpec]) -> int:
    total = 0
    for position, spec in enumerate(specs):
        checklist = Checklist.create(incident=incident_id, position=position, title=spec.title)
        if spec.items:
            ChecklistItem.insert_many(
                [{"checklist": checklist.id, "position": p, "title": t} for p, t in enumerate(spec.items)]
            ).execute()
        total += len(spec.items)
    return total


def start_incident(
    actor: Actor,
    team_id: str,
    name: str,
    channel_id: str,
    *,
    playbook: Playbook | None = None,
    is_private: bool | None = None,
    summary: str = "",
    source_post_id: str | None = None,
) -> Incident:
    """Plan and record at once, for a channel that already exists."""
    plan = plan_incident(actor, team_id, name, playbook=playbook, is_private=is_private)
    return record_incident(actor, team_id, plan, channel_id, plan.channel_name, playbook=playbook, summary=summary,
                           source_post_id=source_post_id)


def record_incident(
    actor: Actor,
    team_id: str,
    plan: IncidentPlan,
    channel_id: str,
    channel_name: str,
    *,
    playbook: Playbook | None = None,
    summary: str = "",
    source_post_id: str | None = None,
    severity: int = 3,
    cadence_seconds: int | None = None,
    broadcast_channel_id: str | None = None,
) -> Incident:
    """Record a new active incident in `channel_id`, commanded by its creator.

    `plan` comes from `plan_incident` (privacy: the playbook's setting, or public without
    one). The playbook's current checklists are copied (and its id and version recorded);
    without one the incident gets one empty checklist. `channel_name` is the name the
    channel was actually created with (after a clash retry).
    """
    if Incident.select().where(Incident.channel_id == channel_id).exists():
        raise Conflict("This channel already belongs to an incident; start the new one in a new channel.")
    playbook_id: int | None = None
    playbook_version: int | None = None
    if playbook is not None:
        specs = checklists_of(playbook)
        playbook_id, playbook_version = playbook.id, playbook.version
    else:
        specs = [ChecklistSpec(DEFAULT_CHECKLIST_TITLE)]
    at = now_ms()
    try:
        with db.atomic():
            incident = Incident.create(
                team_id=team_id, name=plan.name, name_key=name_key(plan.name), channel_id=channel_id,
                channel_name=channel_name, commander_id=actor.user_id,
                creator_id=actor.user_id, is_private=plan.is_private, is_active=True, created_at=at,
                playbook=playbook_id, playbook_version=playbook_version, summary=paragraphs(summary),
                source_post_id=source_post_id, version=1, severity=severity, cadence_seconds=cadence_seconds,
                broadcast_channel_id=broadcast_channel_id,
            )
            items = _copy_checklists(incident.id, specs)
            if playbook is not None:  # its items may name their owner's role and a deadline
                item_defaults.take_from_titles(incident, at)
            timeline.record(
                incident, "incident_created", actor.user_id, at=at, playbook_id=playbook_id,
                playbook_version=playbook_version, checklists=len(specs), items=items,
                is_private=plan.is_private, severity=severity,
            )
    except peewee.IntegrityError:
        raise Conflict("This channel already belongs to an incident; start the new one in a new channel.") from None
    return incident


def set_checklist_post(incident: Incident, post_id: str) -> None:
    """The post that shows the incident's checklist (posted once, patched from then on)."""
    Incident.update(checklist_post_id=post_id).where(Incident.id == incident.id).execute()
    incident.checklist_post_id = post_id


def require_view(actor: Actor, incident: Incident) -> None:
    """For commands typed in the incident's channel: someone who cannot see it learns nothing."""
    if not permissions.can_view_incident(actor, incident):
        raise Invalid("This is not an incident channel you can see.")


def require_change(actor: Actor, incident: Incident) -> None:
    if not permissions.can_view_incident(actor, incident):
        raise NotFound("There is no such incident.")
    if not permissions.can_change_incident(actor, incident):
        raise Forbidden(f"Only members of ~{incident.channel_name} and admins can change this incident; join the channel first.")


def reload(incident: Incident) -> Incident:
    return Incident.get_by_id(incident.id)


def end_incident(actor: Actor, incident: Incident, *, then_archive: bool = False) -> Incident:
    """`then_archive`: the caller archives the channel next; noted with the end, so a crash in
    between is completed by recovery."""
    require_change(actor, incident)
    at = now_ms()
    with db.atomic():
        # The WHERE on is_active makes a double end (two clicks at once) end it exactly once.
        ended = (
            Incident.update(is_active=False, ended_at=at, ended_by=actor.user_id, version=Incident.version + 1)
            .where((Incident.id == incident.id) & (Incident.is_active == True))  # noqa: E712
            .execute()
        )
        if not ended:
            raise Conflict(f"Incident {incident.name!r} has already ended.")
        timeline.record(incident, "incident_ended", actor.user_id, at=at, duration_ms=at - incident.created_at)
        if then_archive:
            _note_change(incident, CHANGE_END, actor, at)
    return reload(incident)


def restart_incident(actor: Actor, incident: Incident) -> Incident:
    require_change(actor, incident)
    at = now_ms()
    with db.atomic():
        # paused_ms reads the ended_at this same UPDATE clears (SQL evaluates every SET on the old row)
        restarted = (
            Incident.update(is_active=True, ended_at=None, ended_by=None, version=Incident.version + 1,
                            paused_ms=Incident.paused_ms + fn.COALESCE(at - Incident.ended_at, 0))
            .where((Incident.id == incident.id) & (Incident.is_active == False))  # noqa: E712
            .execute()
        )
        if not restarted:
            raise Conflict(f"Incident {incident.name!r} is still active; only an ended incident can be restarted.")
        timeline.record(incident, "incident_restarted", actor.user_id, at=at)
        ChannelChange.delete().where(ChannelChange.incident == incident.id).execute()  # both halves done
    return reload(incident)


def change_commander(
    actor: Actor, incident: Incident, new_user_id: str, *, new_user_is_member: bool, new_username: str | None = None
) -> Incident:
    """Hand the commander role over. Allowed on ended incidents too (for the record)."""
    require_change(actor, incident)
    who = f"@{new_username}" if new_username else "That user"
    current = reload(incident)
    if current.commander_id == new_user_id:
        raise Conflict(f"{who} is already the commander of {incident.name!r}.")
    if not new_user_is_member:
        raise Invalid(
            f"{who} is not in ~{incident.channel_name}: /invite them to the channel first, "
            "then make them commander."
        )
    with db.atomic():
        Incident.update(commander_id=new_user_id, version=Incident.version + 1).where(
            Incident.id == incident.id
        ).execute()
        timeline.record(
            incident, "commander_changed", actor.user_id, previous_id=current.commander_id, commander_id=new_user_id
        )
    return reload(incident)


def make_private_for_good(incident: Incident) -> bool:
    """Record that the channel was converted to private; this never goes back.

    Called by the chat layer when it sees the conversion, whoever did it. Returns
    whether anything changed (False if it was private already).
    """
    with db.atomic():
        changed = (
            Incident.update(is_private=True, version=Incident.version + 1)
            .where((Incident.id == incident.id) & (Incident.is_private == False))  # noqa: E712
            .execute()
        )
        if changed:
            timeline.record(incident, "made_private", None)
    return bool(changed)


def by_id(incident_id: int) -> Incident | None:
    # read several times by every click and render: its SQL is made once (models/prepared.py)
    found = prepared.select(Incident, "incident by id", _by_id_query, incident_id)
    return found[0] if found else None


def _by_id_query(incident_id: int) -> peewee.Query:
    return Incident.select().where(Incident.id == incident_id)


def active_incidents() -> list[Incident]:
    """Every active incident of every team (a list: callers write while they go through it)."""
    return list(Incident.select().where(Incident.is_active == True).order_by(Incident.id))  # noqa: E712  (oldest first, whatever index the database picks)


def restarts(incident: Incident) -> int:
    """How many times the incident was restarted: a confirmation is bound to one run."""
    return sum(1 for event in timeline.events_for(incident) if event.kind == "incident_restarted")


def incident_for_channel(channel_id: str) -> Incident | None:
    # every command typed in an incident channel asks: SQL made once (models/prepared.py)
    found = prepared.select(Incident, "incident of a channel", _of_channel_query, channel_id)
    return found[0] if found else None


def _of_channel_query(channel_id: str) -> Any:
    return Incident.select().where(Incident.channel_id == channel_id)


def find_incident(team_id: str, ref: str, *, actor: Actor | None = None) -> Incident:
    """By channel name (`~name` or `name`) or incident name, any case, within a team.

    A channel name picks exactly one incident, so it wins over name matches. With
    an `actor`, incidents they may not see are ignored (so lookups leak nothing).
    """
    text = one_line(ref)  # as names are stored: a NUL (which PostgreSQL refuses in a query too) or a bidi override is no part of one
    if not text:
        raise Invalid("Say which incident, by its name or its channel name.")
    wanted_channel = text.lstrip("~").lower()
    candidates = list(
        Incident.select()
        .where(
            (Incident.team_id == team_id)
            & ((Incident.channel_name == wanted_channel) | (Incident.name_key == name_key(text)))
        )
        .order_by(Incident.created_at.desc(), Incident.id.desc())
    )
    if actor is not None:
        candidates = [i for i in candidates if permissions.can_view_incident(actor, i)]
    by_channel = [i for i in candidates if i.channel_name == wanted_channel]
    if len(by_channel) == 1:
        return by_channel[0]
    if not candidates:
        raise NotFound(f"There is no incident called {text!r} in this team.")
    if len(candidates) > 1:
        listed = ", ".join(f"{i.name} (~{i.channel_name})" for i in candidates[:10])
        raise Invalid(f"{text!r} matches several incidents: {listed}; use the channel name.")
    return candidates[0]


def get_incident(actor: Actor, incident_id: int) -> Incident:
    incident = Incident.get_or_none(Incident.id == incident_id)
    if incident is None or not permissions.can_view_incident(actor, incident):
        raise NotFound("There is no such incident.")
    return incident


# ---- starts, ends and restarts a crash may leave half done -----------------------------------------
# How long a person's retry of a start that recovery finished gets that incident rather than a second one.
RETRY_WINDOW_MS = 10 * 60 * 1000


def record_start(actor: Actor, team_id: str, plan: IncidentPlan, *, playbook: Playbook | None = None, severity: int = 3,
                 summary: str = "", source_post_id: str | None = None) -> IncidentStart:
    """The start as asked, before anything exists in Mattermost."""
    return IncidentStart.create(
        team_id=team_id, name=plan.name, name_key=name_key(plan.name), channel_name=plan.channel_name,
        is_private=plan.is_private, creator_id=actor.user_id, creator_username=actor.username[:64],
        playbook=playbook.id if playbook is not None else None, severity=severity, summary=summary,
        source_post_id=source_post_id, state=START_STARTING, created_at=now_ms())


def reload_start(start: IncidentStart) -> IncidentStart:
    return IncidentStart.get_by_id(start.id)


def start_to_resume(team_id: str, creator_id: str, name: str) -> IncidentStart | None:
    """The same person's start of the same name that a retry should finish or answer with: one
    still starting, or one that recovery finished lately (its starter was never answered)."""
    recent = now_ms() - RETRY_WINDOW_MS
    wanted = ((IncidentStart.team_id == team_id) & (IncidentStart.creator_id == creator_id)
              & (IncidentStart.name_key == name_key(name))
              & ((IncidentStart.state == START_STARTING)
                 | ((IncidentStart.state == START_RECOVERED) & (IncidentStart.finished_at >= recent))))
    found: IncidentStart | None = (IncidentStart.select().where(wanted)
                                   .order_by(IncidentStart.created_at.desc(), IncidentStart.id.desc()).first())
    return found


def rename_start(start: IncidentStart, channel_name: str) -> None:
    """The channel name to try next (after a clash): stored first, so recovery looks for that one."""
    IncidentStart.update(channel_name=channel_name).where(IncidentStart.id == start.id).execute()
    start.channel_name = channel_name


def start_has_channel(start: IncidentStart, channel_id: str) -> None:
    IncidentStart.update(channel_id=channel_id).where(IncidentStart.id == start.id).execute()
    start.channel_id = channel_id


def is_claimed_channel(channel_id: str) -> bool:
    """Whether the channel is an incident's, or taken by a start (so no other start may adopt it)."""
    return (Incident.select().where(Incident.channel_id == channel_id).exists()
            or IncidentStart.select().where(IncidentStart.channel_id == channel_id).exists())


def record_started(start: IncidentStart, actor: Actor, *, cadence_seconds: int | None,
                   broadcast_channel_id: str | None) -> Incident:
    """The incident of a start whose channel exists, linked to the start in the same transaction."""
    assert start.channel_id, "a start is recorded as an incident only once its channel exists"
    plan = IncidentPlan(start.name, start.channel_name, start.is_private)
    playbook = Playbook.get_or_none(Playbook.id == start.playbook_id) if start.playbook_id else None
    with db.atomic():
        incident = record_incident(actor, start.team_id, plan, start.channel_id, start.channel_name, playbook=playbook,
                                   summary=start.summary, source_post_id=start.source_post_id, severity=start.severity,
                                   cadence_seconds=cadence_seconds, broadcast_channel_id=broadcast_channel_id)
        IncidentStart.update(incident=incident.id).where(IncidentStart.id == start.id).execute()
    start.incident = incident
    return incident


def finish_start(start: IncidentStart, *, recovered: bool, problem: str = "") -> None:
    IncidentStart.update(state=START_RECOVERED if recovered else START_STARTED, finished_at=now_ms(),
                         problem=problem).where(IncidentStart.id == start.id).execute()


def roll_back_start(start: IncidentStart, problem: str) -> None:
    IncidentStart.update(state=START_ROLLED_BACK, finished_at=now_ms(), problem=problem).where(
        IncidentStart.id == start.id).execute()
    start.state = START_ROLLED_BACK


def unfinished_starts(older_than_ms: int, limit: int = 50) -> list[IncidentStart]:
    """Starts still starting since before `older_than_ms`, oldest first (the first asked adopts first)."""
    return list(IncidentStart.select()
                .where((IncidentStart.state == START_STARTING) & (IncidentStart.created_at <= older_than_ms))
                .order_by(IncidentStart.created_at, IncidentStart.id).limit(limit))


def _note_change(incident: Incident, kind: str, actor: Actor, at: int) -> None:
    ChannelChange.delete().where(ChannelChange.incident == incident.id).execute()  # a restart replaces an end
    ChannelChange.create(incident=incident.id, kind=kind, actor_id=actor.user_id, actor_username=actor.username[:64], at=at)


def note_restart(actor: Actor, incident: Incident) -> None:
    """Before the channel is restored: a crash between the restore and the record is completed."""
    with db.atomic():
        _note_change(incident, CHANGE_RESTART, actor, now_ms())


def pending_change(incident: Incident) -> ChannelChange | None:
    return ChannelChange.get_or_none(ChannelChange.incident == incident.id)


def retrospective_posted(change: ChannelChange) -> None:
    ChannelChange.update(retrospective_posted=True).where(ChannelChange.id == change.id).execute()


def change_done(incident: Incident, kind: str) -> None:
    """Both halves of the end (or the abandoned restart) are done."""
    ChannelChange.delete().where((ChannelChange.incident == incident.id) & (ChannelChange.kind == kind)).execute()


def unfinished_changes(older_than_ms: int, limit: int = 50) -> list[ChannelChange]:
    return list(ChannelChange.select().where(ChannelChange.at <= older_than_ms).order_by(ChannelChange.at).limit(limit))
