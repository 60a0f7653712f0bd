"""The bot's own bookkeeping: slash commands it registered, key/value state, schema version."""
from __future__ import annotations

import secrets

import peewee

from .db import BaseModel, db
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


class HandledEvent(BaseModel):
    """A websocket event one replica took on. Every replica receives every event; replicas
    sharing the database act on one (a DM, a reaction) once: whoever records it first."""

    key = peewee.CharField(max_length=200, primary_key=True)
    at = peewee.BigIntegerField(index=True)


HANDLED_EVENT_DAYS = 2


def claim_event(key: str) -> bool:
    """True for the one caller, across replicas, that gets to handle this event."""
    at = now_ms()
    try:
        with db.atomic():
            HandledEvent.create(key=key[:200], at=at)
    except peewee.IntegrityError:
        return False
    if at % 1000 == 0:  # now and then, forget claims nobody can repeat any more
        HandledEvent.delete().where(HandledEvent.at < at - HANDLED_EVENT_DAYS * 86_400_000).execute()
    return True


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


def contexts_timed_since() -> int:
    """When (ms) the bot first signed buttons and dialogs with their issue time: recorded at the first
    start of a version that does, and kept. Older ones carry no time and count as made then."""
    BotState.insert(key="contexts_timed_since", value=str(now_ms())).on_conflict_ignore().execute()
    return int(BotState.get_by_id("contexts_timed_since").value)


def signing_secret() -> str:
    """The secret that signs buttons and dialogs: made once, then shared by every replica."""
    BotState.insert(key="signing_secret", value=secrets.token_hex(32)).on_conflict_ignore().execute()
    return BotState.get_by_id("signing_secret").value
