"""The timeline keeps events in order with ids and numbers, for later metrics."""
from __future__ import annotations

import pytest

from services import incidents as svc
from services import timeline
from tests.unit.conftest import TEAM, person


def test_events_come_back_oldest_first_with_their_data(db):
    incident = svc.start_incident(person("alice"), TEAM, "Outage", "c1")
    timeline.record(incident, "item_added", "bob", at=incident.created_at + 5, item_id=7)
    timeline.record(incident, "item_checked", "bob", at=incident.created_at + 5, item_id=7, item_number=1)
    events = timeline.events_for(incident)
    assert [(e.kind, e.actor_id) for e in events] == [
        ("incident_created", "alice"), ("item_added", "bob"), ("item_checked", "bob")]
    assert events[2].data == {"item_id": 7, "item_number": 1}
    assert events[1].at - events[0].at == 5


def test_unknown_event_kinds_are_a_programming_error(db):
    incident = svc.start_incident(person("alice"), TEAM, "Outage", "c1")
    with pytest.raises(ValueError, match="unknown timeline event kind 'itm_checked'"):
        timeline.record(incident, "itm_checked", "bob")
