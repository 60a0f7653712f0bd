"""The bot's own bookkeeping: slash commands it registered, key/value state, schema version."""
from __future__ import annotations

import peewee

from .db import BaseModel
from .fields import IdField


class SlashCommand(BaseModel):
    """The /incident command the bot registered in a team, and the token Mattermost sends with it."""

    team_id = IdField(primary_key=True)
    command_id = IdField(unique=True)
    token = peewee.CharField(max_length=128)
    created_at = peewee.BigIntegerField()


class BotState(BaseModel):
    """Small named values the bot keeps across restarts (e.g. the action signing secret)."""

    key = peewee.CharField(max_length=128, primary_key=True)
    value = peewee.TextField()


class SchemaVersion(BaseModel):
    version = peewee.IntegerField(primary_key=True)
    description = peewee.CharField(max_length=200)
    applied_at = peewee.BigIntegerField()
