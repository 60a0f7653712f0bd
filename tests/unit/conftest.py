"""Storage fixtures: every test that takes `db` runs on SQLite and, when
TEST_DATABASE_URL is set, on PostgreSQL too (tables dropped and re-created per test)."""
from __future__ import annotations

import os

import pytest

from models import connect
from models.migrations import drop_all, migrate

BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.fixture(params=BACKENDS)
def empty_db(request, tmp_path):
    """A connected database with no tables."""
    if request.param == "postgres":
        database = connect(os.environ["TEST_DATABASE_URL"], "")
        drop_all()
    else:
        database = connect(None, str(tmp_path / "bot.sqlite3"))
    yield database
    database.close()


@pytest.fixture
def db(empty_db):
    migrate()
    return empty_db


# --- people ----------------------------------------------------------------------------------

from services.actor import Actor  # noqa: E402

TEAM = "team-a"
OTHER_TEAM = "team-b"


def person(user_id: str, *, team: str = TEAM, channels=(), system_admin=False, team_admin=False) -> Actor:
    """An actor whose channel memberships are the given channel ids (a fake of the chat layer's check)."""
    member_of = frozenset(channels)
    return Actor(
        user_id=user_id,
        username=user_id,
        team_id=team,
        is_system_admin=system_admin,
        is_team_admin=team_admin,
        is_channel_member=lambda channel_id: channel_id in member_of,
    )


# --- the flows, with a chat port in memory --------------------------------------------------------

@pytest.fixture
def chat():
    from tests.unit.fake_chat import FakeChat

    return FakeChat()


@pytest.fixture
def ctx(chat):
    from tests.unit.fake_chat import flow_context

    context = flow_context(chat)
    yield context
    # every worker, not just the checklist's: one still publishing when the next test switches the
    # database would keep its PostgreSQL advisory lock on a connection nobody closes
    context.stop()
