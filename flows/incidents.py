"""An incident's life: start, end, restart, hand over command, follow what Mattermost did to its channel."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from models.incidents import Incident
from models.playbooks import Playbook
from render.text import inert, safe
from services import incidents, naming, updates
from services.actor import Actor
from services.errors import Conflict, DomainError, Invalid

from . import assignments as assignments_flow
from . import record as record_flow
from . import updates as updates_flow
from .context import FlowContext
from .port import ChatError

log = logging.getLogger("incident.flows.incidents")

CHANNEL_EXISTS = "store.sql_channel.save_channel.exists.app_error"


@dataclass(frozen=True)
class Started:
    incident: Incident
    announced: bool  # False: the channel and record exist, but Mattermost refused the first messages


# ---- start ---------------------------------------------------------------------------------
def start_incident(ctx: FlowContext, actor: Actor, team_id: str, name: str, *, playbook: Playbook | None = None,
                   is_private: bool | None = None, summary: str = "", source_post_id: str | None = None,
                   severity: int | None = None) -> Started:
    """Plan (every check that needs no channel), create the channel, record, announce.

    Severity: as chosen, else the playbook's, else SEV3; the first update is due within the
    severity's cadence."""
    plan = incidents.plan_incident(actor, team_id, name, playbook=playbook, is_private=is_private)
    playbook_id = playbook.id if playbook is not None else None
    level = severity or updates.default_severity(playbook_id)
    channel = _create_channel(ctx, team_id, plan)
    try:
        if actor.user_id != ctx.chat.bot_user_id:
            ctx.chat.add_member(channel["id"], actor.user_id)
        incident = incidents.record_incident(actor, team_id, plan, channel["id"], channel["name"], playbook=playbook,
                                             summary=summary, source_post_id=source_post_id, severity=level,
                                             cadence_seconds=updates.default_cadence(playbook_id, level),
                                             broadcast_channel_id=updates.broadcast_channel_for(team_id, playbook_id))
    except Exception:
        try:  # no orphan channel for an incident that was not recorded
            ctx.chat.archive_channel(channel["id"])
        except ChatError as exc:
            log.warning("could not archive the channel of an incident that failed to start: %s", exc)
        raise
    try:
        _announce(ctx, incident, actor, summary, source_post_id)
    except ChatError as exc:
        # the incident exists; say so rather than invite a second one with a retry
        log.warning("incident %s started but its messages could not be posted: %s", incident.id, exc)
        updates_flow.started(ctx, incident)
        assignments_flow.started(ctx, incident)
        return Started(incident, announced=False)
    updates_flow.started(ctx, incident)
    assignments_flow.started(ctx, incident)
    return Started(incident, announced=True)


def _create_channel(ctx: FlowContext, team_id: str, plan: incidents.IncidentPlan) -> dict[str, Any]:
    name = plan.channel_name
    for attempt in range(2):
        try:
            return ctx.chat.create_channel(team_id, name, plan.name, plan.is_private, purpose="Incident channel")
        except ChatError as exc:
            if exc.error_id == CHANNEL_EXISTS and attempt == 0:
                name = naming.with_suffix(plan.channel_name)
                continue
            if exc.error_id == CHANNEL_EXISTS:
                raise Invalid("A channel with that name already exists; choose another incident name.") from None
            raise Invalid(f"Mattermost refused to create the channel ({exc.message}); try a shorter or simpler name.") from None
    raise AssertionError("unreachable: the second attempt returns or raises")


def _announce(ctx: FlowContext, incident: Incident, actor: Actor, summary: str, source_post_id: str | None) -> None:
    lines = [f"@{actor.username} started the incident **{safe(incident.name)}** and is its commander."]
    if summary:
        lines.append(f"> {safe(summary)}")
    if source_post_id:
        try:
            post = ctx.chat.get_post(source_post_id)
            quoted = "\n".join("> " + line for line in inert(post.get("message", "")).splitlines()[:20]) or "> (no text)"
            lines.append(f"Started from a post by @{ctx.username(post.get('user_id', ''))}:\n{quoted}\n"
                         f"[Original post]({ctx.permalink(incident.team_id, source_post_id)})")
        except ChatError:
            lines.append("Started from a post that is no longer available.")
    ctx.chat.post(incident.channel_id, "\n".join(lines))
    message = ctx.checklist_message(incident)
    post = ctx.chat.post(incident.channel_id, message["message"], props=message["props"])
    incidents.set_checklist_post(incident, post["id"])


# ---- end and restart -------------------------------------------------------------------------
def end_incident(ctx: FlowContext, actor: Actor, incident: Incident) -> Incident:
    """Record the end, show it on the message, archive the channel."""
    with ctx.locks.hold(incident.id):
        ended = incidents.end_incident(actor, incident)
        ctx.chat.post(ended.channel_id, f"@{actor.username} ended the incident **{safe(ended.name)}**.")
    ctx.checklists.changed(ended.id, wait=True)  # an archived channel's posts can no longer be edited
    with ctx.locks.hold(incident.id):
        # a restart may have come in between: its channel stays open
        if not incidents.reload(ended).is_active:
            record_flow.post_retrospective(ctx, ended)  # while the channel still takes posts
            try:
                ctx.chat.archive_channel(ended.channel_id)
            except ChatError as exc:
                log.warning("could not archive the channel of incident %s: %s", ended.id, exc)
    updates_flow.ended(ctx, ended)
    return ended


def end_confirmed(ctx: FlowContext, actor: Actor, incident: Incident, run: int) -> Incident:
    """The End button's confirmation, which belongs to one run of the incident."""
    if incidents.restarts(incident) != run:
        raise Conflict("The incident was restarted since you asked; click *End incident* again to end it.")
    return end_incident(ctx, actor, incident)


def restart_incident(ctx: FlowContext, actor: Actor, incident: Incident) -> Incident:
    """Restore the channel, then record the restart (nothing is recorded if Mattermost refuses)."""
    incidents.require_change(actor, incident)
    if incident.is_active:
        raise Conflict(f"Incident **{safe(incident.name)}** is still active.")
    with ctx.locks.hold(incident.id):
        try:
            ctx.chat.restore_channel(incident.channel_id)
        except ChatError as exc:
            if exc.status != 400:  # 400: not archived, which is fine
                raise Invalid(f"Mattermost could not restore ~{incident.channel_name} ({exc.message}).") from None
        restarted = incidents.restart_incident(actor, incident)
        ctx.chat.post(restarted.channel_id, f"@{actor.username} restarted the incident **{safe(restarted.name)}**.")
    ctx.checklists.changed(restarted.id, wait=True)
    updates_flow.restarted(ctx, restarted)
    return restarted


# ---- commander -------------------------------------------------------------------------------
def hand_over(ctx: FlowContext, actor: Actor, incident: Incident, user: dict[str, Any]) -> Incident:
    """Make `user` (a Mattermost user) the commander; they must be in the channel."""
    changed = incidents.change_commander(actor, incident, user["id"], new_username=user["username"],
                                         new_user_is_member=ctx.chat.is_channel_member(incident.channel_id, user["id"]))
    # The record is what was asked for, and it stands: the rules may refuse a hand-over, so the
    # channel can only be told after it, and an ended incident's archived channel takes no posts.
    # Telling the channel is best effort; failing it must not report a change that was made as failed.
    try:
        ctx.chat.post(incident.channel_id, f"@{actor.username} handed command of this incident to @{user['username']}.")
    except ChatError as exc:
        log.warning("incident %s has a new commander, but its channel could not be told: %s", incident.id, exc.message)
    ctx.checklists.changed(changed.id, wait=True)
    ctx.announcements.changed(changed.id)
    return changed


# ---- the channel changes under us ----------------------------------------------------------------
def follow_channel(ctx: FlowContext, incident: Incident) -> None:
    """Mirror what people did to the incident's channel in Mattermost.

    Converted to private: the incident is private for good. Archived while the incident was
    active (not by the bot ending it): the incident is over, ended by the bot.
    """
    # under the incident's lock: an /incident end and restart in between must not make this
    # see the end's archive and then undo the restart
    with ctx.locks.hold(incident.id):
        try:
            channel = ctx.chat.channel(incident.channel_id)
        except ChatError as exc:
            log.warning("could not check the channel of incident %s: %s", incident.id, exc)
            return
        current = incidents.reload(incident)
        if channel.get("type") == "P" and not current.is_private and incidents.make_private_for_good(current):
            log.info("incident %s became private for good", incident.id)
        if not (channel.get("delete_at") and current.is_active):
            return
        try:
            ended = incidents.end_incident(_the_bot(ctx, incident.team_id), current)
        except DomainError as exc:  # ended meanwhile
            log.info("incident %s not ended on archive: %s", incident.id, exc.message)
            return
        log.info("incident %s ended because its channel was archived", incident.id)
    ctx.checklists.changed(ended.id)
    updates_flow.ended(ctx, ended)
    record_flow.send_retrospective(ctx, ended, ended.commander_id)  # the channel takes no posts now


def catch_up(ctx: FlowContext) -> None:
    """After a reconnect: what happened to incident channels while we could not hear it."""
    for incident in incidents.active_incidents():
        try:
            follow_channel(ctx, incident)
        except Exception:  # one incident's trouble must not stop the others' catch-up
            log.exception("could not catch up with the channel of incident %s", incident.id)


def _the_bot(ctx: FlowContext, team_id: str) -> Actor:
    """The bot acting on Mattermost's word (the channel was archived there, by someone allowed to)."""
    return Actor(user_id=ctx.chat.bot_user_id, username="incident bot", team_id=team_id, is_system_admin=True)
