"""Alerts in, incidents out: the `/incident alerts` commands, and the worker that turns stored
deliveries into incidents and posts.

The callback server stores a delivery and answers at once (`chat/alert_hooks.py`); this worker
processes the stored ones in the order they came, one at a time, so two deliveries of one group
never race to open two incidents. At start-up it processes what was stored before a stop or a
crash. A delivery that fails for a passing reason (Mattermost or the database away) stays pending
and the worker tries again later, holding back the ones after it so their order holds.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from models import db
from models.alerts import AlertDelivery, AlertSource
from models.db import ALERT_DELIVERIES, UNAVAILABLE_ERRORS, DatabaseUnavailable, worker_lock
from render import alerts as view
from services import alerts, playbooks
from services.actor import Actor
from services.alerts import Connected, Notification
from services.errors import DomainError

from . import incidents as incidents_flow
from .context import FlowContext
from .port import ChatError

log = logging.getLogger("incident.flows.alerts")

# who a source's incidents are started by: (user id, team id) -> the person as the chat layer knows them
ActorOf = Callable[[str, str], Actor]
RETRY_SECONDS = 30.0  # how soon a delivery that failed for a passing reason is tried again


# ---- /incident alerts ----------------------------------------------------------------------------
def connect_source(ctx: FlowContext, actor: Actor, team_id: str, name: str, *, playbook_title: str | None = None,
                   severity: int | None = None, private: bool = False) -> Connected:
    alerts.require_admin(actor, team_id)
    playbook = playbooks.find_playbook(actor, team_id, playbook_title) if playbook_title else None
    return alerts.connect(actor, team_id, name, playbook=playbook, severity=severity, is_private=private)


def list_sources(ctx: FlowContext, actor: Actor, team_id: str) -> list[AlertSource]:
    return alerts.sources_of(actor, team_id)


def disconnect_source(ctx: FlowContext, actor: Actor, team_id: str, name: str) -> AlertSource:
    return alerts.disconnect(actor, team_id, name)


def rotate_source(ctx: FlowContext, actor: Actor, team_id: str, name: str) -> Connected:
    return alerts.rotate(actor, team_id, name)


# ---- one delivery ----------------------------------------------------------------------------------
def process(ctx: FlowContext, delivery: AlertDelivery, actor_of: ActorOf) -> str:
    """Act on one stored delivery; what it did, in a few words (kept on the delivery's row).

    Raises `DomainError` when the rules refuse (the delivery failed for good) and `ChatError` or a
    database error when it may work later."""
    source: AlertSource = delivery.source
    note = alerts.parse(delivery.body)
    group = alerts.active_group(source, note.group_key)
    if group is None:
        if not note.firing_alerts:
            return "resolved, with no open incident for the group"
        return _open(ctx, source, note, actor_of)
    change = alerts.change_of(group, note)
    if not change.anything:
        return f"nothing new for incident {group.incident_id}"
    incident = group.incident
    if change.newly_firing or change.newly_resolved:
        ctx.chat.post(incident.channel_id, view.changed(change.newly_firing, change.newly_resolved, len(change.firing)))
    at = ctx.now()
    if change.resolved:
        message = view.resolved(at, incident.id, ctx.links.sign, ctx.links.action_url)
        ctx.chat.post(incident.channel_id, message["message"], props=message["props"])
    alerts.apply_change(group, change, at)  # after the posts: a retry may post twice, but never skips one
    return (f"incident {incident.id}: {len(change.newly_firing)} new, {len(change.newly_resolved)} resolved"
            + (", group resolved" if change.resolved else ""))


def _open(ctx: FlowContext, source: AlertSource, note: Notification, actor_of: ActorOf) -> str:
    commander = actor_of(source.owner_id, source.team_id)
    if not commander.in_team(source.team_id) and not commander.is_system_admin:
        raise DomainError(f"@{commander.username}, who connected this source, is no longer in the team; "
                          "an admin can connect it again.")
    severity = source.severity or alerts.severity_of(note)
    started = incidents_flow.start_incident(
        ctx, commander, source.team_id, alerts.incident_name(note, source.name), playbook=alerts.playbook_of(source),
        is_private=True if source.is_private else None, summary=alerts.incident_summary(note), severity=severity)
    incident = started.incident
    # recorded before anything else can fail: a retry of this delivery must find this incident, not open another
    alerts.open_group(source, note, incident)
    try:
        ctx.chat.post(incident.channel_id, view.opened(note, source.name))
    except ChatError as exc:
        log.warning("incident %s was opened by an alert, but the alerts could not be posted: %s", incident.id, exc)
    log.info("alert source %s opened incident %s", source.id, incident.id)
    return f"opened incident {incident.id}"


# ---- the stored deliveries, in order -----------------------------------------------------------------
def process_pending(ctx: FlowContext, actor_of: ActorOf) -> int:
    """Process the pending deliveries, oldest first; how many were finished. Stops at one that may
    work later, so the ones after it wait their turn."""
    finished = 0
    with worker_lock(ALERT_DELIVERIES):  # replicas take turns: each delivery is acted on once, in order
        while True:
            batch = alerts.pending_deliveries()
            if not batch:
                return finished
            for delivery in batch:
                if not _one(ctx, delivery, actor_of):
                    return finished
                finished += 1


def _one(ctx: FlowContext, delivery: AlertDelivery, actor_of: ActorOf) -> bool:
    """True when the delivery is finished (done, or failed for good)."""
    try:
        outcome = process(ctx, delivery, actor_of)
    except (DomainError, alerts.Malformed) as exc:  # the rules said no, or the stored body cannot be read: for good
        reason = exc.message if isinstance(exc, DomainError) else str(exc)
        log.warning("alert delivery %s of source %s opened nothing: %s", delivery.id, delivery.source_id, reason)
        alerts.note_problem(delivery.source, reason)
        alerts.finish(delivery, reason, failed=True)
        return True
    except ChatError as exc:
        return _later(delivery, f"Mattermost refused: {exc}")
    except (*UNAVAILABLE_ERRORS, DatabaseUnavailable) as exc:  # a passing outage: one line, no trace
        log.warning("alert delivery %s could not be processed (%s: %s)", delivery.id, type(exc).__name__, exc)
        return _later(delivery, f"the database failed: {type(exc).__name__}")
    except Exception as exc:  # a fault: logged with its trace, tried again a few times
        log.exception("alert delivery %s failed", delivery.id)
        return _later(delivery, f"{type(exc).__name__}: {exc}")
    alerts.finish(delivery, outcome)
    log.info("alert delivery %s of source %s: %s", delivery.id, delivery.source_id, outcome)
    return True


def _later(delivery: AlertDelivery, reason: str) -> bool:
    try:
        if alerts.try_again_later(delivery, reason):
            log.warning("alert delivery %s given up after %d tries: %s", delivery.id, alerts.MAX_ATTEMPTS, reason)
            return True
    except Exception as exc:  # the database is away too: it stays pending
        log.warning("alert delivery %s stays pending: %s", delivery.id, exc)
    return False


class DeliveryWorker:
    """One thread that processes stored deliveries: woken when one is stored, at start, and every
    `retry_seconds` while one waits to be tried again."""

    def __init__(self, ctx: FlowContext, actor_of: ActorOf, retry_seconds: float = RETRY_SECONDS) -> None:
        self._ctx = ctx
        self._actor_of = actor_of
        self._retry_seconds = retry_seconds
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._wake.set()  # what was stored before this start
        self._thread = threading.Thread(target=self._run, name="alert-deliveries", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(self._retry_seconds)
            self._wake.clear()
            if self._stopped.is_set():
                return
            try:
                process_pending(self._ctx, self._actor_of)
            except Exception as exc:  # the database away while listing: the next wake tries again
                log.warning("could not read the pending alert deliveries (%s: %s)", type(exc).__name__, exc)
            finally:
                db.close()
