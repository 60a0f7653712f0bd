"""Status updates, the broadcast channel's live announcement, and the "update due" reminder.

Times are shown in UTC, like the checklist message: these posts are read by many people at
once, each in their own timezone.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable

from render.callbacks import PostUpdate, SnoozeReminder
from render.text import inert, safe

SEVERITY_COLOURS = {1: "#D24B4E", 2: "#FF8800", 3: "#FFBC1F", 4: "#8A8A8A"}
PRIVATE_NAME = "A private incident"


def clock(ms: int | None) -> str:
    if not ms:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%H:%M UTC")


def duration(ms: int) -> str:
    minutes = max(0, ms) // 60_000
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days}d"] if days else []
    parts += [f"{hours}h"] if hours else []
    parts += [f"{minutes}m"] if minutes or not parts else []
    return " ".join(parts)


def severity(level: int) -> str:
    return f"SEV{level}"


def update_post(incident: Any, author: str, message: str, level: int, now: int) -> dict[str, Any]:
    """The update as posted in the incident channel: `{"message", "props"}`."""
    attachment = {
        "fallback": f"Status update on {incident.name} ({severity(level)}) by @{author}",
        "color": SEVERITY_COLOURS[level],
        "author_name": f"@{author}",
        "title": f"Status update · {severity(level)} · {duration(now - incident.created_at)} in",
        "text": inert(message),
    }
    return {"message": "", "props": {"attachments": [attachment]}}


def broadcast_copy(incident: Any, author: str, message: str, level: int, now: int, link: str,
                   show_content: bool) -> dict[str, Any]:
    """The update's copy in the broadcast channel, with a link back."""
    name = safe(incident.name) if show_content else PRIVATE_NAME
    attachment = {
        "fallback": f"Update on {incident.name if show_content else PRIVATE_NAME} ({severity(level)})",
        "color": SEVERITY_COLOURS[level],
        "author_name": f"@{author}",
        "title": f"{name} · {severity(level)} · {duration(now - incident.created_at)} in",
        "title_link": link,
        "text": inert(message) if show_content else "_The update is in the incident channel, for its members._",
    }
    return {"message": "", "props": {"attachments": [attachment]}}


def announcement(incident: Any, commander: str, last_update: str | None, now: int, link: str,
                 show_content: bool) -> dict[str, Any]:
    """The one post per incident in the broadcast channel, edited in place at every change."""
    name = safe(incident.name) if show_content else PRIVATE_NAME
    status = "Ongoing" if incident.is_active else f"Ended {clock(incident.ended_at)}"
    ran = duration((incident.ended_at or now) - incident.created_at)
    fields = [
        {"short": True, "title": "Severity", "value": severity(incident.severity)},
        {"short": True, "title": "Status", "value": status},
        {"short": True, "title": "Commander", "value": f"@{commander}"},
        {"short": True, "title": "Duration", "value": ran},
    ]
    if show_content and last_update:
        fields.append({"short": False, "title": "Latest update", "value": inert(last_update)})
    attachment = {
        "fallback": f"{incident.name if show_content else PRIVATE_NAME}: {severity(incident.severity)}, {status}",
        "color": SEVERITY_COLOURS[incident.severity] if incident.is_active else "#8A8A8A",
        "title": f"{'🔥' if incident.is_active else '✅'} {name}",
        "title_link": link,
        "fields": fields,
    }
    return {"message": "", "props": {"attachments": [attachment]}}


def reminder(incident: Any, commander: str, due_at: int, sign: Callable[[dict[str, Any]], dict[str, Any]],
             action_url: str) -> dict[str, Any]:
    """"An update is due", mentioning the commander, with *Post update* and *Snooze 15m*."""
    def button(action_id: str, name: str, context: Any, style: str = "default") -> dict[str, Any]:
        return {"id": action_id, "name": name, "type": "button", "style": style,
                "integration": {"url": action_url, "context": sign(context.payload())}}

    attachment = {
        "fallback": f"An update on {incident.name} is due",
        "color": SEVERITY_COLOURS[incident.severity],
        "text": f"An update on **{safe(incident.name)}** ({severity(incident.severity)}) is due since {clock(due_at)}.",
        "actions": [button("postupdate", "Post update", PostUpdate(incident_id=incident.id), "primary"),
                    button("snooze", "Snooze 15m", SnoozeReminder(incident_id=incident.id, due_at=due_at))],
    }
    return {"message": f"@{commander}", "props": {"attachments": [attachment]}}


def reminder_closed(incident: Any, why: str) -> dict[str, Any]:
    """The reminder once answered: no buttons left, and why."""
    attachment = {"fallback": why, "color": "#3DB887", "text": f"~~An update on **{safe(incident.name)}** was due.~~ {why}"}
    return {"message": "", "props": {"attachments": [attachment]}}
