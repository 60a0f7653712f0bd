"""An incident's life: start, end, restart, hand over command, follow what Mattermost did to its channel."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from models.incidents import CHANGE_END, CHANGE_RESTART, START_ROLLED_BACK, START_STARTING, Incident, IncidentStart
from models.db import UNAVAILABLE_ERRORS
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
# Each step of a start can be taken again, by the request itself, by the same person's retry, or by
# recovery (`flows/recovery.py`) after the process died: the intent is recorded first
# (`IncidentStart`), then each step looks at what is already done before doing it.
START_PURPOSE = "Incident channel"
POST_MARK = "incident_start"  # a prop on a start's first two posts, so a resumed start finds them


def start_incident(ctx: FlowContext, actor: Actor, team_id: str, name: str, *, playbook: Playbook | None = None,
                   is_private: bool | None = None, summary: str = "", source_post_id: str | None = None,
                   severity: int | None = None) -> Started:
    """Plan (every check that needs no channel), record the intent, create the channel, record, announce.

    Severity: as chosen, else the playbook's, else SEV3; the first update is due within the
    severity's cadence. The same person starting the same name while an earlier start of theirs
    is unfinished (or was just finished by recovery) gets that incident, not a second channel."""
    plan = incidents.plan_incident(actor, team_id, name, playbook=playbook, is_private=is_private)
    earlier = incidents.start_to_resume(team_id, actor.user_id, plan.name)
    if earlier is not None:
        resumed = _resume(ctx, earlier)
        if resumed is not None:
            log.info("start %s of incident %s was finished by its starter's retry", earlier.id, resumed.incident.id)
            return resumed
    playbook_id = playbook.id if playbook is not None else None
    start = incidents.record_start(actor, team_id, plan, playbook=playbook, summary=summary, source_post_id=source_post_id,
                                   severity=severity or updates.default_severity(playbook_id))
    with ctx.locks.hold(start_lock(start)):
        return continue_start(ctx, start, resuming=False)


def start_lock(start: IncidentStart) -> int:
    """The lock of an unfinished start: negative, so it never names an incident's lock."""
    return -start.id


def _resume(ctx: FlowContext, earlier: IncidentStart) -> Started | None:
    """Finish an earlier start (waiting for whoever is at it), or answer with what it made; None
    if it was rolled back."""
    with ctx.locks.hold(start_lock(earlier)):
        start = incidents.reload_start(earlier)
        if start.state == START_STARTING:
            return continue_start(ctx, start, resuming=True)
        incident = incidents.by_id(start.incident_id) if start.incident_id else None
        if start.state == START_ROLLED_BACK or incident is None:
            return None
        return Started(incident, announced=bool(incident.checklist_post_id))


def continue_start(ctx: FlowContext, start: IncidentStart, *, resuming: bool) -> Started:
    """Take the steps of `start` not taken yet; the caller holds its lock and read it afresh.

    Mattermost refusing the channel or the starter, or the rules refusing the record, roll the
    start back (its channel archived) and raise. A network error or a server error leaves it as
    it is: the channel may exist, and a retry or recovery finds it."""
    incident = incidents.by_id(start.incident_id) if start.incident_id else None
    if incident is None:
        incident = _channel_and_record(ctx, start, resuming)
    announced = _announce(ctx, incident, start, resuming)
    if not (resuming and incident.broadcast_post_id):  # the broadcast post is the last thing `started` makes
        updates_flow.started(ctx, incident)
    assignments_flow.started(ctx, incident)
    if announced:
        incidents.finish_start(start, recovered=resuming)
    else:  # the incident exists; say so rather than invite a second one with a retry
        log.warning("incident %s started but its messages could not be posted; recovery tries again", incident.id)
    return Started(incident, announced=announced)


def _channel_and_record(ctx: FlowContext, start: IncidentStart, resuming: bool) -> Incident:
    try:
        channel = _channel_for(ctx, start, resuming)
        if start.creator_id != ctx.chat.bot_user_id:
            ctx.chat.add_member(channel["id"], start.creator_id)
        playbook_id = start.playbook_id
        return incidents.record_started(
            start, starter(start), cadence_seconds=updates.default_cadence(playbook_id, start.severity),
            broadcast_channel_id=updates.broadcast_channel_for(start.team_id, playbook_id))
    except DomainError as exc:
        roll_back_start(ctx, start, exc.message)
        raise
    except ChatError as exc:
        if not unsure(exc):
            roll_back_start(ctx, start, exc.message)
        raise


def unsure(exc: ChatError) -> bool:
    """No answer, or the server failed: what was asked may have been done."""
    return exc.status == 0 or exc.status >= 500


def starter(start: IncidentStart) -> Actor:
    """Who asked for the start (their rights were checked when they asked)."""
    return Actor(user_id=start.creator_id, username=start.creator_username, team_id=start.team_id)


def roll_back_start(ctx: FlowContext, start: IncidentStart, problem: str) -> None:
    """Nothing stays of a start that cannot be finished: its channel (ours alone) is archived."""
    if start.channel_id and incidents.incident_for_channel(start.channel_id) is None:
        try:
            ctx.chat.archive_channel(start.channel_id)
        except ChatError as exc:
            if exc.status != 400:  # 400: archived already
                log.warning("could not archive the channel of start %s, which is rolled back: %s", start.id, exc)
    incidents.roll_back_start(start, problem)


def abandon_start(ctx: FlowContext, start: IncidentStart, problem: str) -> None:
    """Roll back a start a dead process left, with the channel it made (found by name) if it made one."""
    if not start.channel_id:
        orphan = _orphan_of(ctx, start)
        if orphan is not None:
            incidents.start_has_channel(start, orphan["id"])
    roll_back_start(ctx, start, problem)


def _channel_for(ctx: FlowContext, start: IncidentStart, resuming: bool) -> dict[str, Any]:
    """The start's channel: the one it made, the one a dead process made (found by name), or a new one."""
    if start.channel_id:
        channel = ctx.chat.channel(start.channel_id)
        if channel.get("delete_at"):
            raise Invalid(f"Its channel ~{start.channel_name} was archived before the incident was recorded.")
        return channel
    if resuming:
        orphan = _orphan_of(ctx, start)
        if orphan is not None:
            incidents.start_has_channel(start, orphan["id"])
            return orphan
    return _create_channel(ctx, start)


def _orphan_of(ctx: FlowContext, start: IncidentStart) -> dict[str, Any] | None:
    """The channel a dead process created for this start: its name, made by the bot for an incident,
    open, and neither an incident's nor another start's."""
    channel = ctx.chat.channel_by_name(start.team_id, start.channel_name)
    if channel is None or channel.get("delete_at") or channel.get("creator_id") != ctx.chat.bot_user_id:
        return None
    if channel.get("purpose") != START_PURPOSE or incidents.is_claimed_channel(channel["id"]):
        return None
    return channel


def _create_channel(ctx: FlowContext, start: IncidentStart) -> dict[str, Any]:
    for attempt in range(2):
        try:
            channel = ctx.chat.create_channel(start.team_id, start.channel_name, start.name, start.is_private,
                                              purpose=START_PURPOSE)
        except ChatError as exc:
            if exc.error_id == CHANNEL_EXISTS and attempt == 0:
                incidents.rename_start(start, naming.with_suffix(start.channel_name))  # stored before it is tried
                continue
            if exc.error_id == CHANNEL_EXISTS:
                raise Invalid("A channel with that name already exists; choose another incident name.") from None
            if unsure(exc):
                raise
            raise Invalid(f"Mattermost refused to create the channel ({exc.message}); try a shorter or simpler name.") from None
        incidents.start_has_channel(start, channel["id"])
        return channel
    raise AssertionError("unreachable: the second attempt returns or raises")


def _announce(ctx: FlowContext, incident: Incident, start: IncidentStart, resuming: bool) -> bool:
    """The announcement, then the checklist message; False if Mattermost refused them."""
    if incident.checklist_post_id:
        return True
    try:
        posted = _marked_posts(ctx, incident.channel_id, start.id) if resuming else {}
        if "announcement" not in posted:
            ctx.chat.post(incident.channel_id, _announcement(ctx, incident, start),
                          props={POST_MARK: f"{start.id}:announcement"})
        checklist_id = posted.get("checklist")
        if checklist_id is None:
            message = ctx.checklist_message(incident)
            checklist_id = ctx.chat.post(incident.channel_id, message["message"],
                                         props={**message["props"], POST_MARK: f"{start.id}:checklist"})["id"]
    except ChatError as exc:
        log.warning("the first messages of incident %s could not be posted: %s", incident.id, exc)
        return False
    incidents.set_checklist_post(incident, checklist_id)
    return True


def _marked_posts(ctx: FlowContext, channel_id: str, start_id: int) -> dict[str, str]:
    """What a dead process already posted for this start: part -> post id (a new channel: one page)."""
    found: dict[str, str] = {}
    for page in ctx.chat.channel_post_pages(channel_id):
        for post in page:
            mark = str((post.get("props") or {}).get(POST_MARK) or "")
            number, _, part = mark.partition(":")
            if post.get("user_id") == ctx.chat.bot_user_id and number == str(start_id) and part:
                found.setdefault(part, post["id"])
        break  # the first messages of a start are among the newest page of its channel
    return found


def _announcement(ctx: FlowContext, incident: Incident, start: IncidentStart) -> str:
    lines = [f"@{start.creator_username} started the incident **{safe(incident.name)}** and is its commander."]
    if start.summary:
        lines.append(f"> {safe(start.summary)}")
    if start.source_post_id:
        try:
            post = ctx.chat.get_post(start.source_post_id)
            quoted = "\n".join("> " + line for line in inert(post.get("message", "")).splitlines()[:20]) or "> (no text)"
            lines.append(f"Started from a post by @{ctx.username(post.get('user_id', ''))}:\n{quoted}\n"
                         f"[Original post]({ctx.permalink(incident.team_id, start.source_post_id)})")
        except ChatError:
            lines.append("Started from a post that is no longer available.")
    return "\n".join(lines)


# ---- end and restart -------------------------------------------------------------------------
# An end is recorded (with a note that its channel is to be archived), then the channel archived; a
# restart is noted, the channel restored, then recorded. Recovery completes what a crash left between.

# What became of an ended incident's channel, so that the person who ended it is told the truth.
ARCHIVED = "archived"
ARCHIVE_PENDING = "pending"  # Mattermost did not answer: the note stays, and recovery archives it at a sweep
ARCHIVE_REFUSED = "refused"  # Mattermost said no: the channel stays open
STAYS_OPEN = "restarted"  # a restart came in between


@dataclass(frozen=True)
class Ended:
    incident: Incident
    channel: str  # ARCHIVED, ARCHIVE_PENDING, ARCHIVE_REFUSED or STAYS_OPEN
    problem: str = ""  # Mattermost's reason, when it refused


def end_incident(ctx: FlowContext, actor: Actor, incident: Incident) -> Ended:
    """Record the end, show it on the message, archive the channel."""
    with ctx.locks.hold(incident.id):
        ended = incidents.end_incident(actor, incident, then_archive=True)
        ctx.chat.post(ended.channel_id, f"@{actor.username} ended the incident **{safe(ended.name)}**.")
    return finish_end(ctx, ended)


def finish_end(ctx: FlowContext, ended: Incident) -> Ended:
    """The Mattermost half of an end: the message shows it, the retrospective, the archive."""
    ctx.checklists.changed(ended.id, wait=True)  # an archived channel's posts can no longer be edited
    with ctx.locks.hold(ended.id):
        outcome = _retrospective_and_archive(ctx, ended)
    updates_flow.ended(ctx, ended)
    if outcome.channel != ARCHIVE_PENDING:
        incidents.change_done(ended, CHANGE_END)  # a restart's note in between is its own, and stays
    return outcome


def _retrospective_and_archive(ctx: FlowContext, ended: Incident) -> Ended:
    """ARCHIVE_PENDING if Mattermost did not answer the archive (the note stays for recovery)."""
    if incidents.reload(ended).is_active:  # a restart came in between: its channel stays open
        return Ended(ended, STAYS_OPEN)
    change = incidents.pending_change(ended)
    if change is None or not change.retrospective_posted:
        record_flow.post_retrospective(ctx, ended)  # while the channel still takes posts
        if change is not None:
            incidents.retrospective_posted(change)
    try:
        ctx.chat.archive_channel(ended.channel_id)
    except ChatError as exc:
        log.warning("could not archive the channel of incident %s: %s", ended.id, exc)
        return Ended(ended, ARCHIVE_PENDING) if unsure(exc) else Ended(ended, ARCHIVE_REFUSED, exc.message)
    return Ended(ended, ARCHIVED)


def end_confirmed(ctx: FlowContext, actor: Actor, incident: Incident, run: int) -> Ended:
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
        incidents.note_restart(actor, incident)
        try:
            ctx.chat.restore_channel(incident.channel_id)
        except ChatError as exc:
            if exc.status != 400:  # 400: not archived, which is fine
                incidents.change_done(incident, CHANGE_RESTART)
                raise Invalid(f"Mattermost could not restore ~{incident.channel_name} ({exc.message}).") from None
        restarted = record_restart(ctx, actor, incident)
    restart_shown(ctx, restarted)
    return restarted


def record_restart(ctx: FlowContext, actor: Actor, incident: Incident) -> Incident:
    """The record of a restart whose channel is open again (its note goes in the same transaction);
    the caller holds the incident's lock."""
    restarted = incidents.restart_incident(actor, incident)
    ctx.chat.post(restarted.channel_id, f"@{actor.username} restarted the incident **{safe(restarted.name)}**.")
    return restarted


def restart_shown(ctx: FlowContext, restarted: Incident) -> None:
    ctx.checklists.changed(restarted.id, wait=True)
    updates_flow.restarted(ctx, restarted)


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
    try:
        for incident in incidents.active_incidents():
            try:
                follow_channel(ctx, incident)
            except UNAVAILABLE_ERRORS:
                raise  # the others would meet it too
            except Exception:  # one incident's trouble must not stop the others' catch-up
                log.exception("could not catch up with the channel of incident %s", incident.id)
    except UNAVAILABLE_ERRORS as exc:  # an outage, not a bug: one line; the next reconnect catches up again
        log.warning("could not catch up with the incident channels: the database is unavailable (%s: %s)",
                    type(exc).__name__, str(exc).strip().partition("\n")[0])


def _the_bot(ctx: FlowContext, team_id: str) -> Actor:
    """The bot acting on Mattermost's word (the channel was archived there, by someone allowed to)."""
    return Actor(user_id=ctx.chat.bot_user_id, username="incident bot", team_id=team_id, is_system_admin=True)
