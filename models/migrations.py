"""Versioned schema migrations, applied in order at start.

Each migration runs in its own transaction together with the row that records it
in `schema_version`, so a crash leaves either both or neither. The transaction first
takes a lock that serialises concurrent starters: a PostgreSQL advisory
transaction lock, or SQLite's `BEGIN IMMEDIATE` write lock. The second process then
finds the migration recorded and skips it, which also makes running twice harmless.

Migration 1 creates the tables as they were in version 1: `V1_MODELS` is the live
models except where a table changed later, for which it holds a frozen copy
(`_IncidentV1`). Whoever changes a table in a later migration must first freeze that
table here, otherwise a fresh database would get the new column from migration 1 and
the later migration (written with `playhouse.migrate`) would fail adding it again. The
later migrations also check the live schema before adding, so they are safe on a
database someone patched by hand.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

import peewee
from playhouse.migrate import SchemaMigrator

from .bot import BotState, HandledEvent, SchemaVersion, SlashCommand
from .clock import now_ms
from .db import db
from .fields import IdField
from .incidents import (NAME_MAX, SEARCH_KEY_MAX, ChannelChange, Checklist, ChecklistItem, Incident, IncidentStart,
                        TimelineEvent, search_key)
from .record import FollowUp, PinnedPost
from .assignments import AssignmentMessage, IncidentRole, ItemAssignment
from .alerts import AlertDelivery, AlertGroup, AlertSource
from .insights import DigestPost, TeamInsights
from .updates import PlaybookUpdates, StatusUpdate, TeamBroadcast, UpdateReminder
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
    HandledEvent,
    StatusUpdate,
    UpdateReminder,
    PlaybookUpdates,
    TeamBroadcast,
    PinnedPost,
    FollowUp,
    ItemAssignment,
    AssignmentMessage,
    IncidentRole,
    IncidentStart,
    ChannelChange,
    AlertSource,
    AlertDelivery,
    AlertGroup,
    TeamInsights,
    DigestPost,
]
# Tables that later migrations create; migration 1 must not.
LATER_TABLES = {HandledEvent, StatusUpdate, UpdateReminder, PlaybookUpdates, TeamBroadcast, PinnedPost, FollowUp,
                ItemAssignment, AssignmentMessage, IncidentRole, IncidentStart, ChannelChange, AlertSource, AlertDelivery,
                AlertGroup, TeamInsights, DigestPost}


class _IncidentV1(peewee.Model):
    """The `incident` table as migration 1 created it (frozen: never edit)."""

    team_id = IdField(index=True)
    name = peewee.CharField(max_length=NAME_MAX)
    name_key = peewee.CharField(max_length=NAME_MAX * 3, index=True)
    channel_id = IdField(unique=True)
    channel_name = peewee.CharField(max_length=64, index=True)
    commander_id = IdField()
    creator_id = IdField()
    is_private = peewee.BooleanField(default=False)
    is_active = peewee.BooleanField(default=True, index=True)
    created_at = peewee.BigIntegerField()
    ended_at = peewee.BigIntegerField(null=True)
    ended_by = IdField(null=True)
    playbook = peewee.ForeignKeyField(Playbook, null=True, on_delete="SET NULL", column_name="playbook_id")
    playbook_version = peewee.IntegerField(null=True)
    summary = peewee.TextField(default="")
    source_post_id = IdField(null=True)
    checklist_post_id = IdField(null=True)
    version = peewee.IntegerField(default=1)

    class Meta:
        database = db
        table_name = "incident"


V1_MODELS = [_IncidentV1 if model is Incident else model for model in ALL_MODELS if model not in LATER_TABLES]

# Arbitrary constant naming "this bot's migrations" among PostgreSQL advisory locks.
ADVISORY_LOCK_KEY = 0x1C1DE17


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[SchemaMigrator], None]


def _create_tables_v1(migrator: SchemaMigrator) -> None:
    migrator.database.create_tables(V1_MODELS, safe=True)


def _has_column(database: peewee.Database, table: str, column: str) -> bool:
    return any(c.name == column for c in database.get_columns(table))


def _add_incident_search_key_v2(migrator: SchemaMigrator) -> None:
    """The accent- and case-folded name backstage searches on, filled in for old rows."""
    from playhouse.migrate import migrate as apply_operations

    table = Incident._meta.table_name
    if not _has_column(migrator.database, table, "search_key"):
        apply_operations(migrator.add_column(table, "search_key",
                                             peewee.CharField(max_length=SEARCH_KEY_MAX, default="")))
    for row in Incident.select(Incident.id, Incident.name).tuples().iterator():
        Incident.update(search_key=search_key(row[1])).where(Incident.id == row[0]).execute()


def _create_handled_events_v3(migrator: SchemaMigrator) -> None:
    migrator.database.create_tables([HandledEvent], safe=True)


INCIDENT_COLUMNS_V4 = {
    "severity": lambda: peewee.IntegerField(default=3),
    "cadence_seconds": lambda: peewee.IntegerField(null=True),
    "last_update_at": lambda: peewee.BigIntegerField(null=True),
    "broadcast_channel_id": lambda: IdField(null=True),
    "broadcast_post_id": lambda: IdField(null=True),
    "broadcast_problem": lambda: peewee.TextField(default=""),
}


def _add_status_updates_v4(migrator: SchemaMigrator) -> None:
    """Severity, status updates, their reminders and the broadcast channel."""
    from playhouse.migrate import migrate as apply_operations

    table = Incident._meta.table_name
    for column, field in INCIDENT_COLUMNS_V4.items():
        if not _has_column(migrator.database, table, column):
            apply_operations(migrator.add_column(table, column, field()))
    migrator.database.create_tables([StatusUpdate, UpdateReminder, PlaybookUpdates, TeamBroadcast], safe=True)


def _add_record_v5(migrator: SchemaMigrator) -> None:
    migrator.database.create_tables([PinnedPost, FollowUp], safe=True)


def _add_assignments_v6(migrator: SchemaMigrator) -> None:
    """Item owners and deadlines, the DMs about them, roles: new tables only (checklist items
    themselves are unchanged)."""
    migrator.database.create_tables([ItemAssignment, AssignmentMessage, IncidentRole], safe=True)


def _add_unfinished_changes_v7(migrator: SchemaMigrator) -> None:
    """Starts, ends and restarts recorded before Mattermost is asked, so a crash is finished or
    rolled back at the next start: new tables only (the incident table is unchanged)."""
    migrator.database.create_tables([IncidentStart, ChannelChange], safe=True)


def _add_alerts_v9(migrator: SchemaMigrator) -> None:
    """Alert sources, the deliveries they sent, and the incidents their groups opened: new tables only."""
    migrator.database.create_tables([AlertSource, AlertDelivery, AlertGroup], safe=True)


# What the metrics' SQL looks up per incident (started in a window, first update, ends and restarts).
INSIGHT_INDEXES_V10 = (
    ("incident", "incident_team_created", ("team_id", "created_at")),
    ("status_update", "status_update_incident_posted", ("incident_id", "posted_at")),
    ("timeline_event", "timeline_event_kind_incident_at", ("kind", "incident_id", "at")),
)


def _add_insights_v10(migrator: SchemaMigrator) -> None:
    """The team's timezone and digest channel, the digests sent, and the indexes metrics read by."""
    database = migrator.database
    database.create_tables([TeamInsights, DigestPost], safe=True)
    for table, name, columns in INSIGHT_INDEXES_V10:
        database.execute_sql(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({', '.join(columns)})")


# What backstage and `/incident list` walk, newest first, by name or by end, stopping after a page
# (services/backstage.py). The first holds every column a filter reads, so SQLite tests a filter on
# the index entry and reads the row only for a match (a search walks all of them).
BROWSE_INDEXES_V12 = (
    ("incident_team_browse", "team_id, created_at, id, is_active, severity, commander_id, is_private, channel_id, search_key"),
    ("incident_team_active", "team_id, is_active, created_at, id, is_private, channel_id"),  # the list, and its count
    ("incident_team_name", "team_id, search_key, created_at DESC, id DESC"),
    ("incident_team_ended", "team_id, (ended_at IS NULL), ended_at DESC, id DESC"),
)


def _add_browse_indexes_v12(migrator: SchemaMigrator) -> None:
    for name, columns in BROWSE_INDEXES_V12:
        migrator.database.execute_sql(f"CREATE INDEX IF NOT EXISTS {name} ON incident ({columns})")


INCIDENT_FIGURES_V11 = {
    "first_update_at": lambda: peewee.BigIntegerField(null=True),
    "first_tick_at": lambda: peewee.BigIntegerField(null=True),
    "paused_ms": lambda: peewee.BigIntegerField(default=0),
}
# The figures of incidents recorded before the services stored them, from the rows they summarise.
# paused_ms, for a restarted incident only: Σ restarts − Σ ends + its last end (0 while open), which
# makes ended_at − created_at − paused_ms the Σ ends − Σ restarts − start the metrics computed before.
BACKFILL_FIGURES_V11 = (
    "UPDATE incident SET first_update_at = (SELECT MIN(u.posted_at) FROM status_update u WHERE u.incident_id = incident.id)",
    "UPDATE incident SET first_tick_at = (SELECT MIN(e.at) FROM timeline_event e"
    " WHERE e.kind = 'item_checked' AND e.incident_id = incident.id)",
    "UPDATE incident SET paused_ms = COALESCE(ended_at, 0) + (SELECT SUM(CASE e.kind WHEN 'incident_restarted' THEN e.at"
    " ELSE -e.at END) FROM timeline_event e WHERE e.kind IN ('incident_ended', 'incident_restarted')"
    " AND e.incident_id = incident.id) WHERE EXISTS (SELECT 1 FROM timeline_event r"
    " WHERE r.kind = 'incident_restarted' AND r.incident_id = incident.id)",
)


def _add_incident_figures_v11(migrator: SchemaMigrator) -> None:
    """First update, first tick and time paused between runs on the incident, filled in for old rows."""
    from playhouse.migrate import migrate as apply_operations

    table = Incident._meta.table_name
    for column, field in INCIDENT_FIGURES_V11.items():
        if not _has_column(migrator.database, table, column):
            apply_operations(migrator.add_column(table, column, field()))
    backfill_incident_figures(migrator.database)


def backfill_incident_figures(database: peewee.Database) -> None:
    """Recompute every incident's stored figures (migration 11; benchmarks that seed rows directly)."""
    for statement in BACKFILL_FIGURES_V11:
        database.execute_sql(statement)


MIGRATIONS: list[Migration] = [
    Migration(1, "create all tables", _create_tables_v1),
    Migration(2, "incident.search_key for backstage search", _add_incident_search_key_v2),
    Migration(3, "handled_event: replicas act on each event once", _create_handled_events_v3),
    Migration(4, "severity, status updates, reminders, broadcast channels", _add_status_updates_v4),
    Migration(5, "pinned posts and follow-ups", _add_record_v5),
    Migration(6, "item owners and deadlines, their DMs, incident roles", _add_assignments_v6),
    Migration(7, "starts, ends and restarts a crash may leave half done", _add_unfinished_changes_v7),
    Migration(9, "alert sources, their deliveries and alert groups", _add_alerts_v9),
    Migration(10, "team timezone, weekly digests, indexes for metrics", _add_insights_v10),
    Migration(11, "first update, first tick and paused time stored on the incident for metrics", _add_incident_figures_v11),
    Migration(12, "indexes for backstage and the incident list", _add_browse_indexes_v12),
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
