"""Seed the bot's database directly (before the bot starts), for stories that need history."""

from __future__ import annotations

import os
import itertools
from contextlib import contextmanager
from pathlib import Path

from models import Incident, connect
from models.incidents import name_key
from models.migrations import migrate

_numbers = itertools.count(1)


@contextmanager
def bot_database(workdir: Path):
    """The database the bot of this test will use (the harness's SQLite file, or TEST_DATABASE_URL)."""
    database = connect(os.environ.get("TEST_DATABASE_URL") or None, str(workdir / "bot.sqlite3"))
    migrate()
    try:
        with database.atomic():
            yield database
    finally:
        database.close()


def add_incident(world, name: str, *, commander: str, created_at: int, ended_at: int | None = None,
                 private: bool = False, members: tuple[str, ...] = ()) -> Incident:
    """An incident with a real channel in the double (members: usernames put in it)."""
    double, team = world.double, world.team
    channel = double.create_channel(team["id"], f"inc-{next(_numbers)}", name, type="P" if private else "O")
    double.add_channel_member(channel["id"], world.bot_user["id"])
    for username in members:
        double.add_channel_member(channel["id"], world.users[username]["id"])
    commander_id = world.users[commander]["id"]
    return Incident.create(team_id=team["id"], name=name, name_key=name_key(name), channel_id=channel["id"],
                           channel_name=channel["name"], commander_id=commander_id, creator_id=commander_id,
                           is_private=private, is_active=ended_at is None, created_at=created_at, ended_at=ended_at)
