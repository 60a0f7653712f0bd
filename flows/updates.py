"""Keeping people informed: severity, status updates, reminders, the broadcast channel."""

from __future__ import annotations

import logging
from typing import Any

from models.incidents import Incident
from render import updates as view
from render.text import safe
from services import incidents, playbooks, updates
from services.actor import Actor
from services.checklists import checklists_of
from services.errors import Conflict, Invalid

from .context import FlowContext
from .port import ChatError

log = logging.getLogger("incident.flows.updates")


# ---- severity -------------------------------------------------------------------------------
def change_severity(ctx: FlowContext, actor: Actor, incident: Incident, level: int) -> Incident:
    before = incident.severity
    changed = updates.change_severity(actor, incident, level)
    try:  # the change is recorded; an ended incident's archived channel takes no posts, which must not report it as failed
        ctx.chat.post(changed.channel_id, f"@{actor.username} changed the severity from SEV{before} to **SEV{level}**.")
    except ChatError as exc:
        log.warning("incident %s has a new severity, but its channel could not be told: %s", incident.id, exc.message)
    _shown(ctx, changed)
    return changed


# ---- updates -------------------------------------------------------------------------------
def post_update(ctx: FlowContext, actor: Actor, incident: Incident, message: str, *, severity: int | None = None,
                cadence: Any = updates.KEEP) -> updates.Posted:
    """Post an update in the channel, copy it to the broadcast channel, reset the reminder."""
    now = ctx.now()
    every = incident.cadence_seconds if cadence is updates.KEEP else cadence
    posted = updates.record_update(actor, incident, message, severity=severity, cadence=cadence, now=now,
                                   due_at=ctx.due_after(every, now))
    fresh = posted.incident
    shown = view.update_post(fresh, actor.username, posted.update.message, posted.update.severity, now)
    post = ctx.chat.post(fresh.channel_id, shown["message"], props=shown["props"])
    copy = _copy_to_broadcast(ctx, fresh, actor, posted.update.message, posted.update.severity, now, post["id"])
    updates.set_update_posts(posted.update, post["id"], copy)
    _close_reminder(ctx, fresh, posted.reminder_post_id, f"@{actor.username} posted an update.")
    ctx.remind_at(updates.next_due(fresh))
    _shown(ctx, fresh)
    return posted


def _copy_to_broadcast(ctx: FlowContext, incident: Incident, actor: Actor, message: str, level: int, now: int,
                       post_id: str) -> str | None:
    if not updates.announces(incident) or not incident.broadcast_channel_id:
        return None
    copy = view.broadcast_copy(incident, actor.username, message, level, now, ctx.permalink(incident.team_id, post_id),
                               show_content=not incident.is_private)
    try:
        return str(ctx.chat.post(incident.broadcast_channel_id, copy["message"], props=copy["props"])["id"])
    except ChatError as exc:
        ctx.broadcast_refused(incident, exc)
        return None


def update_dialog_defaults(ctx: FlowContext, incident: Incident) -> tuple[str, int, str]:
    """What the update dialog starts with: the playbook's template (filled in), else the last
    update; the severity; the cadence."""
    settings = updates.playbook_settings(incident.playbook_id)
    message = ""
    if settings and settings.template:
        done, total = _progress(incident)
        message = updates.fill_template(settings.template, {
            "name": incident.name, "severity": f"SEV{incident.severity}", "commander": "@" + ctx.username(incident.commander_id),
            "duration": view.duration(ctx.now() - incident.created_at), "progress": f"{done}/{total}",
            "channel": "~" + incident.channel_name})
    else:
        latest = updates.last_update(incident)
        message = latest.message if latest else ""
    every = incident.cadence_seconds if incident.last_update_at else updates.default_cadence(incident.playbook_id, incident.severity)
    cadence = updates.describe_cadence(every)
    return message, incident.severity, cadence if cadence in updates.DIALOG_CADENCES else "1h"


def _progress(incident: Incident) -> tuple[int, int]:
    lists = checklists_of(incident)
    return (sum(1 for _, items in lists for item in items if item.is_checked), sum(len(items) for _, items in lists))


# ---- reminders --------------------------------------------------------------------------------
def send_due_reminders(ctx: FlowContext) -> int:
    """Remind the commanders of every incident whose update is due; each reminder is sent by
    one replica only. Returns how many this call sent."""
    sent = 0
    for reminder in updates.due_reminders(ctx.now()):
        try:
            if updates.claim_reminder(reminder, ctx.now()):
                _remind(ctx, reminder)
                sent += 1
        except ChatError as exc:  # the channel is gone, or closed to the bot: nobody to remind there
            log.warning("could not send the update reminder of incident %s: %s", reminder.incident_id, exc)
        except Exception:  # one incident's trouble must not keep the others' reminders back
            log.exception("could not send the update reminder of incident %s", reminder.incident_id)
    return sent


def _remind(ctx: FlowContext, reminder: Any) -> None:
    incident = updates.incident_of(reminder)
    shown = view.reminder(incident, ctx.username(incident.commander_id), reminder.due_at, ctx.links.sign, ctx.links.action_url)
    post = ctx.chat.post(incident.channel_id, shown["message"], props=shown["props"])
    updates.set_reminder_post(reminder, post["id"])
    log.info("incident %s: update reminder sent", incident.id)


def snooze(ctx: FlowContext, actor: Actor, incident: Incident, due_at_seen: int) -> int:
    """Put the reminder for the update due at `due_at_seen` off by 15 minutes."""
    if updates.next_due(incident) != due_at_seen:
        raise Conflict("This reminder was answered already.")
    until = ctx.due_after(updates.SNOOZE_SECONDS)
    assert until is not None
    previous = updates.snooze(actor, incident, until)
    _close_reminder(ctx, incident, previous, f"@{actor.username} snoozed it until {view.clock(until)}.")
    ctx.remind_at(until)
    ctx.checklists.changed(incident.id, wait=True)
    return until


def _close_reminder(ctx: FlowContext, incident: Incident, post_id: str | None, why: str) -> None:
    if not post_id:
        return
    closed = view.reminder_closed(incident, why)
    try:
        ctx.chat.patch_post(post_id, closed["message"], closed["props"])
    except ChatError as exc:
        log.warning("incident %s: could not close the reminder post: %s", incident.id, exc)


# ---- the incident's life, as far as updates go --------------------------------------------------
def started(ctx: FlowContext, incident: Incident) -> None:
    """A new incident: its first update is due within its cadence; it is announced."""
    ctx.remind_at(_schedule(ctx, incident, incident.created_at))
    if updates.announces(incident) and incident.broadcast_channel_id:
        shown = ctx.announcement(incident)
        try:
            post = ctx.chat.post(incident.broadcast_channel_id, shown["message"], props=shown["props"])
        except ChatError as exc:
            ctx.broadcast_refused(incident, exc)
            return
        updates.set_broadcast_post(incident, post["id"])


def ended(ctx: FlowContext, incident: Incident) -> None:
    _close_reminder(ctx, incident, updates.schedule_reminder(incident, None), "The incident ended.")
    ctx.announcements.changed(incident.id)


def restarted(ctx: FlowContext, incident: Incident) -> None:
    """A restarted incident has reminders again, per its severity."""
    current = incidents.reload(incident)
    every = updates.default_cadence(current.playbook_id, current.severity)
    due_at = ctx.due_after(every)
    updates.schedule_reminder(incident, due_at)
    ctx.remind_at(due_at)
    ctx.announcements.changed(incident.id)


def _schedule(ctx: FlowContext, incident: Incident, start: int) -> int | None:
    due_at = ctx.due_after(incident.cadence_seconds, start)
    updates.schedule_reminder(incident, due_at)
    return due_at


def _shown(ctx: FlowContext, incident: Incident) -> None:
    ctx.checklists.changed(incident.id, wait=True)
    ctx.announcements.changed(incident.id)


# ---- the broadcast channel's setting ---------------------------------------------------------------
def set_team_broadcast(ctx: FlowContext, actor: Actor, team_id: str, channel_name: str | None) -> dict[str, Any] | None:
    """Choose the team's broadcast channel by name (None: none)."""
    updates.require_broadcast_admin(actor, team_id)
    if channel_name is None:
        updates.set_team_broadcast(actor, team_id, None)
        return None
    channel = _broadcast_channel(ctx, actor, team_id, channel_name)
    updates.set_team_broadcast(actor, team_id, channel["id"])
    return channel


def _broadcast_channel(ctx: FlowContext, actor: Actor, team_id: str, channel_name: str) -> dict[str, Any]:
    """A channel that can be a broadcast channel: the person can see it; the bot joins a public
    one, and must be invited to a private one."""
    channel = ctx.chat.channel_by_name(team_id, channel_name.lstrip("~"))
    if channel is None or (channel.get("type") == "P" and not ctx.chat.is_channel_member(channel["id"], actor.user_id)):
        raise Invalid(f"There is no channel ~{safe(channel_name.lstrip('~'))} in this team that you can see.")
    if channel.get("type") not in ("O", "P") or channel.get("delete_at"):
        raise Invalid(f"~{channel['name']} cannot be the broadcast channel: pick an open or private channel that is not archived.")
    if not ctx.chat.is_channel_member(channel["id"], ctx.chat.bot_user_id):
        if channel.get("type") == "P":
            raise Invalid(f"I am not in ~{channel['name']}: invite me there first (`/invite @{ctx.username(ctx.chat.bot_user_id)}`).")
        try:
            ctx.chat.add_member(channel["id"], ctx.chat.bot_user_id)
        except ChatError as exc:
            raise Invalid(f"I could not join ~{channel['name']} ({exc.message}).") from None
    return channel


# ---- a playbook's update settings ---------------------------------------------------------------------
PLAYBOOK_SETTINGS = ("severity", "cadence", "broadcast", "template", "announce-private")


def configure_playbook(ctx: FlowContext, actor: Actor, playbook: Any, setting: str, value: str) -> None:
    """Change one of a playbook's update settings; its editors and admins may."""
    playbooks.require_edit(actor, playbook)
    current = updates.playbook_settings(playbook.id)
    word = value.strip()
    fields: dict[str, Any]
    if setting == "severity":
        fields = {"default_severity": updates.parse_severity(word)}
    elif setting == "cadence":
        level, _, every = word.partition(" ")
        cadence = dict(current.cadence or {}) if current else {}
        cadence[str(updates.parse_severity(level))] = updates.parse_cadence(every or "?")
        if any(seconds is None for seconds in cadence.values()):
            raise Invalid("A default cadence cannot be off; people choose off per update.")
        fields = {"cadence": cadence}
    elif setting == "broadcast":
        off = word.lower() == "off"
        fields = {"broadcast_channel_id": None if off else _broadcast_channel(ctx, actor, playbook.team_id, word)["id"]}
    elif setting == "template":
        fields = {"template": "" if word.lower() == "off" else updates.check_template(value)}
    elif setting == "announce-private":
        if word.lower() not in ("on", "off"):
            raise Invalid("Say on or off.")
        fields = {"announce_private": word.lower() == "on"}
    else:
        raise Invalid(f"A playbook's update settings are {', '.join(PLAYBOOK_SETTINGS)}.")
    updates.set_playbook_updates(playbook.id, **fields)


def describe_playbook(ctx: FlowContext, playbook: Any) -> list[str]:
    settings = updates.playbook_settings(playbook.id)
    cadence = ", ".join(f"SEV{level} {updates.describe_cadence(updates.default_cadence(playbook.id, level))}"
                        for level in updates.SEVERITIES)
    channel = "the team's"
    if settings and settings.broadcast_channel_id:
        try:
            channel = "~" + str(ctx.chat.channel(settings.broadcast_channel_id).get("name"))
        except ChatError:
            channel = "a channel I cannot read any more"
    return [f"Default severity: SEV{updates.default_severity(playbook.id)}", f"Updates due every: {cadence}",
            f"Broadcast channel: {channel}",
            f"Private incidents announced: {'yes, without their name or updates' if settings and settings.announce_private else 'no'}",
            f"Update template: {safe(settings.template) if settings and settings.template else 'none (the last update is offered)'}"]
