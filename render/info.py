"""`/incident info` as text: the incident at a glance, then its checklist with owners and deadlines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo

from models.incidents import Checklist, ChecklistItem, Incident
from render.assignments import Owner, owner_suffix
from render.dates import when
from render.text import inert, safe
from services.item_defaults import COMMANDER


@dataclass(frozen=True)
class PlaybookOrigin:
    title: str | None  # None: the viewer may not see it, or it no longer exists
    version: int
    exists: bool
    deleted: bool


@dataclass(frozen=True)
class IncidentInfo:
    incident: Incident
    commander: str
    creator: str
    checklists: list[tuple[Checklist, list[ChecklistItem]]]
    owners: dict[int, Owner]  # item id -> who has it, by when
    roles: list[tuple[str, str | None]]  # (role, username of who holds it)
    next_due: int | None  # the next status update
    open_followups: int
    origin: PlaybookOrigin | None
    now: int


def incident_info(info: IncidentInfo, zone: tzinfo) -> str:
    incident = info.incident
    status = "Ongoing" if incident.is_active else f"Ended {when(incident.ended_at, zone)}"
    done = sum(1 for _, items in info.checklists for item in items if item.is_checked)
    total = sum(len(items) for _, items in info.checklists)
    lines = [f"#### {safe(incident.name)}{' :lock: private' if incident.is_private else ''}",
             f"Channel: ~{incident.channel_name} · Status: {status} · Commander: @{info.commander}",
             f"Started {when(incident.created_at, zone)} by @{info.creator} · Checklist {done}/{total}",
             update_status(incident, info.next_due, zone)]
    held = [f"{role} @{name}" for role, name in info.roles if name and role != COMMANDER]
    if held:
        lines.append("Roles: " + " · ".join(held))
    if incident.broadcast_problem:
        lines.append(f"Broadcast channel: {inert(incident.broadcast_problem)}")
    if info.open_followups:
        lines.append(f"Open follow-ups: {info.open_followups} (`/incident followups`)")
    if info.origin is not None:
        lines.append(origin_text(info.origin))
    for checklist, items in info.checklists:
        lines.append(f"**{safe(checklist.title)}**")
        for item in items:
            owner = "" if item.is_checked else owner_suffix(info.owners.get(item.id), info.now)
            lines.append(f"{checklist.position + 1}.{item.position + 1} {'☑' if item.is_checked else '☐'} "
                         f"{safe(item.title)}{owner}")
    return "\n".join(lines)


def update_status(incident, next_due: int | None, zone: tzinfo) -> str:
    """Severity and where the updates stand."""
    parts = [f"Severity: SEV{incident.severity}"]
    parts.append(f"Last update {when(incident.last_update_at, zone)}" if incident.last_update_at else "No update yet")
    parts.append(f"Next update due {when(next_due, zone)}" if next_due else "No update due")
    return " · ".join(parts)


def origin_text(origin: PlaybookOrigin) -> str:
    if not origin.exists:
        return f"Started from a playbook that no longer exists (version {origin.version})"
    if origin.title is None:
        return f"Started from a private playbook (version {origin.version})"
    deleted = ", since deleted" if origin.deleted else ""
    return f"Started from playbook **{safe(origin.title)}** version {origin.version}{deleted}"
