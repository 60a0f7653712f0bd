"""Finish or roll back what a process left half done when it died: starts, ends and restarts.

Runs with the timers' sweep: once at start (so a restarted bot repairs at once) and every few
seconds (so a replica repairs what another one left). Each unfinished change is taken under its
lock, the same one the request that began it held: a change still in the hands of a live process
(here or on another replica sharing PostgreSQL) is waited for and then found finished.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass

from models.clock import now_ms
from models.incidents import CHANGE_RESTART, START_STARTING, ChannelChange, Incident, IncidentStart
from render.text import safe
from services import incidents
from services.actor import Actor
from services.errors import DomainError

from . import incidents as incidents_flow
from . import updates as updates_flow
from .context import FlowContext
from .port import ChatError

log = logging.getLogger("incident.flows.recovery")

# A start or change this old is no live request's own (a request takes its lock a moment after
# recording it; the lock, not the age, keeps recovery away from one still under way).
RECOVER_AFTER_MS = 3_000
# ... or older than this process: none of its own requests made it (another replica's still holds its lock)
_PROCESS_STARTED_MS = now_ms()
# An unfinished start this old is not made into an incident any more: it is rolled back and the
# person told (they asked long ago); a recorded incident whose messages are still refused is
# left as it is, with the problem noted.
GIVE_UP_MS = 10 * 60_000

FINISHED, ROLLED_BACK, ENDED, RESTARTED, WAITING = "finished", "rolled back", "ended", "restarted", "waiting"


@dataclass(frozen=True)
class Recovered:
    finished: int = 0  # starts made into incidents
    rolled_back: int = 0  # starts undone, their person told
    ended: int = 0  # ends whose channel was archived
    restarted: int = 0  # restarts whose record was made
    waiting: int = 0  # Mattermost did not answer: tried again at the next sweep
    milliseconds: int = 0

    @property
    def repaired(self) -> int:
        return self.finished + self.rolled_back + self.ended + self.restarted


def run(ctx: FlowContext) -> Recovered:
    """Every unfinished start, end and restart older than a moment; one failing does not stop the others."""
    began = time.monotonic()
    cutoff = max(ctx.now() - RECOVER_AFTER_MS, _PROCESS_STARTED_MS)  # at start-up: at once
    outcomes: Counter[str] = Counter()
    for start in incidents.unfinished_starts(cutoff):
        try:
            outcomes[_start(ctx, start)] += 1
        except Exception:
            log.exception("recovery: could not finish or roll back start %s; it is tried again soon", start.id)
    for change in incidents.unfinished_changes(cutoff):
        try:
            outcomes[_change(ctx, change)] += 1
        except Exception:
            log.exception("recovery: could not complete the %s of incident %s; it is tried again soon",
                          change.kind, change.incident_id)
    done = Recovered(outcomes[FINISHED], outcomes[ROLLED_BACK], outcomes[ENDED], outcomes[RESTARTED], outcomes[WAITING],
                     round((time.monotonic() - began) * 1000))
    if done.repaired:
        log.info("recovery: %s repaired in %s ms (%s starts finished, %s rolled back, %s ends, %s restarts)",
                 done.repaired, done.milliseconds, done.finished, done.rolled_back, done.ended, done.restarted)
    return done


# ---- starts ---------------------------------------------------------------------------------------
def _start(ctx: FlowContext, start: IncidentStart) -> str:
    with ctx.locks.hold(incidents_flow.start_lock(start)):
        current = incidents.reload_start(start)
        if current.state != START_STARTING:
            return ""  # finished by whoever held it
        too_old = ctx.now() - current.created_at > GIVE_UP_MS
        if too_old and current.incident_id is None:
            incidents_flow.abandon_start(ctx, current, "the bot stopped while creating it and was away too long")
            return _rolled_back(ctx, current, "the bot stopped while creating it and came back too late to finish")
        try:
            started = incidents_flow.continue_start(ctx, current, resuming=True)
        except DomainError as exc:  # rolled back by the start itself
            return _rolled_back(ctx, current, exc.message)
        except ChatError as exc:
            if not incidents_flow.unsure(exc):  # refused: rolled back by the start itself
                return _rolled_back(ctx, current, f"Mattermost refused it ({exc.message})")
            log.warning("recovery: start %s waits, Mattermost did not answer: %s", current.id, exc)
            return WAITING
        if not started.announced:
            if not too_old:
                return WAITING
            incidents.finish_start(current, recovered=True, problem="Mattermost refused its first messages")
        log.info("recovery: finished start %s, the incident %s in ~%s, that a stopped process left half made",
                 current.id, started.incident.id, started.incident.channel_name)
        _tell(ctx, current, f"The bot stopped while starting your incident **{safe(current.name)}**; it is ready now "
                            f"in ~{started.incident.channel_name}, and you are its commander.")
        return FINISHED


def _rolled_back(ctx: FlowContext, start: IncidentStart, reason: str) -> str:
    channel = f" Its channel ~{start.channel_name} was archived." if start.channel_id else ""
    log.info("recovery: rolled back start %s of %r (%s)%s", start.id, start.name, reason, channel)
    _tell(ctx, start, f"Your incident **{safe(start.name)}** could not be started: {safe(reason)}.{channel} "
                      f"Start it again with `/incident start {safe(start.name)}`.")
    return ROLLED_BACK


def _tell(ctx: FlowContext, start: IncidentStart, message: str) -> None:
    """The person who asked (never answered, since the process died) hears by DM; not the bot itself."""
    if start.creator_id == ctx.chat.bot_user_id:
        return
    try:
        ctx.chat.direct_message(start.creator_id, message)
    except ChatError as exc:
        log.warning("recovery: could not tell %s about start %s: %s", start.creator_id, start.id, exc)


# ---- ends and restarts ------------------------------------------------------------------------------
def _change(ctx: FlowContext, change: ChannelChange) -> str:
    incident: Incident | None = incidents.by_id(change.incident_id)
    if incident is None:
        return ""
    with ctx.locks.hold(incident.id):
        current = incidents.pending_change(incident)
        if current is None or current.id != change.id:
            return ""  # finished meanwhile, or replaced by a newer change
        incident = incidents.reload(incident)
        if incident.is_active:  # restarted (a restart's record clears its note; an end's note stays if one
            incidents.change_done(incident, change.kind)  # raced it): only the note was left
            return ""
        archived = bool(ctx.chat.channel(incident.channel_id).get("delete_at"))
        if change.kind == CHANGE_RESTART:
            return _restart(ctx, change, incident, archived)
    return _end(ctx, change, incident, archived)


def _restart(ctx: FlowContext, change: ChannelChange, incident: Incident, archived: bool) -> str:
    """Under the incident's lock. Channel restored but not recorded: record it. Not restored: nothing
    happened, so nothing is done."""
    if archived:
        incidents.change_done(incident, CHANGE_RESTART)
        log.info("recovery: the restart of incident %s by @%s never reached Mattermost; nothing to complete",
                 incident.id, change.actor_username)
        return ""
    on_behalf = Actor(user_id=change.actor_id, username=change.actor_username, team_id=incident.team_id,
                      is_system_admin=True)  # their rights were checked when they asked
    restarted = incidents_flow.record_restart(ctx, on_behalf, incident)
    log.info("recovery: recorded the restart of incident %s by @%s, whose channel was restored before a stop",
             incident.id, change.actor_username)
    ctx.checklists.changed(restarted.id)
    updates_flow.restarted(ctx, restarted)
    return RESTARTED


def _end(ctx: FlowContext, change: ChannelChange, incident: Incident, archived: bool) -> str:
    """Recorded as ended, channel maybe not archived: the rest of the end."""
    if archived:  # archived, only the note was left
        updates_flow.ended(ctx, incident)
        incidents.change_done(incident, change.kind)
    else:
        incidents_flow.finish_end(ctx, incident)
    log.info("recovery: completed the end of incident %s by @%s (channel ~%s %s)", incident.id,
             change.actor_username, incident.channel_name, "was archived already" if archived else "archived now")
    return ENDED
