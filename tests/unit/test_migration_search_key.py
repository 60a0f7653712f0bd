"""Migration 2 adds the search key to a version-1 database, fills it, and is safe to repeat."""
from __future__ import annotations

from models import Incident
from models.migrations import MIGRATIONS, applied_versions, migrate


def test_an_old_database_gets_search_keys_for_its_incidents(empty_db):
    migrate(MIGRATIONS[:1])
    columns = [c.name for c in empty_db.get_columns("incident")]
    assert "search_key" not in columns
    empty_db.execute_sql(
        "INSERT INTO incident (team_id, name, name_key, channel_id, channel_name, commander_id, creator_id, "
        "is_private, is_active, created_at, summary, version) "
        "VALUES ('t', 'Ziggürat', 'ziggürat', 'c1', 'ziggurat', 'u', 'u', %s, %s, 1, '', 1)"
        % (("false", "true") if "Postgres" in type(empty_db).__name__ else ("0", "1"))
    )
    assert migrate(MIGRATIONS[:2]) == [2]
    assert Incident.select(Incident.search_key).get().search_key == "ziggurat"
    assert migrate(MIGRATIONS[:2]) == [] and applied_versions() == {1, 2}


def test_a_fresh_database_has_the_column_from_migration_2_only(empty_db):
    assert migrate(MIGRATIONS[:1]) == [1]
    assert "search_key" not in [c.name for c in empty_db.get_columns("incident")]
    assert migrate()[0] == 2
    created = Incident.create(team_id="t", name="Çà va", name_key="çà va", channel_id="c", channel_name="ca-va",
                              commander_id="u", creator_id="u", created_at=1)
    assert Incident.get_by_id(created.id).search_key == "ca va"


def test_migration_4_adds_severity_and_updates_to_an_older_database(empty_db):
    migrate(MIGRATIONS[:3])
    assert "severity" not in [c.name for c in empty_db.get_columns("incident")]
    assert migrate(MIGRATIONS[:4]) == [4]
    columns = {c.name for c in empty_db.get_columns("incident")}
    assert {"severity", "cadence_seconds", "last_update_at", "broadcast_channel_id", "broadcast_post_id",
            "broadcast_problem"} <= columns
    assert {"status_update", "update_reminder", "playbook_updates", "team_broadcast"} <= set(empty_db.get_tables())
    assert migrate(MIGRATIONS[:4]) == []
