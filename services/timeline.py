"""The incident timeline: who did what, when, with ids and numbers only."""
from __future__ import annotations

from typing import Any

from models import Incident, TimelineEvent, prepared
from models.clock import now_ms

from . import events

KINDS = frozenset(
    {
        "incident_created",
        "incident_ended",
        "incident_restarted",
        "commander_changed",
        "made_private",
        "item_checked",
        "item_unchecked",
        "item_added",
        "item_removed",
        "item_renamed",
        "item_moved",
        "severity_changed",
        "status_update_posted",
        "reminder_sent",
        "reminder_snoozed",
        "post_pinned",
        "post_unpinned",
        "followup_added",
        "followup_done",
        "member_joined",
        "member_left",
        "item_assigned",
        "item_unassigned",
        "item_due_changed",
        "item_due_reminded",
        "role_assigned",
    }
)


def record(incident: Incident, kind: str, actor_id: str | None, *, at: int | None = None, **data: Any) -> TimelineEvent:
    """Append an event. `data` must be JSON-ready ids and numbers (no user text)."""
    if kind not in KINDS:
        # A programming error, not a user one: keeps metrics queries on a known vocabulary.
        raise ValueError(f"unknown timeline event kind {kind!r}")
    incident_id = incident.id if isinstance(incident, Incident) else incident
    at = now_ms() if at is None else at
    # most changes record one: an INSERT written once (models/prepared.py)
    event_id = prepared.insert(TimelineEvent, incident=incident_id, at=at, actor_id=actor_id, kind=kind, data=data)
    # heard by telemetry once the surrounding transaction commits
    events.publish(kind, incident_id=incident_id, actor_id=actor_id, at=at, **data)
    return TimelineEvent(id=event_id, incident=incident_id, at=at, actor_id=actor_id, kind=kind, data=data)


def events_for(incident: Incident) -> list[TimelineEvent]:
    """Oldest first; events recorded in the same millisecond keep their insert order."""
    return list(
        TimelineEvent.select()
        .where(TimelineEvent.incident == incident.id)
        .order_by(TimelineEvent.at, TimelineEvent.id)
    )
