"""Telemetry end to end: the bot's events as a local RudderStack sink receives them, and when it stays quiet."""

from __future__ import annotations

import json
import os

import pytest

from tests.e2e.harness import BotProcess, wait_until
from tests.e2e.steps import command, start
from tests.telemetry_sink import Sink

SECRET_NAME = "Zebra Quasar leak"
SECRET_ITEM = "Rotate the Kestrel token"
SECRET_MESSAGE = "the Narwhal password is hunter2"


def run_bot(world, tmp_path, **env):
    return BotProcess(world, tmp_path, database_url=os.environ.get("TEST_DATABASE_URL"), extra_env=env).start().wait_ready()


@pytest.fixture
def sink():
    server = Sink().start()
    yield server
    server.stop()


def stop_cleanly(bot):
    assert bot.stop() == 0, bot.log()
    assert "Traceback" not in bot.log(), bot.log()


def test_events_carry_ids_and_metadata_but_no_content(world, tmp_path, sink, alice):
    world.double.set_config(DiagnosticsEnabled=True)
    bot = run_bot(world, tmp_path, TELEMETRY_RUDDER_WRITE_KEY="e2e-key", TELEMETRY_RUDDER_DATA_PLANE_URL=sink.url)
    try:
        assert "telemetry: on" in bot.log()
        channel = start(alice, world, SECRET_NAME)
        alice.post(channel["id"], SECRET_MESSAGE)
        command(alice, world, f"/incident checkadd {SECRET_ITEM}", channel["id"])
        command(alice, world, "/incident check 1", channel["id"])
        command(alice, world, "/incident end", channel["id"])
        wanted = ["Incident created", "Checklist item created", "Unchecked checklist item checked", "Incident finished"]
        wait_until(lambda: [e["event"] for e in sink.events()] == wanted, 15,
                   lambda: f"{[e['event'] for e in sink.events()]}\n{bot.log()}")
    finally:
        stop_cleanly(bot)

    diagnostic_id = world.double.config["DiagnosticId"]
    for event in sink.events():
        props = event["properties"]
        assert event["userId"] == diagnostic_id
        assert props["diagnosticID"] == diagnostic_id and props["serverVersion"] == "5.37.0"
        assert props["botVersion"] == "0.1.0" and "pluginVersion" not in props
    created = sink.events()[0]["properties"]
    assert created["ChannelIDs"] == [channel["id"]] and created["CommanderUserID"] == alice.id
    assert created["TeamID"] == world.team["id"]

    wire = sink.bytes()
    for content in (SECRET_NAME, SECRET_ITEM, "Kestrel", "Narwhal", "hunter2", "alice", channel["name"]):
        assert content.encode() not in wire, content
    for event in json.loads(sink.raw[0])["batch"]:
        assert set(event["properties"]) <= {"ID", "IsActive", "CommanderUserID", "UserID", "TeamID", "CreatedAt",
                                            "ChannelIDs", "PostID", "NumChecklists", "TotalChecklistItems",
                                            "IncidentID", "diagnosticID", "serverVersion", "botVersion"}


@pytest.mark.parametrize("case", ["server diagnostics off", "settings off", "no write key"])
def test_quiet_unless_everyone_agrees(world, tmp_path, sink, alice, case):
    world.double.set_config(DiagnosticsEnabled=case != "server diagnostics off")
    env = {"TELEMETRY_RUDDER_WRITE_KEY": "" if case == "no write key" else "e2e-key",
           "TELEMETRY_RUDDER_DATA_PLANE_URL": sink.url, "TELEMETRY_ENABLED": "false" if case == "settings off" else "true"}
    bot = run_bot(world, tmp_path, **env)
    try:
        reason = {"server diagnostics off": "diagnostics (telemetry) disabled", "settings off": "turned off in the settings",
                  "no write key": "no RudderStack write key"}[case]
        assert "telemetry: off, " in bot.log() and reason in bot.log()
        start(alice, world, "Quiet one")
    finally:
        stop_cleanly(bot)
    assert sink.events() == []


def test_a_slow_endpoint_costs_people_nothing(world, tmp_path, alice):
    slow = Sink(delay=30).start()
    world.double.set_config(DiagnosticsEnabled=True)
    bot = run_bot(world, tmp_path, TELEMETRY_RUDDER_WRITE_KEY="e2e-key", TELEMETRY_RUDDER_DATA_PLANE_URL=slow.url)
    try:
        channel = start(alice, world, "Slow sink")
        for n in range(5):
            command(alice, world, f"/incident checkadd step {n}", channel["id"])
        assert "ended" in command(alice, world, "/incident end", channel["id"])
        wait_until(lambda: slow.raw, 15, bot.log)  # the sink is holding the first batch
    finally:
        stop_cleanly(bot)  # and stopping does not wait for it
        slow.stop()
