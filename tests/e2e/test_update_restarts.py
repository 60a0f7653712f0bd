"""Reminders that survive the bot: stopped or killed before an update is due, it still reminds
once it is back; with two replicas sharing PostgreSQL, each reminder is sent once.

Each test has a double and bots of its own (no bot of another test sweeps its reminders).
Cadences are shortened with the documented setting `UPDATES_TIME_SCALE`.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.e2e.harness import BotProcess, wait_until
from tests.e2e.steps import command, start
from tests.e2e.test_updates import FAST, posts_with

pytestmark = pytest.mark.e2e


def bot_process(world, folder, **env) -> BotProcess:
    return BotProcess(world, folder, database_url=os.environ.get("TEST_DATABASE_URL"), extra_env={**FAST, **env})


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_a_reminder_due_while_the_bot_was_down_comes_once_it_is_back(own_world, stop):
    world, folder = own_world
    first = bot_process(world, folder).start().wait_ready()
    alice = world.person("alice")
    try:
        channel = start(alice, world, "Down while due")
        command(alice, world, "/incident update Looking. --next 5m", channel["id"])  # 1.2 s here
        first.process.send_signal(stop)
        first.process.wait(15)
        assert not posts_with(world, channel["id"], "is due since")
        second = bot_process(world, folder).start().wait_ready()
        try:
            wait_until(lambda: posts_with(world, channel["id"], "is due since"), 10)
        finally:
            second.stop()
        assert len(posts_with(world, channel["id"], "is due since")) == 1
    finally:
        alice.close()


def test_an_update_while_one_replica_is_down_cancels_its_reminder_and_two_replicas_remind_once(own_world):
    world, folder = own_world
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("replicas share a PostgreSQL database")
    one, two = bot_process(world, folder).start().wait_ready(), bot_process(world, folder).start().wait_ready()
    alice = world.person("alice")
    try:
        channel = start(alice, world, "Two replicas")
        command(alice, world, "/incident update Looking. --next 5m", channel["id"])  # due in 1.2 s
        wait_until(lambda: posts_with(world, channel["id"], "is due since"), 10)
        time.sleep(2)  # both replicas sweep every 0.5 s: several chances to send it twice
        assert len(posts_with(world, channel["id"], "is due since")) == 1

        command(alice, world, "/incident update Still looking. --next 5m", channel["id"])
        one.process.send_signal(signal.SIGKILL)  # before that update is due
        one.process.wait(15)
        command(alice, world, "/incident update Better. --next 1d", channel["id"])  # answered by the other
        one = bot_process(world, folder).start().wait_ready()
        time.sleep(2)  # well past when "Still looking" wanted the next update
        assert posts_with(world, channel["id"], "is due since") == []
    finally:
        alice.close()
        for process in (one, two):
            process.stop()
