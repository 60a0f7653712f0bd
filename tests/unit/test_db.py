"""Connecting: SQLite by default with the settings a multi-threaded bot needs; PostgreSQL by URL."""
from __future__ import annotations

import os

import peewee
import pytest

from models import connect, db as proxy
from models.clock import from_ms, to_ms
from models.db import ReconnectingPostgresqlDatabase


def test_without_a_url_the_bot_uses_a_sqlite_file_in_wal_mode_with_foreign_keys(tmp_path):
    database = connect(None, str(tmp_path / "bot.sqlite3"))
    assert isinstance(database, peewee.SqliteDatabase)
    assert proxy.obj is database
    assert database.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert database.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    assert database.execute_sql("PRAGMA busy_timeout").fetchone()[0] >= 1000
    database.close()


def test_a_postgresql_url_gives_a_reconnecting_postgres_database(tmp_path):
    database = connect("postgresql://u:p%40ss@db.example:5433/incidents", str(tmp_path / "unused"))
    assert isinstance(database, ReconnectingPostgresqlDatabase)
    assert database.database == "incidents"
    assert database.connect_params["password"] == "p@ss"
    assert database.connect_params["port"] == 5433


def test_an_unknown_url_scheme_is_refused_with_a_hint(tmp_path):
    with pytest.raises(ValueError, match="postgresql://"):
        connect("mysql://x/y", str(tmp_path / "unused"))


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs TEST_DATABASE_URL")
def test_after_the_server_drops_the_connection_the_next_query_reconnects():
    database = connect(os.environ["TEST_DATABASE_URL"], "")
    first_pid = database.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
    # Kill our own backend from a second connection, as a server restart would.
    other = ReconnectingPostgresqlDatabase(database.database, **database.connect_params)
    other.execute_sql("SELECT pg_terminate_backend(%s)", (first_pid,))
    other.close()
    second_pid = database.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
    assert second_pid != first_pid
    database.close()


def test_times_are_utc_milliseconds_and_naive_datetimes_count_as_utc():
    from datetime import datetime, timedelta, timezone

    aware = datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert to_ms(aware) == to_ms(datetime(2024, 5, 1, 10, 0))
    assert from_ms(to_ms(aware)) == aware


def test_an_incident_lock_is_held_against_another_connection_until_released(db):
    import threading

    from models.db import incident_lock, is_postgres

    if not is_postgres():
        pytest.skip("one process on SQLite: the in-process lock is all there is")
    order = []
    inside = threading.Event()

    def other_replica():
        inside.wait()
        with incident_lock(7):
            order.append("other")
        db.close()

    thread = threading.Thread(target=other_replica)
    thread.start()
    with incident_lock(7):
        inside.set()
        thread.join(0.3)  # the other replica must still be waiting
        order.append("first")
    thread.join(5)
    assert order == ["first", "other"]
