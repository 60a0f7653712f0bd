"""Telemetry: the seed's events with ids only, what rudder-sdk-python really sends, and choice."""
from __future__ import annotations

import logging
import threading
import time
from types import SimpleNamespace

import pytest

from services import checklists, incidents, playbooks, updates
from services.events import Notice
from telemetry import events as telemetry_events
from telemetry.plugin import decide, metadata
from telemetry.sender import Telemetry, rudder_client
from tests.telemetry_sink import Sink
from tests.unit.conftest import TEAM, person

SECRETS = ["Zebra Quasar leak", "Rotate the Kestrel token", "Kestrel", "Wombat runbook", "Call the Narwhal desk",
           "alice-name", "The Okapi cluster is back"]


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met"
        time.sleep(0.02)


@pytest.fixture
def sink():
    server = Sink().start()
    yield server
    server.stop()


def settings(**values):
    return SimpleNamespace(**{"enabled": True, "rudder_write_key": "key", "rudder_data_plane_url": "", **values})


def test_on_only_with_a_key_the_settings_and_the_servers_consent():
    assert decide(settings(), {"DiagnosticsEnabled": "true"}) == (True, "on")
    assert not decide(settings(enabled=False), {"DiagnosticsEnabled": "true"})[0]
    assert not decide(settings(rudder_write_key=""), {"DiagnosticsEnabled": "true"})[0]
    assert "disabled" in decide(settings(), {"DiagnosticsEnabled": "false"})[1]
    assert not decide(settings(), None)[0]
    meta = metadata({"DiagnosticId": "diag1", "Version": "5.37.0"})
    assert meta["diagnosticID"] == "diag1" and meta["serverVersion"] == "5.37.0" and meta["botVersion"]


def test_every_event_reaches_the_sink_with_ids_only(db, sink):
    client = rudder_client("write-key-1", sink.url, 100)
    telemetry = Telemetry(client, {"diagnosticID": "diag1", "serverVersion": "5.37.0", "botVersion": "0.1.0"}).start()
    try:
        alice = person("alice", channels={"chan1"})
        incident = incidents.start_incident(alice, TEAM, SECRETS[0], "chan1")
        item = checklists.add_item(alice, incident, SECRETS[1])
        checklists.add_item(alice, incident, "second")
        checklists.set_item_state(alice, incident, item.id, True)
        checklists.set_item_state(alice, incident, item.id, False)
        checklists.rename_item(alice, incident, "1", "Renamed Kestrel")
        checklists.move_item(alice, incident, "1", 2)
        checklists.remove_item(alice, incident, "2")
        incidents.change_commander(alice, incident, "bob", new_user_is_member=True)
        incidents.end_incident(alice, incident)
        incidents.restart_incident(alice, incident)
        updates.change_severity(alice, incident, 2)
        updates.record_update(alice, incident, SECRETS[6], now=5, due_at=None)
        book = playbooks.create_playbook(alice, TEAM, SECRETS[3], checklists_text=f"## A\n- {SECRETS[4]}\n- two")
        book = playbooks.update_playbook(alice, book, description="Kestrel")
        playbooks.delete_playbook(alice, book)
        expected = ["Incident created", "Checklist item created", "Checklist item created",
                    "Unchecked checklist item checked", "Checked checklist item unchecked", "Checklist item renamed",
                    "Checklist item moved", "Checklist item removed", "Commander changed", "Incident finished",
                    "Incident restarted", "Severity changed", "Status update posted", "Playbook created", "Playbook updated",
                    "Playbook deleted"]
        wait_for(lambda: len(sink.events()) >= len(expected))
    finally:
        telemetry.stop()

    sent = sink.events()
    assert [e["event"] for e in sent] == expected
    assert all(e["type"] == "track" and e["userId"] == "diag1" for e in sent)
    for event in sent:
        props = event["properties"]
        assert set(props) <= telemetry_events.ALLOWED_PROPERTIES
        assert (props["diagnosticID"], props["serverVersion"], props["botVersion"]) == ("diag1", "5.37.0", "0.1.0")
    created = sent[0]["properties"]
    assert created["ID"] == str(incident.id) and created["IsActive"] is True and created["CommanderUserID"] == "alice"
    assert created["TeamID"] == TEAM and created["ChannelIDs"] == ["chan1"] and created["NumChecklists"] == 1
    assert sent[1]["properties"]["IncidentID"] == str(incident.id) and sent[1]["properties"]["UserID"] == "alice"
    assert sent[8]["properties"]["CommanderUserID"] == "bob" and sent[8]["properties"]["PreviousCommanderUserID"] == "alice"
    assert sent[9]["properties"]["IsActive"] is False and sent[9]["properties"]["UserID"] == "alice"
    assert sent[12]["properties"]["UserID"] == "alice" and sent[12]["properties"]["ID"] == str(incident.id)
    assert sent[13]["properties"]["NumChecklists"] == 1 and sent[13]["properties"]["TotalChecklistItems"] == 2
    assert sent[15]["properties"]["TotalChecklistItems"] == 2  # what it had just before deletion

    on_the_wire = sink.bytes()
    for secret in SECRETS + ["Renamed", "second"]:
        assert secret.encode() not in on_the_wire, secret
    assert sink.auth and all(a.startswith("Basic ") for a in sink.auth)


def test_a_full_queue_drops_with_a_log_line_and_never_blocks(caplog):
    release = threading.Event()

    def stuck(notice):
        release.wait(10)
        return None

    telemetry = Telemetry(SimpleNamespace(consumers=[]), {}, queue_size=2, describe=stuck).start()
    try:
        with caplog.at_level(logging.WARNING, logger="incident.telemetry"):
            for n in range(6):
                telemetry.notice(Notice("item_checked", {"incident_id": n}))
        assert telemetry.dropped >= 3
        assert "queue full, dropped a item_checked event" in caplog.text
    finally:
        release.set()
        telemetry.stop()


def test_a_dead_endpoint_costs_the_action_nothing(db):
    client = rudder_client("key", "http://127.0.0.1:9", 10)  # nothing listens on port 9
    described_on = []
    person_thread = threading.current_thread()

    def describe(notice):
        described_on.append((notice.name, threading.current_thread()))
        return telemetry_events.describe(notice)

    telemetry = Telemetry(client, {"diagnosticID": "d"}, describe=describe).start()
    try:
        alice = person("alice", channels={"c"})
        started = [incidents.start_incident(alice, TEAM, f"Dead endpoint {n}", f"c{n}") for n in range(30)]
        # the notices did go to telemetry (and on to the dead endpoint) ...
        wait_for(lambda: [name for name, _ in described_on].count("incident_created") == 30)
    finally:
        telemetry.stop()
    # ... yet every action completed, and none of the sending ran on the person's thread
    assert [i.name for i in started] == [f"Dead endpoint {n}" for n in range(30)]
    assert all(i.id for i in started)
    assert all(thread is not person_thread for _, thread in described_on)
