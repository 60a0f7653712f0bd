"""Incidents, their checklists and their timeline.

Invariants kept by the services (and relied on by the chat layer):
- one incident per channel (`channel_id` is unique);
- `version` goes up by one with every change to the incident or its checklists, in
  the same transaction as the change, so a button rendered at version N can tell
  that the incident moved on;
- checklist and item `position`s are dense and 0-based within their parent; users
  see them 1-based ("2.3" = checklist 2, item 3).
"""
from __future__ import annotations

import unicodedata

import peewee

from .db import BaseModel
from .fields import IdField, JsonTextField
from .playbooks import Playbook

NAME_MAX = 64

STATE_OPEN = "open"
STATE_CLOSED = "closed"


def name_key(name: str) -> str:
    """Case-insensitive identity of an incident name, computed in Python for both databases."""
    return " ".join(name.casefold().split())


# Letters that carry their "accent" in the letter itself, so NFKD does not split them.
_UNSPLIT_LETTERS = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ħ": "h", "ı": "i", "æ": "ae", "œ": "oe", "þ": "th",
                                  "ŧ": "t", "ŀ": "l"})
SEARCH_KEY_MAX = NAME_MAX * 4


def search_key(text: str) -> str:
    """Accent-, case- and spacing-blind form of a name, for substring search in SQL.

    `Ziggürat` and `ZIGGURAT` both give `ziggurat`. Stored next to the name and applied
    to the query the same way, so a plain LIKE finds matches on SQLite and PostgreSQL.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.translate(_UNSPLIT_LETTERS).casefold().split())[:SEARCH_KEY_MAX]


class Incident(BaseModel):
    id = peewee.AutoField()  # peewee's implicit key, spelled out for the type checker
    team_id = IdField(index=True)
    name = peewee.CharField(max_length=NAME_MAX)
    name_key = peewee.CharField(max_length=NAME_MAX * 3, index=True)
    # search_key(name), kept in step by save(); added by migration 2
    search_key = peewee.CharField(max_length=SEARCH_KEY_MAX, default="")
    channel_id = IdField(unique=True)
    channel_name = peewee.CharField(max_length=64, index=True)
    commander_id = IdField()
    creator_id = IdField()
    is_private = peewee.BooleanField(default=False)
    is_active = peewee.BooleanField(default=True, index=True)
    created_at = peewee.BigIntegerField()
    ended_at = peewee.BigIntegerField(null=True)
    ended_by = IdField(null=True)
    playbook = peewee.ForeignKeyField(Playbook, null=True, backref="incidents", on_delete="SET NULL")
    playbook_id: int | None  # the key itself, which peewee adds beside the field
    playbook_version = peewee.IntegerField(null=True)
    summary = peewee.TextField(default="")
    source_post_id = IdField(null=True)
    # the bot's interactive checklist message in the incident channel
    checklist_post_id = IdField(null=True)
    version = peewee.IntegerField(default=1)
    # added by migration 4: severity 1 (most severe) to 4, the update cadence (NULL: off), the
    # last update, and the broadcast channel's live announcement
    severity = peewee.IntegerField(default=3)
    cadence_seconds = peewee.IntegerField(null=True)
    last_update_at = peewee.BigIntegerField(null=True)
    broadcast_channel_id = IdField(null=True)
    broadcast_post_id = IdField(null=True)
    broadcast_problem = peewee.TextField(default="")  # why the broadcast channel cannot be used
    # added by migration 11: what the metrics read, stored by the services when it happens so that
    # `/incident metrics` reads this table alone (MTTA from the first two, MTTR from the third)
    first_update_at = peewee.BigIntegerField(null=True)  # the earliest status update (ms)
    first_tick_at = peewee.BigIntegerField(null=True)  # the earliest checklist tick, even if unticked since
    # time spent ended between runs (each restart adds restart - end): the open time over all runs
    # is ended_at - created_at - paused_ms
    paused_ms = peewee.BigIntegerField(default=0)

    def save(self, *args, **kwargs):
        self.search_key = search_key(self.name or "")
        return super().save(*args, **kwargs)


class Checklist(BaseModel):
    id = peewee.AutoField()  # peewee's implicit key, spelled out for the type checker
    incident = peewee.ForeignKeyField(Incident, backref="checklists", on_delete="CASCADE")
    position = peewee.IntegerField()
    title = peewee.CharField(max_length=64)


class ChecklistItem(BaseModel):
    id = peewee.AutoField()  # peewee's implicit key, spelled out for the type checker
    checklist = peewee.ForeignKeyField(Checklist, backref="items", on_delete="CASCADE")
    position = peewee.IntegerField()
    title = peewee.TextField()
    state = peewee.CharField(max_length=16, default=STATE_OPEN)
    checked_by = IdField(null=True)
    checked_at = peewee.BigIntegerField(null=True)

    @property
    def is_checked(self) -> bool:
        return self.state == STATE_CLOSED


class TimelineEvent(BaseModel):
    id = peewee.AutoField()  # peewee's implicit key, spelled out for the type checker
    incident = peewee.ForeignKeyField(Incident, backref="timeline", on_delete="CASCADE")
    incident_id: int  # the key itself, which peewee adds beside the field
    at = peewee.BigIntegerField(index=True)
    actor_id = IdField(null=True)
    kind = peewee.CharField(max_length=32)
    # ids and numbers only (no user-written text), so metrics can be computed later.
    data = JsonTextField(default=dict)


# ---- what a process was doing when it died ---------------------------------------------------------
# An incident start, as asked, recorded before anything exists in Mattermost. `state` moves
# starting -> started (the request finished it) | recovered (recovery or a retry finished it) |
# rolled_back (its channel, if any, archived and the person told).
START_STARTING = "starting"
START_STARTED = "started"
START_RECOVERED = "recovered"
START_ROLLED_BACK = "rolled_back"


class IncidentStart(BaseModel):
    """An incident being started (added by migration 7).

    The incident row itself is made only once its channel exists, so an unfinished start is
    never listed, counted or swept as an incident; this row is what recovery finishes or
    rolls back."""

    id = peewee.AutoField()  # peewee's implicit key, spelled out for the type checker
    team_id = IdField()
    name = peewee.CharField(max_length=NAME_MAX)
    name_key = peewee.CharField(max_length=NAME_MAX * 3)
    # the name the channel is (to be) created with; a clash's suffixed name is stored before it is tried
    channel_name = peewee.CharField(max_length=64)
    is_private = peewee.BooleanField(default=False)
    creator_id = IdField()
    creator_username = peewee.CharField(max_length=64, default="")
    playbook = peewee.ForeignKeyField(Playbook, null=True, on_delete="SET NULL")
    playbook_id: int | None  # the key itself, which peewee adds beside the field
    severity = peewee.IntegerField(default=3)
    summary = peewee.TextField(default="")
    source_post_id = IdField(null=True)
    channel_id = IdField(null=True)  # once created or adopted
    incident = peewee.ForeignKeyField(Incident, null=True, on_delete="CASCADE")
    incident_id: int | None
    state = peewee.CharField(max_length=16, default=START_STARTING)
    created_at = peewee.BigIntegerField()
    finished_at = peewee.BigIntegerField(null=True)
    problem = peewee.TextField(default="")  # why it was rolled back or left without its messages

    class Meta:
        indexes = ((("state", "created_at"), False), (("team_id", "creator_id", "name_key"), False))


CHANGE_END = "end"
CHANGE_RESTART = "restart"


class ChannelChange(BaseModel):
    """An end or restart whose Mattermost half may not be done yet (added by migration 7).

    An end is recorded, then its channel archived; a restart is noted here, then its channel
    restored, then recorded. The row goes when both halves are done; recovery completes what a
    dead process left between them. One per incident: a restart replaces a pending end."""

    id = peewee.AutoField()  # peewee's implicit key, spelled out for the type checker
    incident = peewee.ForeignKeyField(Incident, unique=True, on_delete="CASCADE")
    incident_id: int
    kind = peewee.CharField(max_length=16)
    actor_id = IdField()
    actor_username = peewee.CharField(max_length=64, default="")
    at = peewee.BigIntegerField(index=True)
    retrospective_posted = peewee.BooleanField(default=False)
