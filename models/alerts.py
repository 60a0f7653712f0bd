"""Alerts that start incidents: the sources that may send them, what they sent, and which incident
each alert group opened.

Invariants kept by the services:
- a source's secret is never stored, only its SHA-256 (`secret_hash`); the URL carries the secret;
- a source's name is unique in its team, case-insensitively (`name_key`);
- a delivery is stored before it is answered, so nothing answered 200 is lost across a restart;
  the same body sent twice to one source (a sender's retry) is one row (`body_hash` is unique per
  source); deliveries are processed in the order of their `id`;
- a group (`group_key_hash`: SHA-256 of the sender's `groupKey`) has at most one *active* incident:
  the group rows are written only by the one delivery worker, in order.
"""
from __future__ import annotations

import peewee

from .db import BaseModel
from .fields import IdField, JsonTextField
from .incidents import Incident
from .playbooks import Playbook

SOURCE_NAME_MAX = 64

PENDING = "pending"
DONE = "done"
FAILED = "failed"


class AlertSource(BaseModel):
    id = peewee.AutoField()  # peewee's implicit key, spelled out for the type checker
    team_id = IdField(index=True)
    name = peewee.CharField(max_length=SOURCE_NAME_MAX)
    name_key = peewee.CharField(max_length=SOURCE_NAME_MAX * 3)
    secret_hash = peewee.CharField(max_length=64)
    playbook = peewee.ForeignKeyField(Playbook, null=True, on_delete="SET NULL")
    playbook_id: int | None  # the key itself, which peewee adds beside the field
    severity = peewee.IntegerField(null=True)  # None: from the alert's `severity` label, else the playbook's
    is_private = peewee.BooleanField(default=False)
    owner_id = IdField()  # who connected it: the commander of the incidents it opens
    created_at = peewee.BigIntegerField()
    last_problem = peewee.TextField(default="")  # why its last delivery opened nothing, for `alerts list`

    class Meta:
        indexes = ((("team_id", "name_key"), True),)


class AlertDelivery(BaseModel):
    id = peewee.AutoField()  # the order deliveries are processed in
    source = peewee.ForeignKeyField(AlertSource, backref="deliveries", on_delete="CASCADE")
    source_id: int  # the key itself, which peewee adds beside the field
    body = peewee.TextField()  # the JSON as received (already checked to parse)
    body_hash = peewee.CharField(max_length=64)
    received_at = peewee.BigIntegerField()
    state = peewee.CharField(max_length=16, default=PENDING, index=True)
    attempts = peewee.IntegerField(default=0)
    outcome = peewee.TextField(default="")  # what processing did, or why it failed
    processed_at = peewee.BigIntegerField(null=True)

    class Meta:
        indexes = ((("source", "body_hash"), True),)


class AlertGroup(BaseModel):
    """One alert group's incident, and the alerts of the group firing as last told."""

    id = peewee.AutoField()  # peewee's implicit key, spelled out for the type checker
    source = peewee.ForeignKeyField(AlertSource, backref="groups", on_delete="CASCADE")
    source_id: int  # the key itself, which peewee adds beside the field
    group_key_hash = peewee.CharField(max_length=64)
    incident = peewee.ForeignKeyField(Incident, backref="alert_groups", on_delete="CASCADE")
    incident_id: int  # the key itself, which peewee adds beside the field
    firing = JsonTextField(default=dict)  # fingerprint -> alert name, of the alerts firing now
    resolved_at = peewee.BigIntegerField(null=True)  # the whole group resolved (NULL: something fires)
    updated_at = peewee.BigIntegerField()

    class Meta:
        indexes = ((("source", "group_key_hash"), False),)
