"""Keeping people informed: severity, status updates, the cadence and its reminders, broadcast.

SEV1 is the most severe. Each severity has a default cadence (how often an update is due);
a playbook may change those. Times here are what the callers pass in (`due_at`, `now`), so
the rules stay free of clocks and of Mattermost.
"""
from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Any, Collection

from models import Incident, PlaybookUpdates, StatusUpdate, TeamBroadcast, UpdateReminder, db, prepared
from models.clock import now_ms

from . import permissions, timeline
from .figures import earliest
from .actor import Actor
from .errors import Conflict, Forbidden, Invalid, NotFound
from .incidents import reload, require_change
from .text import paragraphs

SEVERITIES = (1, 2, 3, 4)
DEFAULT_SEVERITY = 3
MINUTE = 60
DEFAULT_CADENCE = {1: 15 * MINUTE, 2: 30 * MINUTE, 3: 60 * MINUTE, 4: 4 * 60 * MINUTE}
SNOOZE_SECONDS = 15 * MINUTE
LONGEST_CADENCE = 7 * 24 * 60 * MINUTE
# Mattermost refuses a post over 16383 characters; an update also carries a header
UPDATE_MAX = 16000
# what the update dialog offers for "next update in"
DIALOG_CADENCES = ("15m", "30m", "1h", "2h", "4h", "1d", "off")
TEMPLATE_FIELDS = ("name", "severity", "commander", "duration", "progress", "channel")

_DURATION = re.compile(r"(\d{1,6})([mhd])")
_UNIT_SECONDS = {"m": MINUTE, "h": 60 * MINUTE, "d": 24 * 60 * MINUTE}


# ---- what people type -----------------------------------------------------------------------
def parse_severity(text: str) -> int:
    """`2`, `sev2` or `SEV2`."""
    word = text.strip().lower()
    word = word[3:] if word.startswith("sev") else word
    if word.isascii() and word.isdigit() and len(word) == 1 and int(word) in SEVERITIES:
        return int(word)
    raise Invalid("Severity is 1 (most severe), 2, 3 or 4.")


def parse_cadence(text: str) -> int | None:
    """`15m`, `2h`, `1d` as seconds; `off` as None."""
    word = text.strip().lower()
    if word == "off":
        return None
    match = _DURATION.fullmatch(word)
    if match is None:
        raise Invalid("Say when the next update is due as minutes, hours or days: 15m, 2h, 1d, or off.")
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if not MINUTE <= seconds <= LONGEST_CADENCE:
        raise Invalid("The next update can be due from 1m to 7d from now, or off.")
    return seconds


def describe_cadence(seconds: int | None) -> str:
    if seconds is None:
        return "off"
    for unit in ("d", "h", "m"):
        if seconds % _UNIT_SECONDS[unit] == 0:
            return f"{seconds // _UNIT_SECONDS[unit]}{unit}"
    return f"{max(1, seconds // MINUTE)}m"


def clean_message(text: str) -> str:
    message = paragraphs(text)
    if not message:
        raise Invalid("Write what the update says.")
    if len(message) > UPDATE_MAX:
        raise Invalid(f"An update is at most {UPDATE_MAX} characters (Mattermost's limit for a post); this one has {len(message)}.")
    return message


def check_template(template: str) -> str:
    """A playbook's update template: text with {name}, {severity}, ... placeholders."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError:
        raise Invalid("The template has an unmatched { or }; write {{ and }} for the braces themselves.") from None
    unknown = [name for name in fields if name not in TEMPLATE_FIELDS]
    if unknown:
        allowed = ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS)
        raise Invalid(f"The template has an unknown placeholder {{{unknown[0]}}}; it can use {allowed}.")
    return clean_message(template) if template.strip() else ""


def fill_template(template: str, values: dict[str, str]) -> str:
    return check_template(template).format(**{f: values.get(f, "") for f in TEMPLATE_FIELDS}) if template else ""


# ---- what a playbook and a team say -------------------------------------------------------------
def playbook_settings(playbook_id: int | None) -> PlaybookUpdates | None:
    if playbook_id is None:
        return None
    return PlaybookUpdates.get_or_none(PlaybookUpdates.playbook == playbook_id)


def default_severity(playbook_id: int | None) -> int:
    settings = playbook_settings(playbook_id)
    return settings.default_severity if settings and settings.default_severity else DEFAULT_SEVERITY


def default_cadence(playbook_id: int | None, severity: int) -> int:
    settings = playbook_settings(playbook_id)
    chosen = (settings.cadence or {}).get(str(severity)) if settings else None
    return int(chosen) if chosen else DEFAULT_CADENCE[severity]


def team_broadcast(team_id: str) -> str | None:
    row = TeamBroadcast.get_or_none(TeamBroadcast.team_id == team_id)
    return row.channel_id if row else None


def broadcast_channel_for(team_id: str, playbook_id: int | None) -> str | None:
    """Where a new incident is announced: its playbook's channel, else the team's."""
    settings = playbook_settings(playbook_id)
    if settings and settings.broadcast_channel_id:
        return str(settings.broadcast_channel_id)
    return team_broadcast(team_id)


def announces(incident: Incident) -> bool:
    """A private incident is announced only if its playbook says so (and then without content)."""
    if not incident.broadcast_channel_id:
        return False
    if not incident.is_private:
        return True
    settings = playbook_settings(incident.playbook_id)
    return bool(settings and settings.announce_private)


def require_broadcast_admin(actor: Actor, team_id: str) -> None:
    if not permissions.can_change_team_settings(actor, team_id):
        raise Forbidden("Only team and system admins can choose the team's broadcast channel.")


def set_team_broadcast(actor: Actor, team_id: str, channel_id: str | None) -> None:
    require_broadcast_admin(actor, team_id)
    with db.atomic():
        TeamBroadcast.delete().where(TeamBroadcast.team_id == team_id).execute()
        if channel_id:
            TeamBroadcast.create(team_id=team_id, channel_id=channel_id, set_by=actor.user_id, set_at=now_ms())


def set_playbook_updates(playbook_id: int, **fields: Any) -> PlaybookUpdates:
    """Store a playbook's update settings (the caller checked the person may edit it)."""
    with db.atomic():
        row = PlaybookUpdates.get_or_none(PlaybookUpdates.playbook == playbook_id)
        if row is None:
            row = PlaybookUpdates.create(playbook=playbook_id, **fields)
        else:
            PlaybookUpdates.update(**fields).where(PlaybookUpdates.playbook == playbook_id).execute()
            row = PlaybookUpdates.get(PlaybookUpdates.playbook == playbook_id)
    return row


# ---- severity -------------------------------------------------------------------------------
def change_severity(actor: Actor, incident: Incident, severity: int) -> Incident:
    require_change(actor, incident)
    current = reload(incident)
    if current.severity == severity:
        raise Conflict(f"{incident.name!r} is already SEV{severity}.")
    with db.atomic():
        Incident.update(severity=severity, version=Incident.version + 1).where(Incident.id == incident.id).execute()
        timeline.record(incident, "severity_changed", actor.user_id, previous=current.severity, severity=severity)
    return reload(incident)


# ---- updates ---------------------------------------------------------------------------------
KEEP = object()  # "the cadence stays as it is"


@dataclass(frozen=True)
class Posted:
    update: StatusUpdate
    incident: Incident
    reminder_post_id: str | None  # the "update due" post this update answers, if one was out
    severity_changed_from: int | None


def record_update(actor: Actor, incident: Incident, message: str, *, severity: int | None = None,
                  cadence: Any = KEEP, now: int, due_at: int | None) -> Posted:
    """Record an update. `cadence`: seconds, None (off) or KEEP; `due_at`: when the next one is
    due (None: no reminder), computed by the caller from the cadence."""
    require_change(actor, incident)
    current = reload(incident)
    if not current.is_active:
        raise Conflict(f"{incident.name!r} has ended; restart it to post updates.")
    text = clean_message(message)
    new_severity = severity or current.severity
    changes: dict[Any, Any] = {Incident.last_update_at: now, Incident.version: Incident.version + 1,
                               Incident.first_update_at: earliest(Incident.first_update_at, now)}
    if new_severity != current.severity:
        changes[Incident.severity] = new_severity
    if cadence is not KEEP:
        changes[Incident.cadence_seconds] = cadence
    with db.atomic():
        Incident.update(changes).where(Incident.id == incident.id).execute()
        update = StatusUpdate.create(incident=incident.id, author_id=actor.user_id, message=text, severity=new_severity,
                                     posted_at=now)
        reminder = _reminder(incident)
        previous_post = reminder.post_id
        UpdateReminder.update(due_at=due_at, sent_at=None, post_id=None).where(UpdateReminder.id == reminder.id).execute()
        if new_severity != current.severity:
            timeline.record(incident, "severity_changed", actor.user_id, at=now, previous=current.severity,
                            severity=new_severity)
        timeline.record(incident, "status_update_posted", actor.user_id, at=now, update_id=update.id,
                        severity=new_severity, next_due_at=due_at)
    return Posted(update, reload(incident), previous_post,
                  current.severity if new_severity != current.severity else None)


def set_update_posts(update: StatusUpdate, post_id: str | None, broadcast_post_id: str | None) -> None:
    StatusUpdate.update(post_id=post_id, broadcast_post_id=broadcast_post_id).where(StatusUpdate.id == update.id).execute()


def last_update(incident: Incident) -> StatusUpdate | None:
    return (StatusUpdate.select()  # type: ignore[no-any-return]  # peewee's first() is untyped.where(StatusUpdate.incident == incident.id)
            .order_by(StatusUpdate.posted_at.desc(), StatusUpdate.id.desc()).first())


def updates_of(incident: Incident) -> list[StatusUpdate]:
    return list(StatusUpdate.select().where(StatusUpdate.incident == incident.id)
                .order_by(StatusUpdate.posted_at, StatusUpdate.id))


# ---- reminders ---------------------------------------------------------------------------------
def _reminder(incident: Incident) -> UpdateReminder:
    reminder = UpdateReminder.get_or_none(UpdateReminder.incident == incident.id)
    if reminder is None:  # two first changes at once: one row all the same
        UpdateReminder.insert(incident=incident.id).on_conflict_ignore().execute()
        reminder = UpdateReminder.get(UpdateReminder.incident == incident.id)
    return reminder


def reminder_of(incident: Incident) -> UpdateReminder | None:
    # every checklist render reads it (the next update's time): SQL made once (models/prepared.py)
    found = prepared.select(UpdateReminder, "update reminder of an incident", _reminder_query, incident.id)
    return found[0] if found else None


def _reminder_query(incident_id: int) -> Any:
    return UpdateReminder.select().where(UpdateReminder.incident == incident_id)


def next_due(incident: Incident) -> int | None:
    reminder = reminder_of(incident)
    return int(reminder.due_at) if reminder and reminder.due_at is not None else None


def next_due_of(incident_ids: Collection[int]) -> dict[int, int]:
    """Incident id -> when its next status update is due, for those that have a due time: one query."""
    if not incident_ids:
        return {}
    rows: list[Any] = list(UpdateReminder.select(UpdateReminder.incident, UpdateReminder.due_at)
                           .where(UpdateReminder.incident.in_(list(incident_ids)) & UpdateReminder.due_at.is_null(False))
                           .tuples())
    return {int(incident_id): int(due_at) for incident_id, due_at in rows}


def schedule_reminder(incident: Incident, due_at: int | None) -> str | None:
    """The next update is due at `due_at` (None: no reminder); returns the post of a reminder
    that was out, which the caller closes."""
    with db.atomic():
        reminder = _reminder(incident)
        previous_post = reminder.post_id
        UpdateReminder.update(due_at=due_at, sent_at=None, post_id=None).where(UpdateReminder.id == reminder.id).execute()
    return str(previous_post) if previous_post else None


def due_reminders(now: int) -> list[UpdateReminder]:
    """Reminders due and not sent, of active incidents, oldest first."""
    return list(UpdateReminder.select().join(Incident)
                .where((UpdateReminder.due_at <= now) & UpdateReminder.sent_at.is_null() & (Incident.is_active == True))  # noqa: E712
                .order_by(UpdateReminder.due_at))


def pending_reminders() -> list[UpdateReminder]:
    return list(UpdateReminder.select().where(UpdateReminder.due_at.is_null(False) & UpdateReminder.sent_at.is_null()))


def claim_reminder(reminder: UpdateReminder, now: int) -> bool:
    """True for the one caller (across replicas) that sends this reminder."""
    claimed = (UpdateReminder.update(sent_at=now)
               .where((UpdateReminder.id == reminder.id) & (UpdateReminder.due_at == reminder.due_at)
                      & UpdateReminder.sent_at.is_null())
               .execute())
    if claimed:
        timeline.record(incident_of(reminder), "reminder_sent", None, at=now, due_at=reminder.due_at)
    return bool(claimed)


def set_reminder_post(reminder: UpdateReminder, post_id: str) -> None:
    UpdateReminder.update(post_id=post_id).where(UpdateReminder.id == reminder.id).execute()


def snooze(actor: Actor, incident: Incident, due_at: int) -> str | None:
    """Put the reminder off until `due_at`; returns the reminder post to close."""
    require_change(actor, incident)
    if not reload(incident).is_active:
        raise Conflict(f"{incident.name!r} has ended; it has no reminders.")
    previous_post = schedule_reminder(incident, due_at)
    timeline.record(incident, "reminder_snoozed", actor.user_id, due_at=due_at)
    return previous_post


def incident_of(reminder: UpdateReminder) -> Incident:
    incident = Incident.get_or_none(Incident.id == reminder.incident_id)
    if incident is None:
        raise NotFound("There is no such incident.")
    return incident


# ---- the broadcast channel -----------------------------------------------------------------------
def set_broadcast_post(incident: Incident, post_id: str) -> None:
    Incident.update(broadcast_post_id=post_id, broadcast_problem="").where(Incident.id == incident.id).execute()


def broadcast_problem(incident: Incident, problem: str) -> bool:
    """Note why the broadcast channel cannot be used (the latest reason). True when there was no
    problem before: the commander is told once, not at every refused post."""
    first = (Incident.update(broadcast_problem=problem)
             .where((Incident.id == incident.id) & (Incident.broadcast_problem == "")).execute())
    if not first:
        Incident.update(broadcast_problem=problem).where(Incident.id == incident.id).execute()
    return bool(first)
