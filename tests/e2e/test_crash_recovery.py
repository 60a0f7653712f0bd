"""The bot is killed (SIGKILL) in the middle of a burst of starts, and of ends; once it is back,
nothing is left half done: every channel it made is an incident's or archived with its person
told, every active incident has its checklist message, every ended one an archived channel, and
the people who retried made no second channel.

The double kills the bot at a chosen call (the Nth channel it creates, the Nth archive), so the
crash lands between two steps of a change every run; the other requests of the burst are caught
wherever they are. What was repaired, and how long it took, is printed for the report.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time

import pytest

from models.db import make_database
from mmdouble.testing import SimUser
from tests.e2e.harness import BotProcess, wait_until
from tests.e2e.steps import command, start

pytestmark = pytest.mark.e2e

BURST = 20
PEOPLE = ("alice", "bob", "carol")


def bot_process(world, folder) -> BotProcess:
    return BotProcess(world, folder, database_url=os.environ.get("TEST_DATABASE_URL"))


def kill_at(world, bot: BotProcess, rule: str, nth: int, *, after: bool) -> None:
    """The double kills the bot at its `nth` call of `rule`: after Mattermost did it (the bot never
    hears the answer), or before (it is never done)."""
    rules = world.double.rules
    real = getattr(rules, rule)
    calls = []
    lock = threading.Lock()

    def dying(me_id, *args, **kwargs):
        with lock:
            if me_id == world.bot_user["id"]:
                calls.append(1)
            fatal = me_id == world.bot_user["id"] and len(calls) == nth
        if fatal and not after:
            os.kill(bot.process.pid, signal.SIGKILL)
            raise ConnectionResetError("the bot died before this was done")
        result = real(me_id, *args, **kwargs)
        if fatal:
            os.kill(bot.process.pid, signal.SIGKILL)
        return result

    setattr(rules, rule, dying)


def stop_killing(world, rule: str) -> None:
    del world.double.rules.__dict__[rule]


def at_once(jobs) -> list:
    """Run the jobs together (a burst); each one's answer, or the error it met."""
    answers: list = [None] * len(jobs)

    def run(index, job):
        try:
            answers[index] = job()
        except Exception as exc:  # the bot died under this request: what a person sees is an error
            answers[index] = exc

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers


def person(world, username: str) -> SimUser:
    """Someone typing commands (no websocket: a burst of them stays light)."""
    return SimUser(world.double.url, world.tokens[username], connect_websocket=False)


def typing(world, username: str, text: str, channel_id: str | None = None):
    return lambda: command(person(world, username), world, text, channel_id)


def database(folder):
    url = os.environ.get("TEST_DATABASE_URL")
    return make_database(url, str(folder / "bot.sqlite3"))


def incidents_of(world, folder) -> dict[str, tuple]:
    """channel id -> (name, is_active, checklist post id), as the bot recorded them."""
    db = database(folder)
    try:
        rows = db.execute_sql("SELECT channel_id, name, is_active, checklist_post_id FROM incident WHERE team_id = "
                              + db.param, (world.team["id"],)).fetchall()
    finally:
        db.close()
    return {row[0]: (row[1], bool(row[2]), row[3]) for row in rows}


def channels_made_by_bot(world, prefix: str) -> list[dict]:
    with world.double.state.lock:
        return [dict(c) for c in world.double.state.channels.values()
                if c["team_id"] == world.team["id"] and c["creator_id"] == world.bot_user["id"]
                and c["name"].startswith(prefix)]


def dms_from_bot(world, username: str) -> list[str]:
    person = world.users[username]["id"]
    name = "__".join(sorted([person, world.bot_user["id"]]))
    channel = world.double.channel_by_name("", name)
    if channel is None:
        return []
    return [p["message"] for p in world.double.posts_in(channel["id"]) if p["user_id"] == world.bot_user["id"]]


def repairs(log: str) -> list[tuple[int, int]]:
    """(repaired, milliseconds) of each recovery sweep that repaired something."""
    return [(int(n), int(ms)) for n, ms in re.findall(r"recovery: (\d+) repaired in (\d+) ms", log)]


def back_and_settled(world, folder, done) -> tuple[BotProcess, float]:
    """A new bot; waits until `done()` holds; how long that took after the process was started."""
    began = time.monotonic()
    bot = bot_process(world, folder).start().wait_ready()
    wait_until(done, 60, bot.log)
    return bot, time.monotonic() - began


def checklist_posted(world, channel_id: str, post_id: str | None) -> bool:
    post = world.double.get_post(post_id) if post_id else None
    return bool(post) and post["channel_id"] == channel_id and not post.get("delete_at")


def test_a_burst_of_starts_killed_midway_leaves_no_orphan_channel_and_retries_make_no_second_one(own_world):
    world, folder = own_world
    first = bot_process(world, folder).start().wait_ready()
    names = [f"Burst {n:02d}" for n in range(1, BURST + 1)]
    owner = {name: PEOPLE[i % len(PEOPLE)] for i, name in enumerate(names)}
    kill_at(world, first, "open_channel", BURST // 2, after=True)
    try:
        answers = dict(zip(names, at_once([typing(world, owner[n], f"/incident start {n}") for n in names])))
        first.process.wait(15)
    finally:
        stop_killing(world, "open_channel")
    unanswered = [n for n in names if not isinstance(answers[n], str) or "started in ~" not in answers[n]]
    made = channels_made_by_bot(world, "burst-")
    recorded = incidents_of(world, folder)
    orphans_at_crash = [c["name"] for c in made if c["id"] not in recorded]
    missing_checklist_at_crash = [name for name, active, post in recorded.values() if active and not post]

    # back: each person who got no answer looks for the incident, and starts it again if it is not there
    bot = bot_process(world, folder).start().wait_ready()
    restarted_at = time.monotonic()
    try:
        retried = [n for n in unanswered if "There is no incident" in command(person(world, owner[n]), world, f"/incident info {n}")]
        retry_answers = dict(zip(retried, at_once([typing(world, owner[n], f"/incident start {n}") for n in retried])))

        def settled() -> bool:
            recorded = incidents_of(world, folder)
            return all(c["delete_at"] or (c["id"] in recorded and checklist_posted(world, c["id"], recorded[c["id"]][2]))
                       for c in channels_made_by_bot(world, "burst-"))

        wait_until(settled, 60, bot.log)
        took = time.monotonic() - restarted_at
        assert all("started in ~" in a for a in retry_answers.values()), retry_answers

        made = channels_made_by_bot(world, "burst-")
        recorded = incidents_of(world, folder)
        for channel in made:  # every channel the bot made is an incident's, or archived with its person told
            if channel["id"] not in recorded:
                assert channel["delete_at"], channel
                assert any(f"~{channel['name']} was archived" in m for p in PEOPLE for m in dms_from_bot(world, p))
        for channel_id, (name, active, post_id) in recorded.items():  # every active incident has its checklist
            assert not active or checklist_posted(world, channel_id, post_id), name
        for name in names:  # no name has two channels
            open_channels = [c for c in made if not c["delete_at"] and recorded.get(c["id"], ("",))[0] == name]
            assert len(open_channels) <= 1, (name, open_channels)
        assert "Traceback" not in bot.log()
        print(f"\nstarts: {BURST} at once, bot killed at channel {BURST // 2}: {len(unanswered)} unanswered, "
              f"{len(orphans_at_crash)} channels without an incident and {len(missing_checklist_at_crash)} incidents "
              f"without a checklist at the crash; {len(retried)} retried; repairs logged {repairs(bot.log())}; "
              f"settled {took:.2f} s after the restarted bot was ready; "
              f"{sum(1 for c in made if c['delete_at'])} channels rolled back")
    finally:
        assert bot.stop() == 0


def test_ends_killed_between_their_record_and_the_archive_are_archived_once_the_bot_is_back(own_world):
    world, folder = own_world
    first = bot_process(world, folder).start().wait_ready()
    alice = world.person("alice")
    try:
        channels = [start(alice, world, f"Ending {n:02d}") for n in range(1, 9)]
        kill_at(world, first, "archive_channel", 4, after=False)
        try:
            at_once([typing(world, "alice", "/incident end", c["id"]) for c in channels])
            first.process.wait(15)
        finally:
            stop_killing(world, "archive_channel")
        recorded = incidents_of(world, folder)
        half_ended = [c for c in channels if not recorded[c["id"]][1] and not world.double.channel(c["id"])["delete_at"]]

        def settled() -> bool:
            recorded = incidents_of(world, folder)
            return all(recorded[c["id"]][1] != bool(world.double.channel(c["id"])["delete_at"]) for c in channels)

        bot, took = back_and_settled(world, folder, settled)
        try:
            recorded = incidents_of(world, folder)
            for channel in channels:  # ended and archived, or still active and open: never one without the other
                active = recorded[channel["id"]][1]
                assert active != bool(world.double.channel(channel["id"])["delete_at"]), channel["name"]
                drafts = [p for p in world.double.posts_in(channel["id"])
                          if p["message"].startswith("The retrospective draft")]
                # (a second draft only if a process died between posting it and noting so)
                assert bool(drafts) == (not active), channel["name"]
            # the incidents still active end as usual now
            for channel in channels:
                if recorded[channel["id"]][1]:
                    assert "ended" in command(alice, world, "/incident end", channel["id"])
            assert "Traceback" not in bot.log()
            print(f"\nends: 8 at once, bot killed before archive 4: {len(half_ended)} ended but not archived at the "
                  f"crash; repairs logged {repairs(bot.log())}; settled {took:.2f} s after the new bot was started")
        finally:
            assert bot.stop() == 0
    finally:
        alice.close()
