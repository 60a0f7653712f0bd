"""PostgreSQL goes away for 4 seconds while people type commands: each gets an answer that says what
is going on (the work done, or "the incident database is unavailable"), never "Sorry", and the log
has no traceback. Only with PostgreSQL (TEST_DATABASE_URL): an SQLite file does not go away.
"""

from __future__ import annotations

import os
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import pytest

from models.db import make_database

from tests.e2e.harness import build_world, running_bot, serving_double, wait_until
from tests.e2e.outage import OutageProxy
from tests.e2e.steps import command, start

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL (TEST_DATABASE_URL)")]

OUTAGE_SECONDS = 4.0
UNAVAILABLE = "The incident database is unavailable; try again in a minute."


@pytest.fixture(scope="module")
def proxy():
    target = urlsplit(os.environ["TEST_DATABASE_URL"])
    hole = OutageProxy(target.hostname or "127.0.0.1", target.port or 5432)
    yield hole
    hole.close()


@pytest.fixture(scope="module")
def double():
    yield from serving_double()


@pytest.fixture(scope="module")
def world(double):
    return build_world(double)


SCHEMA = "outage_drill"


def bot_answers(world, channel_id: str) -> list[dict]:
    return [p for p in world.double.posts_in(channel_id) if p["user_id"] == world.bot_user["id"]]



@pytest.fixture(scope="module")
def schema():
    """A schema of its own: incidents other modules left in the shared database are not this bot's to catch up."""
    database = make_database(os.environ["TEST_DATABASE_URL"], "")
    database.execute_sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    database.execute_sql(f"CREATE SCHEMA {SCHEMA}")
    database.close()
    yield SCHEMA


@pytest.fixture(scope="module")
def bot(world, proxy, schema, tmp_path_factory):
    target = urlsplit(os.environ["TEST_DATABASE_URL"])
    netloc = target.netloc.rsplit("@", 1)
    proxied = urlunsplit(target._replace(netloc=(netloc[0] + "@" if len(netloc) == 2 else "") + f"127.0.0.1:{proxy.port}",
                                         query=(target.query + "&" if target.query else "") + f"options=-csearch_path%3D{schema}"))
    # no reminder sweep during the outage: only the commands meet it
    yield from running_bot(world, tmp_path_factory.mktemp("outage"), extra_env={"DATABASE_URL": proxied,
                                                                               "UPDATES_SWEEP_SECONDS": "3600"})


def test_a_four_second_outage_gets_clear_answers_and_leaves_no_traceback(world, bot, proxy):
    alice = world.person("alice")
    try:
        channel = start(alice, world, "Outage drill")
        command(alice, world, "/incident checkadd Fail over", channel["id"])
        answers: list[tuple[float, str]] = []
        lock = threading.Lock()

        def keep_typing(text: str, delay: float, until: float) -> None:
            time.sleep(delay)  # staggered: some commands meet the outage early, some near its end
            while time.monotonic() < until:
                sent = time.monotonic()
                reply = command(alice, world, text, channel["id"])
                with lock:
                    answers.append((sent, reply))
                time.sleep(0.3)

        dm = alice.driver.channels.create_direct_message_channel([alice.me["id"], world.bot_user["id"]])
        proxy.go_down()
        down_at = time.monotonic()
        alice.post(dm["id"], "todo")  # a websocket event: claimed and answered with the same retry as a command
        until = down_at + OUTAGE_SECONDS
        typists = [threading.Thread(target=keep_typing, args=(text, delay, until))
                   for delay in (0, 0.7, 1.4) for text in ("/incident info", "/incident check 1", "/incident uncheck 1", "/incident list")]
        for typist in typists:
            typist.start()
        time.sleep(OUTAGE_SECONDS)
        proxy.come_back()
        for typist in typists:
            typist.join(30)

        sorry = [reply for _, reply in answers if "went wrong" in reply]
        unavailable = [sent - down_at for sent, reply in answers if reply == UNAVAILABLE]
        done = [sent - down_at for sent, reply in answers if reply != UNAVAILABLE]
        print(f"\n{len(answers)} commands in a {OUTAGE_SECONDS:g} s outage: {len(unavailable)} told the database is "
              f"unavailable, {len(done)} answered after a reconnect (sent {min(done, default=0):.1f}-{max(done, default=0):.1f} s in)")
        assert not sorry, sorry
        assert unavailable, "the outage was never felt"
        assert done, "no command sent near the end of the outage was answered after the reconnect"
        # the DM got one answer: what is due, or that the database is unavailable (never "Sorry")
        wait_until(lambda: bot_answers(world, dm["id"]), 15, bot.log)
        dm_answers = bot_answers(world, dm["id"])
        print(f"the DM sent as the database went down was answered: {dm_answers[0]['message'][:80]!r}")
        assert len(dm_answers) == 1 and "went wrong" not in dm_answers[0]["message"], dm_answers
        # back to normal
        assert "Item 1" in command(alice, world, "/incident check 1", channel["id"]) or \
            "already" in command(alice, world, "/incident check 1", channel["id"])
        assert "Outage drill" in command(alice, world, "/incident list")
        log = bot.log()
        assert "Traceback" not in log and " ERROR " not in log, log[-4000:]
    finally:
        alice.close()
