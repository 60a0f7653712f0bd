"""Playbooks: team templates whose checklists are copied into incidents at start.

A playbook's content is versioned: every save writes a new immutable
`PlaybookVersion` with its own checklist rows, and `Playbook.version` names the
current one. Incidents record the version they were started from, so editing or
deleting a playbook never changes a running or past incident.
"""
from __future__ import annotations

import peewee

from .db import BaseModel
from .fields import IdField

TITLE_MAX = 64


def title_key(title: str) -> str:
    """Case-insensitive identity of a title, computed in Python so both databases agree."""
    return " ".join(title.casefold().split())


class Playbook(BaseModel):
    id = peewee.AutoField()  # peewee's implicit key, spelled out for the type checker
    team_id = IdField(index=True)
    title = peewee.CharField(max_length=TITLE_MAX)
    # casefolded title; NULL once deleted so the title can be reused (NULLs never clash).
    title_key = peewee.CharField(max_length=TITLE_MAX * 3, null=True)
    description = peewee.TextField(default="")
    # Public playbooks are visible to the whole team; private ones to editors and admins.
    is_public = peewee.BooleanField(default=True)
    create_public_incidents = peewee.BooleanField(default=False)
    version = peewee.IntegerField(default=1)
    created_by = IdField()
    created_at = peewee.BigIntegerField()
    updated_at = peewee.BigIntegerField()
    deleted_at = peewee.BigIntegerField(null=True)
    deleted_by = IdField(null=True)

    class Meta:
        indexes = ((("team_id", "title_key"), True),)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class PlaybookVersion(BaseModel):
    id = peewee.AutoField()  # peewee's implicit key, spelled out for the type checker
    playbook = peewee.ForeignKeyField(Playbook, backref="versions", on_delete="CASCADE")
    number = peewee.IntegerField()
    created_by = IdField()
    created_at = peewee.BigIntegerField()

    class Meta:
        indexes = ((("playbook", "number"), True),)


class PlaybookChecklist(BaseModel):
    id = peewee.AutoField()  # peewee's implicit key, spelled out for the type checker
    playbook_version = peewee.ForeignKeyField(
        PlaybookVersion, backref="checklists", on_delete="CASCADE"
    )
    position = peewee.IntegerField()  # 0-based order within the version
    title = peewee.CharField(max_length=TITLE_MAX)


class PlaybookItem(BaseModel):
    id = peewee.AutoField()  # peewee's implicit key, spelled out for the type checker
    checklist = peewee.ForeignKeyField(PlaybookChecklist, backref="items", on_delete="CASCADE")
    position = peewee.IntegerField()  # 0-based order within the checklist
    title = peewee.TextField()


class PlaybookEditor(BaseModel):
    id = peewee.AutoField()  # peewee's implicit key, spelled out for the type checker
    playbook = peewee.ForeignKeyField(Playbook, backref="editors", on_delete="CASCADE")
    user_id = IdField()
    # Who added them; added_by == user_id means they joined themselves, which matters
    # for who may remove them (see services.permissions).
    added_by = IdField()
    added_at = peewee.BigIntegerField()

    class Meta:
        indexes = ((("playbook", "user_id"), True),)


class TeamSettings(BaseModel):
    """Per-team switches that only team and system admins may change."""

    team_id = IdField(primary_key=True)
    members_may_delete_public_playbooks = peewee.BooleanField(default=False)
