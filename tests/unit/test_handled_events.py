"""Replicas sharing a database act on each websocket event once."""

import threading

from models.bot import HandledEvent, claim_event
from models.migrations import MIGRATIONS, migrate


def test_only_the_first_claim_of_an_event_wins(db):
    assert claim_event("posted:abc")
    assert not claim_event("posted:abc")
    assert claim_event("posted:def")


def test_two_replicas_claiming_at_once_get_one_winner(db):
    wins = []
    barrier = threading.Barrier(4)

    def replica():
        barrier.wait()
        wins.append(claim_event("reaction_added:u:p:rotating_light:1"))
        db.close()

    threads = [threading.Thread(target=replica) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == [False, False, False, True]


def test_migration_3_adds_the_table_to_an_older_database(empty_db):
    migrate(MIGRATIONS[:2])
    assert not empty_db.table_exists(HandledEvent._meta.table_name)
    assert migrate(MIGRATIONS[:3]) == [3]
    assert empty_db.table_exists(HandledEvent._meta.table_name)


def test_the_claim_runs_off_the_websocket_loop():
    """Claiming is a database write; done on the loop, it would hold heartbeats behind SQLite."""
    import asyncio
    import json
    import threading

    from chat.events import IncidentEventHandler

    claimed_on: list[threading.Thread] = []

    def claim(key: str) -> bool:
        claimed_on.append(threading.current_thread())
        return False  # another replica has it: nothing else runs

    handler = IncidentEventHandler.__new__(IncidentEventHandler)
    handler.claim = claim
    handler.listeners = {}
    frame = {"event": "posted", "data": {"channel_type": "D", "post": json.dumps({"id": "p1"})}}

    async def deliver() -> threading.Thread:
        await handler._handle_event(json.dumps(frame))
        return threading.current_thread()

    loop_thread = asyncio.run(deliver())
    assert claimed_on and claimed_on[0] is not loop_thread
