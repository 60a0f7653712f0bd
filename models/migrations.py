"""Versioned schema migrations, applied in order at start.

Each migration runs in its own transaction together with the row that records it
in `schema_version`, so a crash leaves either both or neither. The transaction first
takes a lock that serialises concurrent starters: a PostgreSQL advisory
transaction lock, or SQLite's `BEGIN IMMEDIATE` write lock. The second process then
finds the migration recorded and skips it, which also makes running twice harmless.

Migration 1 creates the tables from the current models. When migration 2 arrives,
migration 1 must be frozen first (its own copies of the v1 table definitions),
otherwise a fresh database would get the v2 columns from migration 1 and migration 2
(written with `playhouse.migrate`) would then fail adding them again.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

import peewee
from playhouse.migrate import SchemaMigrator

from .bot import BotState, SchemaVersion, SlashCommand
from .clock import now_ms
from .db import db
from .incidents import Checklist, ChecklistItem, Incident, TimelineEvent
from .playbooks import (
    Playbook,
    PlaybookChecklist,
    PlaybookEditor,
    PlaybookItem,
    PlaybookVersion,
    TeamSettings,
)

# Every table, parents before children (create order; reverse it to drop).
ALL_MODELS = [
    SchemaVersion,
    BotState,
    SlashCommand,
    TeamSettings,
    Playbook,
    PlaybookVersion,
    PlaybookChecklist,
    PlaybookItem,
    PlaybookEditor,
    Incident,
    Checklist,
    ChecklistItem,
    TimelineEvent,
]

# Arbitrary constant naming "this bot's migrations" among PostgreSQL advisory locks.
ADVISORY_LOCK_KEY = 0x1C1DE17


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[SchemaMigrator], None]


def _create_tables_v1(migrator: SchemaMigrator) -> None:
    migrator.database.create_tables(ALL_MODELS, safe=True)


MIGRATIONS: list[Migration] = [
    Migration(1, "create all tables", _create_tables_v1),
]


@contextmanager
def _locked_transaction(database: peewee.Database):
    if isinstance(database, peewee.PostgresqlDatabase):
        with database.atomic():
            database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_KEY,))
            yield
    else:
        with database.atomic(lock_type="IMMEDIATE"):
            yield


def applied_versions() -> set[int]:
    database = db.obj
    if not database.table_exists(SchemaVersion._meta.table_name):
        return set()
    return {row.version for row in SchemaVersion.select(SchemaVersion.version)}


def migrate(migrations: list[Migration] | None = None) -> list[int]:
    """Apply the migrations not yet recorded; return the versions applied by this call."""
    database = db.obj
    migrator = SchemaMigrator.from_database(database)
    applied_now = []
    for migration in sorted(migrations or MIGRATIONS, key=lambda m: m.version):
        with _locked_transaction(database):
            database.create_tables([SchemaVersion], safe=True)
            if SchemaVersion.get_or_none(SchemaVersion.version == migration.version):
                continue
            migration.apply(migrator)
            SchemaVersion.create(
                version=migration.version,
                description=migration.description,
                applied_at=now_ms(),
            )
            applied_now.append(migration.version)
    return applied_now


def drop_all() -> None:
    """Remove every table (tests, and a deliberate reset)."""
    db.obj.drop_tables(list(reversed(ALL_MODELS)), safe=True, cascade=isinstance(db.obj, peewee.PostgresqlDatabase))
