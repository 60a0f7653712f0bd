"""The database is down: the work nobody asked for just then (the catch-up after a reconnect, the
timers' sweep, re-rendering a message) says so in one line and tries again later; a traceback is
kept for what is a bug."""

from __future__ import annotations

import logging

import peewee

from flows import incidents as incident_flows
from flows import sweeps
from flows.message_sync import MessageSync
from flows.timers import Timers

DOWN = peewee.OperationalError("could not connect to server: Connection refused\n\tIs the server running?")


def one_line_each(caplog, needle: str) -> None:
    lines = [r for r in caplog.records if needle in r.getMessage()]
    assert lines, caplog.text
    assert all(r.levelno == logging.WARNING and r.exc_info is None and "\n" not in r.getMessage() for r in lines)
    assert "Traceback" not in caplog.text


def test_the_catch_up_after_a_reconnect_says_the_database_is_down(ctx, monkeypatch, caplog):
    def down():
        raise DOWN

    monkeypatch.setattr(incident_flows.incidents, "active_incidents", down)
    incident_flows.catch_up(ctx)
    one_line_each(caplog, "could not catch up with the incident channels: the database is unavailable")


def test_each_sweep_says_the_database_is_down_and_the_others_still_run(ctx, monkeypatch, caplog):
    ran = []

    def down(ctx):
        raise DOWN

    monkeypatch.setattr(sweeps.updates, "send_due_reminders", down)
    monkeypatch.setattr(sweeps.assignments, "send_due_reminders", lambda ctx: ran.append("items") or 2)
    monkeypatch.setattr(sweeps.recovery, "run", lambda ctx: type("Repaired", (), {"repaired": 0})())
    monkeypatch.setattr(sweeps.insights, "send_due_digests", lambda ctx: 0)

    assert sweeps.run(ctx) == sweeps.Swept(update_reminders=0, item_reminders=2)
    assert ran == ["items"]
    one_line_each(caplog, "the sweep of update reminders waits for the database")


def test_the_timers_say_the_database_is_down(monkeypatch, caplog):
    import flows.timers

    monkeypatch.setattr(flows.timers, "db", type("Closed", (), {"close": lambda self: None})())

    def down():
        raise DOWN

    Timers(down, 60)._run()
    one_line_each(caplog, "the reminder sweep waits for the database")


def test_a_message_that_cannot_be_rendered_in_an_outage_says_so(caplog):
    def down(incident_id: int) -> None:
        raise DOWN

    sync = MessageSync(down, name="checklist", race_window=0)
    sync.changed(7, wait=True)
    sync.stop()
    one_line_each(caplog, "could not publish the checklist of incident 7: the database is unavailable")


def test_a_bug_still_leaves_its_traceback(ctx, monkeypatch, caplog):
    monkeypatch.setattr(sweeps.updates, "send_due_reminders", lambda ctx: 1 / 0)
    monkeypatch.setattr(sweeps.assignments, "send_due_reminders", lambda ctx: 0)
    monkeypatch.setattr(sweeps.recovery, "run", lambda ctx: type("Repaired", (), {"repaired": 0})())
    monkeypatch.setattr(sweeps.insights, "send_due_digests", lambda ctx: 0)
    sweeps.run(ctx)
    assert "ZeroDivisionError" in caplog.text and "Traceback" in caplog.text
