"""Keeping people informed: status updates, the reminder that one is due, broadcast settings.

Invariants kept by the services:
- an incident has at most one `UpdateReminder` row; `due_at` is when the next update is
  due (NULL: no reminder, e.g. the incident ended or its cadence is off);
- `sent_at` is set by the one replica that sent the reminder for that `due_at` (a claim:
  `UPDATE ... WHERE sent_at IS NULL`), so each reminder goes out once across replicas.
"""
from __future__ import annotations

import peewee

from .db import BaseModel
from .fields import IdField, JsonTextField
from .incidents import Incident
from .playbooks import Playbook


class StatusUpdate(BaseModel):
    id = peewee.AutoField()  # peewee's implicit key, spelled out for the type checker
    incident = peewee.ForeignKeyField(Incident, backref="updates", on_delete="CASCADE")
    author_id = IdField()
    message = peewee.TextField()
    severity = peewee.IntegerField()
    posted_at = peewee.BigIntegerField(index=True)
    post_id = IdField(null=True)  # in the incident channel
    broadcast_post_id = IdField(null=True)  # the copy in the broadcast channel


class UpdateReminder(BaseModel):
    id = peewee.AutoField()  # peewee's implicit key, spelled out for the type checker
    incident = peewee.ForeignKeyField(Incident, unique=True, backref="reminder", on_delete="CASCADE")
    incident_id: int  # the key itself, which peewee adds beside the field
    due_at = peewee.BigIntegerField(null=True, index=True)
    sent_at = peewee.BigIntegerField(null=True)
    post_id = IdField(null=True)  # the "an update is due" post, edited once the update is in


class PlaybookUpdates(BaseModel):
    """What a playbook says about updates; no row: the defaults."""

    playbook = peewee.ForeignKeyField(Playbook, primary_key=True, backref="update_settings", on_delete="CASCADE")
    default_severity = peewee.IntegerField(null=True)
    broadcast_channel_id = IdField(null=True)  # overrides the team's
    template = peewee.TextField(default="")
    cadence = JsonTextField(default=dict)  # {"1": seconds, ...}; missing severities: the defaults
    announce_private = peewee.BooleanField(default=False)


class TeamBroadcast(BaseModel):
    """The team's broadcast channel, set by a team or system admin."""

    team_id = IdField(primary_key=True)
    channel_id = IdField()
    set_by = IdField()
    set_at = peewee.BigIntegerField()
