"""Storage fixtures: every test that takes `db` runs on SQLite or, when TEST_DATABASE_URL is set,
on PostgreSQL, as the end-to-end tests do (a fresh file per test on SQLite; on PostgreSQL the
tables are made once and emptied between tests, which costs a tenth of dropping and migrating)."""
from __future__ import annotations

import os

import peewee
import pytest

from models import connect
from models.bot import SchemaVersion
from models.migrations import ALL_MODELS, drop_all, migrate

BACKEND = "postgres" if os.environ.get("TEST_DATABASE_URL") else "sqlite"


class _PostgresSchema:
    """Whether the PostgreSQL tables are every migration's, as `db` left them (an `empty_db` test
    may leave anything)."""

    current = False


def _connect(backend: str, tmp_path):
    if backend == "postgres":
        return connect(os.environ["TEST_DATABASE_URL"], "")
    return connect(None, str(tmp_path / "bot.sqlite3"))


def _empty_tables(database) -> None:
    """Every row gone and every id counting from 1 again. DELETE, not TRUNCATE: on tables this
    small it takes milliseconds, and it need not wait for a lock a finished test's thread holds."""
    with database.atomic():
        for model in reversed(ALL_MODELS):  # children before parents
            if model is SchemaVersion:
                continue
            table = model._meta.table_name
            database.execute_sql(f'DELETE FROM "{table}"')
            if isinstance(model._meta.primary_key, peewee.AutoField):
                database.execute_sql(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), 1, false)")


@pytest.fixture
def backend() -> str:
    return BACKEND


@pytest.fixture
def empty_db(backend, tmp_path):
    """A connected database with no tables."""
    database = _connect(backend, tmp_path)
    if backend == "postgres":
        drop_all()
        _PostgresSchema.current = False
    yield database
    database.close()


@pytest.fixture
def db(backend, tmp_path):
    """A connected database with every migration applied and no rows but the migrations' record."""
    database = _connect(backend, tmp_path)
    if backend == "postgres" and _PostgresSchema.current:
        _empty_tables(database)
    else:
        if backend == "postgres":
            drop_all()  # whatever an end-to-end test or an older schema left
        migrate()
        _PostgresSchema.current = backend == "postgres"
    yield database
    database.close()


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
