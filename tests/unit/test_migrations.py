"""The schema is created by versioned migrations that are safe to repeat and to race."""
from __future__ import annotations

import threading

from models import BotState, SchemaVersion, SlashCommand, db as proxy
from models.migrations import MIGRATIONS, applied_versions, migrate


def test_a_fresh_database_gets_every_migration_once(empty_db):
    assert applied_versions() == set()
    assert migrate() == [m.version for m in MIGRATIONS]
    assert applied_versions() == {m.version for m in MIGRATIONS}


def test_running_the_migrations_twice_changes_nothing_the_second_time(empty_db):
    migrate()
    BotState.create(key="signing_secret", value="s3cret")
    assert migrate() == []
    assert SchemaVersion.select().count() == len(MIGRATIONS)
    assert BotState.get_by_id("signing_secret").value == "s3cret"


def test_two_processes_starting_at_once_apply_each_migration_exactly_once(empty_db):
    results, errors = [], []
    barrier = threading.Barrier(2)

    def start_bot():
        try:
            barrier.wait()
            results.append(migrate())
        except Exception as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            proxy.close()

    threads = [threading.Thread(target=start_bot) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    # each migration is its own locked transaction, so the two may share the work; what
    # matters is that every migration ran exactly once
    assert sorted(v for applied in results for v in applied) == [m.version for m in MIGRATIONS]
    assert SchemaVersion.select().count() == len(MIGRATIONS)


def test_the_bot_keeps_its_slash_command_per_team(db):
    SlashCommand.create(team_id="team1", command_id="cmd1", token="tok", created_at=1)
    assert SlashCommand.get_by_id("team1").token == "tok"
