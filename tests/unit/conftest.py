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
