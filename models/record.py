"""What the incident's record keeps besides its events: pinned posts and follow-ups.

Invariants kept by the services:
- a post is pinned to an incident's timeline at most once (`(incident, post_id)` is unique);
- follow-ups are numbered 1, 2, ... within their incident, in the order they were recorded,
  and keep their number for good (done ones too), so "followup done 3" always means one thing.
Pinned posts keep ids only: their text is read from Mattermost when shown (it may have been
edited or deleted since).
"""
from __future__ import annotations

import peewee

from .db import BaseModel
from .fields import IdField
from .incidents import Incident


class PinnedPost(BaseModel):
    id = peewee.AutoField()  # peewee's implicit key, spelled out for the type checker
    incident = peewee.ForeignKeyField(Incident, backref="pins", on_delete="CASCADE")
    post_id = IdField()
    summary = peewee.TextField(default="")  # what the person who pinned it said about it
    pinned_by = IdField()
    pinned_at = peewee.BigIntegerField()

    class Meta:
        indexes = ((("incident", "post_id"), True),)


class FollowUp(BaseModel):
    id = peewee.AutoField()  # peewee's implicit key, spelled out for the type checker
    incident = peewee.ForeignKeyField(Incident, backref="followups", on_delete="CASCADE")
    number = peewee.IntegerField()
    text = peewee.TextField()
    owner_id = IdField(null=True)
    created_by = IdField()
    created_at = peewee.BigIntegerField()
    done_by = IdField(null=True)
    done_at = peewee.BigIntegerField(null=True)

    class Meta:
        indexes = ((("incident", "number"), True),)

    @property
    def is_done(self) -> bool:
        return self.done_at is not None
