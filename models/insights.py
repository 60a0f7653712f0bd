"""How a team looks back on its incidents: its timezone, its weekly digest channel, the digests sent.

Invariants kept by the services:
- a team has at most one `TeamInsights` row; no row: UTC and no digest;
- a `DigestPost` row is the claim on one team's digest for one due time (`due_at`, ms): the one
  replica whose INSERT succeeds posts it, so a digest goes out once across replicas and restarts.
"""
from __future__ import annotations

import peewee

from .db import BaseModel
from .fields import IdField

ZONE_MAX = 64


class TeamInsights(BaseModel):
    """The team's timezone (weeks and the digest's Monday 09:00 are in it) and digest channel."""

    team_id = IdField(primary_key=True)
    timezone = peewee.CharField(max_length=ZONE_MAX, default="UTC")
    digest_channel_id = IdField(null=True)  # NULL: no digest
    digest_set_at = peewee.BigIntegerField(null=True)  # digests due before this are never sent
    set_by = IdField(null=True)


class DigestPost(BaseModel):
    id = peewee.AutoField()  # peewee's implicit key, spelled out for the type checker
    team_id = IdField()
    due_at = peewee.BigIntegerField()
    channel_id = IdField()
    claimed_at = peewee.BigIntegerField()
    post_id = IdField(null=True)  # set once posted
    problem = peewee.TextField(default="")  # why Mattermost refused it, if it did

    class Meta:
        indexes = ((("team_id", "due_at"), True),)
