"""The database away for a moment: one reconnect and one more try, then a clear answer, no traceback."""
from __future__ import annotations

import logging
import importlib
import re
from types import SimpleNamespace

import peewee
import pytest

from chat.signing import Signer
from chat.web import DATABASE_UNAVAILABLE, SORRY, CallbackServer, CommandTokens
from models.db import DatabaseUnavailable, with_reconnect
from mmpy_bot.wrappers import WebHookEvent

database = importlib.import_module("models.db")  # the module: the package's `db` is the proxy


class Flaky:
    """Work that fails on the database `failures` times, then answers."""

    def __init__(self, failures: int, error: Exception | None = None):
        self.failures = failures
        self.calls = 0
        self.error = error or peewee.OperationalError("server closed the connection unexpectedly")

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return database.db.execute_sql("SELECT 1").fetchone()[0] and "answered"


def test_one_failure_is_retried_once_on_a_fresh_connection(db):
    work = Flaky(failures=1)
    assert with_reconnect(work) == "answered"
    assert work.calls == 2


@pytest.mark.parametrize("error", [peewee.OperationalError("terminating connection due to administrator command"),
                                   peewee.InterfaceError("connection already closed")])
def test_two_failures_say_the_database_is_unavailable(db, error):
    work = Flaky(failures=2, error=error)
    with pytest.raises(DatabaseUnavailable):
        with_reconnect(work)
    assert work.calls == 2, "one retry, not a loop"


def test_errors_in_what_was_asked_are_not_retried(db):
    work = Flaky(failures=1, error=peewee.IntegrityError("duplicate key"))
    with pytest.raises(peewee.IntegrityError):
        with_reconnect(work)
    assert work.calls == 1


def test_a_database_that_does_not_come_back_is_waited_for_briefly(db, monkeypatch):
    refused = peewee.OperationalError("could not connect to server: Connection refused")

    def connect(*args, **kwargs):
        raise refused

    monkeypatch.setattr(database.db.obj, "connect", connect)
    work = Flaky(failures=1)
    with pytest.raises(DatabaseUnavailable, match="no answer within 0.5 s"):
        with_reconnect(work, wait_seconds=0.5)
    assert work.calls == 1, "no second try on a database that is not back"


def server_with(handler) -> CallbackServer:
    listener = SimpleNamespace(function=lambda plugin, event: handler(), plugin=None, name="incident")
    return CallbackServer("127.0.0.1", 0, Signer("secret"), CommandTokens(),
                          listeners=lambda: [(re.compile(r"^command:incident$"), [listener])])


def test_a_callback_during_an_outage_is_told_to_come_back_without_a_traceback(db, caplog):
    server = server_with(Flaky(failures=10))
    event = WebHookEvent({"user_id": "u1"}, request_id="r1", webhook_id="command:incident")
    with caplog.at_level(logging.WARNING):
        response, outcome = server._dispatch(event)
    assert response == {"response_type": "ephemeral", "text": DATABASE_UNAVAILABLE}
    assert outcome == "error" and SORRY not in str(response)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert any("the database is unavailable" in r.getMessage() for r in caplog.records)


def test_a_callback_that_met_a_blip_is_answered_as_usual(db):
    server = server_with(Flaky(failures=1))
    response, outcome = server._dispatch(WebHookEvent({}, request_id="r2", webhook_id="command:incident"))
    assert (response, outcome) == ("answered", "ok")
