"""Incident lifecycle: plan, start, end, restart, commander, privacy, lookup.

The flows create the channel; the services only record the incident. The order is
`plan_incident` (validates and names the channel before anything exists in
Mattermost), create the channel, then `record_incident`.
"""
from __future__ import annotations

from dataclasses import dataclass

import peewee

from models import Checklist, ChecklistItem, Incident, Playbook, db
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


def end_incident(actor: Actor, incident: Incident) -> Incident:
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
    return reload(incident)


def restart_incident(actor: Actor, incident: Incident) -> Incident:
    require_change(actor, incident)
    with db.atomic():
        restarted = (
            Incident.update(is_active=True, ended_at=None, ended_by=None, version=Incident.version + 1)
            .where((Incident.id == incident.id) & (Incident.is_active == False))  # noqa: E712
            .execute()
        )
        if not restarted:
            raise Conflict(f"Incident {incident.name!r} is still active; only an ended incident can be restarted.")
        timeline.record(incident, "incident_restarted", actor.user_id)
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
    return Incident.get_or_none(Incident.id == incident_id)


def active_incidents() -> list[Incident]:
    """Every active incident of every team (a list: callers write while they go through it)."""
    return list(Incident.select().where(Incident.is_active == True))  # noqa: E712


def restarts(incident: Incident) -> int:
    """How many times the incident was restarted: a confirmation is bound to one run."""
    return sum(1 for event in timeline.events_for(incident) if event.kind == "incident_restarted")


def incident_for_channel(channel_id: str) -> Incident | None:
    return Incident.get_or_none(Incident.channel_id == channel_id)


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


def list_incidents(actor: Actor, team_id: str, *, active: bool | None = True) -> list[Incident]:
    """Incidents of the team the actor may see, newest first; `active=None` for all."""
    query = Incident.select().where(Incident.team_id == team_id)
    if active is not None:
        query = query.where(Incident.is_active == active)
    query = query.order_by(Incident.created_at.desc(), Incident.id.desc())
    return [i for i in query if permissions.can_view_incident(actor, i)]


def get_incident(actor: Actor, incident_id: int) -> Incident:
    incident = Incident.get_or_none(Incident.id == incident_id)
    if incident is None or not permissions.can_view_incident(actor, incident):
        raise NotFound("There is no such incident.")
    return incident
