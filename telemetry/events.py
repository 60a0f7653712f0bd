"""The seed's telemetry events, built from change notices: ids, numbers and flags only.

Never content: no incident names, no checklist text, no messages, no usernames. Every
property below is an id, a count, a timestamp or a boolean; `ALLOWED_PROPERTIES` is the
whole vocabulary, and `describe` refuses to emit anything else.
"""
from __future__ import annotations

from typing import Any

from models import Checklist, ChecklistItem, Incident, Playbook, PlaybookChecklist, PlaybookItem, PlaybookVersion
from services.events import Notice

EVENT_NAMES = {
    "incident_created": "Incident created",
    "incident_ended": "Incident finished",
    "incident_restarted": "Incident restarted",
    "commander_changed": "Commander changed",
    "severity_changed": "Severity changed",
    "status_update_posted": "Status update posted",
    "item_added": "Checklist item created",
    "item_removed": "Checklist item removed",
    "item_renamed": "Checklist item renamed",
    "item_moved": "Checklist item moved",
    "item_checked": "Unchecked checklist item checked",
    "item_unchecked": "Checked checklist item unchecked",
    "playbook_created": "Playbook created",
    "playbook_updated": "Playbook updated",
    "playbook_deleted": "Playbook deleted",
}

INCIDENT_PROPERTIES = {"ID", "IsActive", "CommanderUserID", "UserID", "TeamID", "CreatedAt", "ChannelIDs", "PostID",
                       "NumChecklists", "TotalChecklistItems", "PreviousCommanderUserID"}
ITEM_PROPERTIES = {"IncidentID", "UserID"}
PLAYBOOK_PROPERTIES = {"PlaybookID", "TeamID", "NumChecklists", "TotalChecklistItems"}
METADATA = {"diagnosticID", "serverVersion", "botVersion"}
ALLOWED_PROPERTIES = INCIDENT_PROPERTIES | ITEM_PROPERTIES | PLAYBOOK_PROPERTIES | METADATA


def _incident_counts(incident_id: int) -> tuple[int, int]:
    checklist_ids = [c.id for c in Checklist.select(Checklist.id).where(Checklist.incident == incident_id)]
    items = ChecklistItem.select().where(ChecklistItem.checklist.in_(checklist_ids)).count() if checklist_ids else 0
    return len(checklist_ids), items


def _playbook_counts(playbook: Playbook) -> tuple[int, int]:
    version = PlaybookVersion.get_or_none((PlaybookVersion.playbook == playbook.id)
                                         & (PlaybookVersion.number == playbook.version))
    if version is None:
        return 0, 0
    checklist_ids = [c.id for c in PlaybookChecklist.select(PlaybookChecklist.id)
                     .where(PlaybookChecklist.playbook_version == version.id)]
    items = PlaybookItem.select().where(PlaybookItem.checklist.in_(checklist_ids)).count() if checklist_ids else 0
    return len(checklist_ids), items


def _incident_event(notice: Notice) -> dict[str, Any] | None:
    incident = Incident.get_or_none(Incident.id == notice.ids.get("incident_id"))
    if incident is None:
        return None
    kind = notice.name
    if kind == "incident_created":
        checklists, items = notice.ids.get("checklists", 0), notice.ids.get("items", 0)
    else:
        checklists, items = _incident_counts(incident.id)
    properties = {
        "ID": str(incident.id),
        "IsActive": kind != "incident_ended",
        "CommanderUserID": notice.ids.get("actor_id") if kind == "incident_created" else incident.commander_id,
        "TeamID": incident.team_id,
        "CreatedAt": incident.created_at,
        "ChannelIDs": [incident.channel_id],
        "PostID": incident.checklist_post_id or "",
        "NumChecklists": checklists,
        "TotalChecklistItems": items,
    }
    if kind != "incident_created":
        properties["UserID"] = notice.ids.get("actor_id") or ""
    if kind == "commander_changed":
        properties["CommanderUserID"] = notice.ids.get("commander_id") or incident.commander_id
        properties["PreviousCommanderUserID"] = notice.ids.get("previous_id") or ""
    return properties


def _playbook_event(notice: Notice) -> dict[str, Any] | None:
    playbook = Playbook.get_or_none(Playbook.id == notice.ids.get("playbook_id"))
    if playbook is None:
        return None
    checklists, items = _playbook_counts(playbook)
    return {"PlaybookID": str(playbook.id), "TeamID": playbook.team_id, "NumChecklists": checklists,
            "TotalChecklistItems": items}


def describe(notice: Notice) -> tuple[str, dict[str, Any]] | None:
    """(event name, properties) for a notice, or None if telemetry does not report it."""
    name = EVENT_NAMES.get(notice.name)
    if name is None:
        return None
    if notice.name.startswith("item_"):
        properties = {"IncidentID": str(notice.ids.get("incident_id", "")), "UserID": notice.ids.get("actor_id") or ""}
    elif notice.name.startswith("playbook_"):
        properties = _playbook_event(notice)
    else:
        properties = _incident_event(notice)
    if properties is None:
        return None
    unexpected = set(properties) - ALLOWED_PROPERTIES
    if unexpected:  # a programming error; never send what was not reviewed
        raise ValueError(f"telemetry property not allowed: {sorted(unexpected)}")
    return name, properties
