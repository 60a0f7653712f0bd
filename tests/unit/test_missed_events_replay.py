"""What a catch-up finds goes through the same handlers as a live event, under the same claim key, so
whatever was heard live (here, or by another replica) is not done again (chat/events.py)."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from types import SimpleNamespace

import peewee

from chat.events import IncidentEventHandler, Mark, claim_key, listen_event, missed_frame
from flows.missed_events import Missed, MissedPost, MissedReaction

DM = {"id": "dm1", "name": "bot__alice", "display_name": "@alice", "type": "D", "team_id": ""}
QUESTION = {"id": "p1", "channel_id": "dm1", "user_id": "alice", "message": "help", "create_at": 1_000, "update_at": 1_000,
            "type": "", "props": {}}
REACTION = {"user_id": "alice", "post_id": "p2", "emoji_name": "rotating_light", "create_at": 2_000, "update_at": 2_000,
            "delete_at": 0, "remote_id": ""}


def live_posted(post: dict) -> dict:
    """A `posted` frame as the server sends it to the bot for a DM (recording: ephemeral_actions.json)."""
    return {"event": "posted", "seq": 7, "broadcast": {"channel_id": post["channel_id"]},
            "data": {"channel_display_name": "@alice", "channel_name": DM["name"], "channel_type": "D",
                     "mentions": json.dumps(["bot"]), "post": json.dumps(post), "sender_name": "@alice",
                     "set_online": True, "team_id": ""}}


def live_reaction(reaction: dict) -> dict:
    return {"event": "reaction_added", "seq": 8, "broadcast": {"channel_id": "town"},
            "data": {"reaction": json.dumps(reaction)}}


def test_a_found_event_has_the_claim_key_of_the_live_one():
    assert claim_key(missed_frame(MissedPost(QUESTION, DM, "alice"))) == claim_key(live_posted(QUESTION)) == "posted:p1"
    assert claim_key(missed_frame(MissedReaction(REACTION, "town"))) == claim_key(live_reaction(REACTION))


class Listening:
    """A plugin with one reaction listener, and a DM listener as mmpy-bot registers one."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, str]] = []
        self.fail_with: Exception | None = None
        self.failures_left = 0

    @listen_event("reaction_added")
    def reaction_added(self, event) -> None:
        self.heard.append(("reaction", event["data"]["reaction"]["emoji_name"]))

    def answer(self, message, *groups) -> None:
        if self.failures_left:
            self.failures_left -= 1
            raise self.fail_with
        self.heard.append(("dm", message.text))


def handler_for(plugin: Listening, missed: Missed | None = None, claimed: set | None = None, stored: int | None = None):
    said: list[tuple[str, str]] = []
    driver = SimpleNamespace(username="bot", user_id="bot",
                             threadpool=SimpleNamespace(add_task=lambda function, *args: function(*args)),
                             create_post=lambda channel_id, text: said.append((channel_id, text)))
    dm_listener = type("DmListener", (), {"is_coroutine": False, "name": "Listening.answer",
                                          "__call__": lambda self, message, *groups: plugin.answer(message, *groups)})()
    manager = SimpleNamespace(plugins=[plugin], message_listeners={re.compile(r"^help$"): [dm_listener]})
    keys = claimed if claimed is not None else set()

    def claim(key: str) -> bool:
        if key in keys:
            return False
        keys.add(key)
        return True

    found: list[tuple[int, int]] = []

    def find_missed(heard_at: int, now: int) -> Missed:
        found.append((heard_at, now))
        return missed or Missed(since_ms=heard_at)

    saved: list[int] = []
    handler = IncidentEventHandler(driver, settings=SimpleNamespace(IGNORE_USERS=[]), plugin_manager=manager, claim=claim,
                                   find_missed=find_missed, mark=Mark(lambda: stored, saved.append))
    return handler, SimpleNamespace(said=said, found=found, saved=saved, keys=keys)


def deliver(handler: IncidentEventHandler, *frames: dict, settle: float = 0.3) -> None:
    """Frames arrive on the websocket's loop, which keeps running while the catch-up thread works."""

    async def run() -> None:
        for frame in frames:
            await handler._handle_event(json.dumps(frame))
        deadline = time.monotonic() + settle
        while time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        for thread in threading.enumerate():
            if thread.name == "catch-up":
                await asyncio.get_running_loop().run_in_executor(None, thread.join, 5)

    asyncio.run(run())


HELLO = {"event": "hello", "seq": 0, "data": {"server_version": "5.37.0"}, "broadcast": {}}


def test_after_a_reconnect_what_was_missed_is_handled_once_and_what_was_heard_is_not_redone():
    plugin = Listening()
    missed = Missed(since_ms=0, found=[MissedPost(QUESTION, DM, "alice"), MissedReaction(REACTION, "town")])
    handler, seen = handler_for(plugin, missed)
    # the reaction was heard live just before the connection went (or by another replica)
    deliver(handler, HELLO, live_reaction(REACTION), HELLO)

    assert plugin.heard == [("reaction", "rotating_light"), ("dm", "help")]
    assert seen.keys == {"posted:p1", claim_key(live_reaction(REACTION))}


def test_the_catch_up_starts_from_the_last_event_heard():
    handler, seen = handler_for(Listening())
    before = int(time.time() * 1000)
    deliver(handler, HELLO, live_reaction(REACTION))
    heard_last = int(time.time() * 1000)
    deliver(handler, HELLO)

    assert len(seen.found) == 1  # the first hello of a process with nothing stored: nothing to look for
    heard_at, now = seen.found[0]
    assert before <= heard_at <= heard_last <= now


def test_a_restarted_bot_catches_up_from_the_time_it_kept():
    handler, seen = handler_for(Listening(), stored=1_234)
    deliver(handler, HELLO)
    assert seen.found and seen.found[0][0] == 1_234


def test_the_time_heard_is_kept_only_after_the_stored_one_was_read():
    handler, seen = handler_for(Listening(), stored=None)
    deliver(handler, HELLO, live_reaction(REACTION))
    assert seen.saved, "the time of the last event heard was never kept"


def test_a_dm_during_a_database_blip_is_answered_after_a_reconnect(monkeypatch):
    import chat.events

    monkeypatch.setattr(chat.events, "with_reconnect", lambda work: _retry_once(work))
    plugin = Listening()
    plugin.fail_with, plugin.failures_left = peewee.OperationalError("server closed the connection"), 1
    handler, seen = handler_for(plugin)
    deliver(handler, live_posted(QUESTION))
    assert plugin.heard == [("dm", "help")] and seen.said == []


def test_a_dm_during_a_database_outage_is_told_so_without_a_traceback(monkeypatch, caplog):
    import chat.events
    from models.db import DatabaseUnavailable

    def unavailable(work):
        try:
            return work()
        except peewee.OperationalError:
            raise DatabaseUnavailable("no answer within 2 s") from None

    monkeypatch.setattr(chat.events, "with_reconnect", unavailable)
    plugin = Listening()
    plugin.fail_with, plugin.failures_left = peewee.OperationalError("could not connect"), 1
    handler, seen = handler_for(plugin)
    deliver(handler, live_posted(QUESTION))

    assert seen.said == [("dm1", "The incident database is unavailable; try again in a minute.")]
    assert "database is unavailable" in caplog.text and "Traceback" not in caplog.text


def _retry_once(work):
    try:
        return work()
    except peewee.OperationalError:
        return work()
