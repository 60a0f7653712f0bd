"""Item deadlines survive the bot: killed before an item is due, it still reminds once it is back;
with two replicas sharing PostgreSQL, the owner is reminded once.

Each test has a double and bots of its own (no bot of another test sweeps its deadlines).
Deadlines are shortened with the documented setting `UPDATES_TIME_SCALE`.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.e2e.harness import BotProcess, wait_until
from tests.e2e.steps import command, start, wait_for_checklist
from tests.e2e.test_assignments import FAST, dms_to

pytestmark = pytest.mark.e2e


def bot_process(world, folder) -> BotProcess:
    return BotProcess(world, folder, database_url=os.environ.get("TEST_DATABASE_URL"), extra_env=FAST)


def reminders(world, about: str) -> list[dict]:
    return [p for p in dms_to(world, "bob", about) if "⏰" in str(p["props"])]


def item_for_bob(world, alice, text: str) -> dict:
    channel = start(alice, world, text)
    command(alice, world, f"/incident checkadd {text}", channel["id"])
    world.double.add_channel_member(channel["id"], world.users["bob"]["id"])
    assert "is @bob's now" in command(alice, world, "/incident assign 1 @bob", channel["id"])
    return channel


def test_a_deadline_that_passes_while_the_bot_is_killed_is_reminded_once_it_is_back(own_world):
    world, folder = own_world
    first = bot_process(world, folder).start().wait_ready()
    alice = world.person("alice")
    try:
        channel = item_for_bob(world, alice, "Killed before due")
        assert "is due" in command(alice, world, "/incident due 1 5m", channel["id"])  # 1.2 s here
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(15)
        assert reminders(world, "Killed before due") == []
        second = bot_process(world, folder).start().wait_ready()
        try:
            wait_until(lambda: reminders(world, "Killed before due"), 10)
            wait_for_checklist(world, channel["id"], "⚠️ **overdue** since")
            time.sleep(1.5)  # three more sweeps: a chance to remind twice
        finally:
            second.stop()
        assert len(reminders(world, "Killed before due")) == 1
        assert "Traceback" not in second.log()
    finally:
        alice.close()


def test_two_replicas_remind_once(own_world):
    world, folder = own_world
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("replicas share a PostgreSQL database")
    one, two = bot_process(world, folder).start().wait_ready(), bot_process(world, folder).start().wait_ready()
    alice = world.person("alice")
    try:
        channel = item_for_bob(world, alice, "Two replicas due")
        command(alice, world, "/incident due 1 5m", channel["id"])
        wait_until(lambda: reminders(world, "Two replicas due"), 10)
        time.sleep(2)  # both replicas sweep every 0.5 s: several chances to send it twice
        assert len(reminders(world, "Two replicas due")) == 1
        assert len([p for p in dms_to(world, "bob", "Two replicas due") if "gave you" in str(p["props"])]) == 1
    finally:
        alice.close()
        for process in (one, two):
            process.stop()
