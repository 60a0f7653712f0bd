"""/readyz and the scrape-time metrics, from the state the bot keeps: no Mattermost, no process."""

from __future__ import annotations

import threading

import peewee
import pytest
from prometheus_client.parser import text_string_to_metric_families

from chat import metrics
from chat.health import Readiness
from chat.websocket import ConnectionState


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def ready_bot(connection: ConnectionState, ping=lambda: None, timeout: float = 3.0) -> Readiness:
    readiness = Readiness(connection, heartbeat_seconds=2, ping_database=ping, database_timeout=timeout)
    readiness.logged_in("incident")
    readiness.command_registered("team1")
    return readiness


def test_the_connection_state_counts_reconnects_and_the_time_down():
    clock = Clock()
    state = ConnectionState(clock)
    assert not state.is_open and state.down_for() is None and state.disconnected_seconds() == 0  # not yet an outage
    state.connected()
    clock.now += 50
    state.lost()
    clock.now += 4
    assert state.down_for() == 4 and state.disconnected_seconds() == 4
    state.connected()
    clock.now += 10
    state.lost()
    state.lost()  # a failed reconnect attempt: still the same outage
    clock.now += 1
    assert state.reconnects == 1 and state.disconnected_seconds() == 5


def test_ready_when_everything_is_and_a_short_blip_does_not_count():
    clock = Clock()
    connection = ConnectionState(clock)
    readiness = ready_bot(connection)
    try:
        assert readiness.report().not_ready == ["websocket"]  # never connected yet
        connection.connected()
        assert readiness.report().ready
        connection.lost()
        clock.now += 1.9
        assert readiness.report().ready  # shorter than the heartbeat: the bot would not call it dead yet
        clock.now += 0.2
        report = readiness.report()
        assert report.not_ready == ["websocket"] and report.checks["websocket"] == "disconnected for 2 s; reconnecting"
        assert report.body()["status"] == "not ready"
    finally:
        readiness.stop()


def test_a_team_joined_but_not_registered_is_named():
    connection = ConnectionState()
    connection.connected()
    readiness = ready_bot(connection)
    try:
        readiness.team_joined("team2")
        report = readiness.report()
        assert report.not_ready == ["commands"] and "team2" in report.checks["commands"]
        readiness.command_registered("team2")
        assert readiness.report().ready
    finally:
        readiness.stop()


def test_nothing_is_ready_before_the_login():
    readiness = Readiness(ConnectionState(), 2, lambda: None)
    try:
        assert readiness.report().not_ready == ["login", "websocket", "commands"]
    finally:
        readiness.stop()


def test_a_failing_database_is_named_and_counted():
    connection = ConnectionState()
    connection.connected()

    def ping():
        raise peewee.OperationalError("could not connect to server: password=hunter2")

    before = metrics.DATABASE_ERRORS.labels("readiness")._value.get()
    readiness = ready_bot(connection, ping)
    try:
        report = readiness.report()
        assert report.not_ready == ["database"] and report.checks["database"] == "failing (OperationalError)"
        assert "hunter2" not in str(report.body())
        assert metrics.DATABASE_ERRORS.labels("readiness")._value.get() == before + 1
    finally:
        readiness.stop()


def test_a_database_that_hangs_makes_the_probe_say_so_not_hang():
    connection = ConnectionState()
    connection.connected()
    release = threading.Event()
    calls = []

    def ping():
        calls.append(1)
        release.wait(30)

    readiness = ready_bot(connection, ping, timeout=0.2)
    try:
        assert readiness.report().checks["database"] == "no answer within 0.2 s"
        assert readiness.report().not_ready == ["database"]
        assert len(calls) == 1  # the hung ping is waited for again, not piled up
        release.set()
        assert readiness.report().ready  # the hung ping ends, and the next one answers
    finally:
        release.set()
        readiness.stop()


@pytest.mark.parametrize("path, route", [
    ("/users/me", "/users/me"),
    ("/users/9xq8rkpw7jgb3mdc5n1y4tzs6a", "/users/{id}"),
    ("/users/username/alice", "/users/username/{username}"),
    ("/teams/9xq8rkpw7jgb3mdc5n1y4tzs6a/channels/name/war-room", "/teams/{id}/channels/name/{name}"),
    ("/teams/t1/members/u1", "/teams/{id}/members/{id}"),
    ("/posts/p1/patch", "/posts/{id}/patch"),
    ("/posts/ephemeral", "/posts/ephemeral"),
    ("/channels/c1/posts?page=2", "/channels/{id}/posts"),
    ("/users/u1/teams/t1/channels", "/users/{id}/teams/{id}/channels"),
    ("/commands/execute", "/commands/execute"),
    ("/channels/../../admin", "/channels/{id}/{id}/{id}"),
])
def test_api_routes_are_templates_never_ids(path, route):
    assert metrics.route_template(path) == route


def test_the_scrape_answers_when_the_database_does_not():
    def broken():
        raise peewee.OperationalError("gone")

    previous = metrics.STATE.sources
    done = []
    metrics.watch(metrics.StateSources(websocket=lambda: metrics.WebsocketFigures(True, 3, 12.5), active_incidents=broken,
                                       reminders_due=lambda: 0, done=lambda: done.append(1)))
    try:
        before = metrics.DATABASE_ERRORS.labels("metrics")._value.get()
        body, content_type = metrics.exposition()
        families = {f.name: f for f in text_string_to_metric_families(body.decode())}
        assert content_type.startswith("text/plain")
        assert families["incident_bot_websocket_reconnects"].samples[0].value == 3
        assert families["incident_bot_websocket_disconnected_seconds"].samples[0].value == 12.5
        assert "incident_bot_active_incidents" not in families
        assert metrics.DATABASE_ERRORS.labels("metrics")._value.get() == before + 1
        assert done == [1]
    finally:
        metrics.watch(previous)


def test_active_incidents_by_severity_include_the_empty_ones():
    previous = metrics.STATE.sources
    metrics.watch(metrics.StateSources(active_incidents=lambda: {1: 2, 3: 1}, reminders_due=lambda: 4))
    try:
        body, _ = metrics.exposition()
        families = {f.name: f for f in text_string_to_metric_families(body.decode())}
        by_severity = {s.labels["severity"]: s.value for s in families["incident_bot_active_incidents"].samples}
        assert by_severity == {"1": 2, "2": 0, "3": 1, "4": 0}
        assert families["incident_bot_reminders_due"].samples[0].value == 4
    finally:
        metrics.watch(previous)
