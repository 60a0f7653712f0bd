"""Database connection: one process-wide proxy, initialised at start by `connect()`.

Models bind to `db` (a `peewee.DatabaseProxy`) so that the bot, the tests and the
migrations can point the same tables at SQLite or PostgreSQL without import-time
configuration.

Times are stored everywhere as integer milliseconds since the Unix epoch, UTC
(see `models.clock`), the unit Mattermost itself uses for `create_at` & co.
"""
from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from typing import Callable, TypeVar
from urllib.parse import urlparse

import peewee
from playhouse.db_url import parse as parse_db_url
from playhouse.shortcuts import ReconnectMixin

db = peewee.DatabaseProxy()
log = logging.getLogger("incident.db")

# How long a SQLite writer waits for another writer before giving up (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 10_000


class ReconnectingPostgresqlDatabase(ReconnectMixin, peewee.PostgresqlDatabase):
    """PostgreSQL that reopens its connection after the server restarted or dropped it.

    `ReconnectMixin` retries a failed statement once on a fresh connection, but only
    outside a transaction: inside one the error is raised, because silently replaying
    half a transaction could lose writes. Callers that run a transaction may simply
    retry the whole unit of work after an `peewee.OperationalError`/`InterfaceError`.
    """

    reconnect_errors = (
        (peewee.OperationalError, "server closed the connection"),
        (peewee.OperationalError, "terminating connection"),
        (peewee.OperationalError, "connection already closed"),
        (peewee.OperationalError, "could not connect"),
        (peewee.OperationalError, "ssl connection has been closed"),
        (peewee.InterfaceError, "connection already closed"),
        (peewee.InterfaceError, "cursor already closed"),
    )


class SerializedSqliteDatabase(peewee.SqliteDatabase):
    """SQLite with this process's write transactions queued on a lock.

    SQLite allows one writer at a time; a writer that finds the lock taken waits in its busy
    handler, which sleeps in growing steps (up to 100 ms) rather than waking when the lock is
    free. With 20 people ticking checklists at once that gave a one-second tail. Queuing the
    process's own writers on a Python lock hands over at once; the busy timeout still covers
    other processes (a second replica, a migration).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._writer = threading.Lock()
        self._holding = threading.local()

    def begin(self, lock_type=None):
        self._writer.acquire()
        self._holding.lock = True
        try:
            super().begin(lock_type)
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        # peewee rolls back after a failed commit: release once, whichever ends the transaction
        if getattr(self._holding, "lock", False):
            self._holding.lock = False
            self._writer.release()

    def commit(self):
        try:
            super().commit()
        finally:
            self._release()

    def rollback(self):
        try:
            super().rollback()
        finally:
            self._release()


def is_postgres_url(database_url: str | None) -> bool:
    return bool(database_url) and urlparse(database_url).scheme in ("postgres", "postgresql")


def make_database(database_url: str | None, sqlite_path: str) -> peewee.Database:
    """Build (but do not open) the database for a URL, or SQLite at `sqlite_path`."""
    if is_postgres_url(database_url):
        params = parse_db_url(database_url, unquote_password=True, unquote_user=True)
        name = params.pop("database")
        return ReconnectingPostgresqlDatabase(name, autoconnect=True, **params)
    if database_url and not database_url.startswith("sqlite"):
        raise ValueError(
            f"Unsupported database URL {database_url!r}: use postgresql://user:pass@host/db "
            "or leave it empty for SQLite."
        )
    if database_url:  # sqlite:///path overrides the default file
        sqlite_path = parse_db_url(database_url)["database"]
    return SerializedSqliteDatabase(
        sqlite_path,
        autoconnect=True,
        # IMMEDIATE: a transaction takes the write lock when it starts, so two writers
        # queue on busy_timeout instead of one failing with SQLITE_BUSY on lock upgrade.
        lock_type="IMMEDIATE",
        timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
        pragmas={
            "journal_mode": "wal",
            "foreign_keys": 1,
            "busy_timeout": SQLITE_BUSY_TIMEOUT_MS,
            "synchronous": "normal",
        },
    )


def connect(database_url: str | None, sqlite_path: str) -> peewee.Database:
    """Point `db` at the configured database and return the real database object.

    Connections are opened lazily per thread (`autoconnect`), so worker threads need
    no setup; they should call `db.close()` when they finish to return the connection.
    """
    database = make_database(database_url, sqlite_path)
    db.initialize(database)
    return database


# ---- the database is away: reconnect, try once more, then say so ---------------------------------
# What peewee raises when the server cannot be reached, restarts, drops the connection, or (SQLite)
# stays locked past the busy timeout. Errors in what was asked (IntegrityError, DataError) are not these.
UNAVAILABLE_ERRORS = (peewee.OperationalError, peewee.InterfaceError)
RECONNECT_SECONDS = 2.0  # how long one unit of work waits for the database to come back
_RECONNECT_STEP = 0.2
T = TypeVar("T")


class DatabaseUnavailable(Exception):
    """The database did not answer, even after a reconnect and one more try."""


def _drop_connection() -> None:
    try:
        db.close()
    except Exception:  # a dead connection may fail to close, or still think it is in a transaction
        db.dispose()


def reconnect(wait_seconds: float = RECONNECT_SECONDS) -> bool:
    """Replace this thread's connection by one that answers; False if none does within `wait_seconds`."""
    deadline = time.monotonic() + wait_seconds
    while True:
        _drop_connection()
        try:
            db.connect(reuse_if_open=True)
            db.execute_sql("SELECT 1")
            return True
        except UNAVAILABLE_ERRORS:
            left = deadline - time.monotonic()
            if left <= 0:
                _drop_connection()
                return False
            time.sleep(min(_RECONNECT_STEP, left))


def with_reconnect(work: Callable[[], T], wait_seconds: float = RECONNECT_SECONDS) -> T:
    """`work()`; if the database fails under it, reconnect (waiting up to `wait_seconds`) and run it
    once more; `DatabaseUnavailable` if that fails too.

    The transaction that failed was rolled back (`ReconnectingPostgresqlDatabase` replays only single
    statements outside transactions); what the first run committed before it stays. So only work
    that may run twice belongs here: a handler whose flows check the state they change (a tick of
    a ticked item, an end of an ended incident are answered as such, not applied twice).
    """
    try:
        return work()
    except UNAVAILABLE_ERRORS as exc:
        log.warning("the database failed (%s); reconnecting to try once more", _one_line(exc))
    if not reconnect(wait_seconds):
        raise DatabaseUnavailable(f"no answer within {wait_seconds:g} s") from None
    try:
        return work()
    except UNAVAILABLE_ERRORS as exc:
        _drop_connection()
        raise DatabaseUnavailable(_one_line(exc)) from None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"


def is_postgres() -> bool:
    return isinstance(db.obj, peewee.PostgresqlDatabase)


class BaseModel(peewee.Model):
    class Meta:
        database = db
        legacy_table_names = False


# Arbitrary constants naming "an incident of this bot" and "one of this bot's workers" among
# PostgreSQL advisory locks.
INCIDENT_LOCK_SPACE = 0x1C1D
WORKER_LOCK_SPACE = 0x1C1E
ALERT_DELIVERIES = 1  # the worker that processes stored alert deliveries, in order


def incident_lock(incident_id: int):
    """Serialise one incident's lifecycle across replicas sharing a PostgreSQL database.

    A session-level advisory lock on this thread's connection (re-entrant, like the
    in-process lock callers hold around it). SQLite serves one process: nothing to do.
    """
    return _advisory_lock(INCIDENT_LOCK_SPACE, incident_id)


_worker_locks: dict[int, threading.Lock] = {}
_worker_locks_guard = threading.Lock()


@contextmanager
def worker_lock(worker: int):
    """One thread in one replica at a time runs this worker (the others wait their turn)."""
    with _worker_locks_guard:
        lock = _worker_locks.setdefault(worker, threading.Lock())
    with lock, _advisory_lock(WORKER_LOCK_SPACE, worker):
        yield


@contextmanager
def _advisory_lock(space: int, key: int):
    if not is_postgres():
        yield
        return
    db.execute_sql("SELECT pg_advisory_lock(%s, %s)", (space, key))
    locked_on = db.connection()  # the connection that holds the lock (after any reconnect)
    try:
        yield
    finally:
        try:
            if db.connection() is locked_on:
                db.execute_sql("SELECT pg_advisory_unlock(%s, %s)", (space, key))
            else:  # this thread's connection was replaced meanwhile: the lock is still on the old one
                with locked_on.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", (space, key))
        except Exception:  # the connection is gone, and the server released its session locks with it
            pass
