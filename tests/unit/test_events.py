"""Change notices reach listeners only for changes that were committed."""
from __future__ import annotations

import pytest

from models import db as proxy
from services import events, playbooks, timeline
from services.incidents import start_incident
from tests.unit.conftest import TEAM, person


@pytest.fixture
def heard():
    got: list[events.Notice] = []
    stop = events.subscribe(got.append)
    yield got
    stop()


def test_a_notice_inside_a_transaction_waits_for_the_commit(db, heard):
    with proxy.atomic():
        events.publish("x", incident_id=1)
        assert heard == []
    assert heard == [events.Notice("x", {"incident_id": 1})]


def test_a_rolled_back_change_is_never_announced(db, heard):
    with pytest.raises(RuntimeError):
        with proxy.atomic():
            events.publish("x", incident_id=1)
            raise RuntimeError("boom")
    assert heard == []


def test_a_failing_listener_does_not_break_the_action(db, heard):
    def broken(notice):
        raise ValueError("listener bug")

    stop = events.subscribe(broken)
    try:
        alice = person("alice", channels={"chan1"})
        incident = start_incident(alice, TEAM, "Disk full", "chan1")
    finally:
        stop()
    assert incident.id
    assert [n.name for n in heard] == ["incident_created"]


def test_services_announce_ids_only(db, heard):
    alice = person("alice", channels={"chan1"})
    incident = start_incident(alice, TEAM, "Secret name", "chan1")
    book = playbooks.create_playbook(alice, TEAM, "Secret title", checklists_text="## A\n- secret item")
    playbooks.update_playbook(alice, book, description="secret words")
    playbooks.delete_playbook(alice, playbooks.get_playbook(alice, book.id))
    assert [n.name for n in heard] == ["incident_created", "playbook_created", "playbook_updated", "playbook_deleted"]
    assert heard[0].ids["incident_id"] == incident.id and heard[0].ids["actor_id"] == "alice"
    assert "secret" not in repr(heard).lower()
    assert timeline.events_for(incident)[0].kind == "incident_created"
