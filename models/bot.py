"""The bot's own bookkeeping: slash commands it registered, key/value state, schema version."""
from __future__ import annotations

import secrets

import peewee

from .db import BaseModel
from .clock import now_ms
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


def remember_command(team_id: str, command_id: str, token: str) -> None:
    """Keep the token Mattermost issued for /incident in a team (replicas read it back)."""
    (SlashCommand.insert(team_id=team_id, command_id=command_id, token=token, created_at=now_ms())
     .on_conflict(conflict_target=[SlashCommand.team_id],
                  update={SlashCommand.command_id: command_id, SlashCommand.token: token})
     .execute())


def command_token(team_id: str) -> str | None:
    """The /incident token of a team, as whichever replica registered it stored it."""
    row = SlashCommand.get_or_none(SlashCommand.team_id == team_id)
    return row.token if row else None


def signing_secret() -> str:
    """The secret that signs buttons and dialogs: made once, then shared by every replica."""
    BotState.insert(key="signing_secret", value=secrets.token_hex(32)).on_conflict_ignore().execute()
    return BotState.get_by_id("signing_secret").value
