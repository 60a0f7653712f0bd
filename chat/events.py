"""Websocket events beyond `posted`, dispatched to plugin methods.

mmpy-bot only dispatches `posted` events. The product also reacts to reactions, channel
privacy changes, archiving, membership changes and reconnects (`hello`), so plugins mark
methods with `@listen_event("reaction_added", ...)`; they run on mmpy-bot's thread pool with
the event's JSON-string fields (`post`, `reaction`, `channel`, `mentions`) already decoded.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import threading
import time
from collections import defaultdict
from typing import Any, Callable, TypeVar

from mmpy_bot.event_handler import EventHandler
from mmpy_bot.function import MessageFunction
from mmpy_bot.wrappers import Message

from chat import json_codec, loops, metrics
from chat.logs import log_ids
from chat.web import DATABASE_UNAVAILABLE
from chat.websocket import ConnectionState, ResilientWebsocket
from flows.missed_events import Found, Missed, MissedPost
from models.clock import now_ms
from models.db import DatabaseUnavailable, db, with_reconnect

log = logging.getLogger("incident.events")

JSON_STRING_FIELDS = ("post", "reaction", "channel", "mentions", "dialog")
_MARK = "__incident_events__"

Listener = Callable[[dict[str, Any]], None]  # a plugin's bound method, given the decoded event
FindMissed = Callable[[int, int], Missed]  # (last heard at, now), both ms: what happened in between


class Mark:
    """Where the last event heard is kept across restarts: read once, written now and then."""

    EVERY_MS = 10_000  # at most one write per this long; `flows.missed_events.SLACK_MS` covers the rest

    def __init__(self, load: Callable[[], int | None], save: Callable[[int], None]) -> None:
        self.load = load
        self.save = save
_Method = TypeVar("_Method", bound=Callable[[Any, dict[str, Any]], None])  # the same, as declared: (self, event)


def listen_event(*names: str) -> Callable[[_Method], _Method]:
    """Mark a plugin method as a listener for these websocket event names."""

    def mark(function: _Method) -> _Method:
        setattr(function, _MARK, names)
        return function

    return mark


def decode(frame: dict[str, Any]) -> dict[str, Any]:
    data = dict(frame.get("data") or {})
    for key in JSON_STRING_FIELDS:
        if isinstance(data.get(key), str):
            try:
                data[key] = json_codec.loads(data[key])
            except ValueError:
                pass
    return {**frame, "data": data}


def claim_key(frame: dict[str, Any]) -> str | None:
    """What identifies an event whose handling has effects people see (a reply, a prompt), so
    that replicas act on it once; None for events every replica must see (cache updates,
    catching up after a reconnect), which are idempotent anyway."""
    # decoded only for these: every edit of a checklist message comes back as an event with the
    # whole post in it, which nothing here reads (issue 14)
    name, raw = frame.get("event"), frame.get("data") or {}
    if name == "posted" and raw.get("channel_type") == "D":  # the bot's message listeners are DM-only
        return f"posted:{(decode(frame)['data'].get('post') or {}).get('id', '')}"
    if name in ("reaction_added", "reaction_removed"):
        reaction = decode(frame)["data"].get("reaction") or {}
        return f"{name}:{reaction.get('user_id')}:{reaction.get('post_id')}:{reaction.get('emoji_name')}:{reaction.get('create_at')}"
    return None


class IncidentEventHandler(EventHandler):
    # what a handler made without __init__ (a test's) has: no catch-up, nothing kept
    find_missed: FindMissed | None = None
    mark: Mark | None = None
    _heard_at: int | None = None

    def __init__(self, *args: Any, heartbeat_seconds: float = 30.0, claim: Callable[[str], bool] = lambda key: True,
                 connection: ConnectionState | None = None, find_missed: FindMissed | None = None,
                 mark: Mark | None = None, **kwargs: Any) -> None:
        """`find_missed`: what to catch up after a reconnect (None: nothing); `mark`: where the time of
        the last event heard is kept, so that a restarted bot catches up too (None: in memory only)."""
        super().__init__(*args, **kwargs)
        self.heartbeat_seconds = heartbeat_seconds
        self.connection = connection or ConnectionState()  # what /readyz and /metrics read
        self.claim = claim
        self.find_missed = find_missed
        self.mark = mark
        self.listeners: dict[str, list[Listener]] = defaultdict(list)
        for plugin in self.plugin_manager.plugins:
            for attribute in dir(type(plugin)):
                method = getattr(plugin, attribute, None)
                for name in getattr(method, _MARK, ()):
                    self.listeners[name].append(method)  # type: ignore[arg-type]  # marked: a method
        self._heard_at: int | None = None  # when (ms) the last frame arrived, on the websocket's loop
        self._saved_at = 0
        self._mark_read = threading.Event()  # the stored mark is not overwritten before a catch-up read it
        self._catching_up = threading.Lock()  # one catch-up at a time: a later one starts from its own gap
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        # Our websocket detects dead connections, backs off when reconnecting, and stops
        # at once on shutdown; mmpy-bot's passes neither heartbeat nor stop through.
        self.driver.options["websocket_kw_args"] = {"heartbeat": self.heartbeat_seconds}
        loops.use_new_loop_here()  # the driver runs the websocket on this thread's loop
        self.driver.init_websocket(self._handle_event, websocket_cls=functools.partial(ResilientWebsocket, state=self.connection))

    async def _handle_event(self, data: str) -> None:
        try:
            frame = json_codec.loads(data)
        except ValueError:
            log.warning("ignored a websocket frame that is not JSON")
            return
        before = self._heard(now_ms())
        if frame.get("event") == "hello":  # a new connection: what happened since `before` was not heard
            self._start_catch_up(before)
        await self._dispatch(frame)

    async def _dispatch(self, frame: dict[str, Any]) -> bool:
        """Hand a frame, heard live or found by a catch-up, to its handlers; False if another replica
        (or this bot, live) already took it on."""
        name = str(frame.get("event") or "")
        key = claim_key(frame)
        # the claim is a database write: on a worker thread, so heartbeats never wait behind it
        if key is not None and not await asyncio.get_running_loop().run_in_executor(None, self._claimed, key):
            log.debug("%s is handled by another replica", key)
            return False
        if name == "posted":
            try:
                await self._handle_post(frame)
            except Exception:
                log.exception("could not handle a posted event")
            return True
        listeners = self.listeners.get(name)
        if listeners:
            event = decode(frame)
            for listener in listeners:
                self.driver.threadpool.add_task(self._run, listener, event)
        return True

    def _claimed(self, key: str) -> bool:
        try:
            # the database away for a moment: reconnect and try once more, as the callbacks do
            return with_reconnect(lambda: self.claim(key))
        except DatabaseUnavailable as exc:  # better twice than never
            metrics.database_error("event")
            log.warning("could not record event %s as handled: the database is unavailable (%s); handling it anyway", key, exc)
            return True
        except Exception as exc:
            if metrics.is_database_error(exc):
                metrics.database_error("event")
            log.exception("could not record event %s as handled", key)
            return True

    # ---- messages: mmpy-bot's matching, our error handling --------------------------------------
    async def _handle_post(self, post: dict[str, Any]) -> None:
        post = decode(post)
        post["data"]["post"]["message"] = self._name_matcher.sub("", post["data"]["post"]["message"])
        message = Message(post)
        if self._should_ignore(message):
            return
        for matcher, functions in self.plugin_manager.message_listeners.items():
            match = matcher.search(message.text)
            if match is None:
                continue
            groups = [group for group in match.groups() if group != ""]
            for function in functions:
                if function.is_coroutine:  # none of ours; kept as mmpy-bot runs them
                    await function.plugin.call_function(function, message, groups=groups)
                else:
                    self.driver.threadpool.add_task(self._answer, function, message, groups)

    def _answer(self, function: MessageFunction, message: Message, groups: list[str]) -> None:
        with log_ids(team_id=message.team_id, channel_id=message.channel_id, user_id=message.user_id):
            try:
                with_reconnect(lambda: function(message, *groups))
            except DatabaseUnavailable as exc:  # expected in an outage: one line, and the person is told
                metrics.database_error("event")
                log.warning("listener %s could not answer a message: the database is unavailable (%s)", function.name, exc)
                self._say(message.channel_id, DATABASE_UNAVAILABLE)
            except Exception as exc:
                if metrics.is_database_error(exc):
                    metrics.database_error("event")
                log.exception("listener %s failed on a message", function.name)

    def _say(self, channel_id: str, text: str) -> None:
        try:
            self.driver.create_post(channel_id, text)
        except Exception as exc:
            log.warning("could not tell channel %s that the database is unavailable: %s", channel_id, exc)

    @staticmethod
    def _run(listener: Listener, event: dict[str, Any]) -> None:
        name = getattr(listener, "__qualname__", listener)
        try:
            with log_ids(**event_ids(event)):
                with_reconnect(lambda: listener(event))
        except DatabaseUnavailable as exc:
            metrics.database_error("event")
            log.warning("listener %s could not handle %s: the database is unavailable (%s)", name, event.get("event"), exc)
        except Exception as exc:
            if metrics.is_database_error(exc):
                metrics.database_error("event")
            log.exception("listener %s failed on %s", name, event.get("event"))

    # ---- what was missed while the websocket was down -------------------------------------------
    def _heard(self, at_ms: int) -> int | None:
        """Note a frame heard now; when the one before it was heard (None: the first of this process)."""
        before, self._heard_at = self._heard_at, at_ms
        if self.mark is not None and self._mark_read.is_set() and at_ms - self._saved_at >= Mark.EVERY_MS:
            self._saved_at = at_ms
            asyncio.get_running_loop().run_in_executor(None, self._save_mark, at_ms)
        return before

    def _save_mark(self, at_ms: int) -> None:
        if self.mark is None:
            return
        try:
            self.mark.save(at_ms)
        except Exception as exc:  # the next one will do; a database that is down is said elsewhere
            log.warning("could not keep the time of the last event heard (%s: %s)", type(exc).__name__,
                        str(exc).strip().partition("\n")[0])

    def _start_catch_up(self, heard_before: int | None) -> None:
        if self.find_missed is None:
            self._mark_read.set()
            return
        self._loop = asyncio.get_running_loop()
        threading.Thread(target=self._catch_up, args=(heard_before, time.monotonic()), name="catch-up", daemon=True).start()

    def _catch_up(self, heard_before: int | None, hello_at: float) -> None:
        """On its own thread (REST calls and claims take a while): find what was missed, act on each once."""
        try:
            with self._catching_up:
                if heard_before is None:  # the first connection of this process: since the last one stopped hearing
                    heard_before = self._stored_mark()
                self._mark_read.set()
                if heard_before is None or self.find_missed is None:
                    return
                now = now_ms()
                try:
                    missed = self.find_missed(heard_before, now)
                except Exception as exc:
                    log.warning("could not look for events missed since %s: %s: %s", heard_before, type(exc).__name__,
                                str(exc).strip().partition("\n")[0])
                    return
                acted = sum(self._replay(item) for item in missed.found)
                log.info("caught up %d missed event(s) after a gap of %.1f s: %d DM(s) and %d reaction(s) found, "
                         "%d acted on, %d already handled; recovered %.2f s after the reconnect",
                         len(missed.found), (now - heard_before) / 1000, missed.direct_posts, missed.reactions, acted,
                         len(missed.found) - acted, time.monotonic() - hello_at)
                for note in missed.skipped:
                    log.warning("catch-up left out %s", note)
        finally:
            self._mark_read.set()
            if db.obj is not None:  # give this thread's connection back
                db.close()

    def _stored_mark(self) -> int | None:
        if self.mark is None:
            return None
        try:
            return with_reconnect(self.mark.load)
        except Exception as exc:
            log.warning("could not read when the last event was heard (%s: %s); nothing is caught up", type(exc).__name__,
                        str(exc).strip().partition("\n")[0])
            return None

    def _replay(self, item: Found) -> bool:
        """Hand a found event to the handlers on the websocket's loop, as a live frame; True if acted on."""
        if self._loop is None or self._loop.is_closed():
            return False
        try:
            return asyncio.run_coroutine_threadsafe(self._dispatch(missed_frame(item)), self._loop).result(timeout=60)
        except Exception as exc:
            log.warning("could not hand a missed event to its handlers: %s: %s", type(exc).__name__, exc)
            return False


def missed_frame(item: Found) -> dict[str, Any]:
    """The websocket frame Mattermost would have sent for it, so its claim key and handling are the same."""
    if isinstance(item, MissedPost):
        channel = item.channel
        return {"event": "posted", "seq": None, "broadcast": {"channel_id": channel["id"], "team_id": "", "user_id": ""},
                "data": {"channel_display_name": channel.get("display_name", ""), "channel_name": channel.get("name", ""),
                         "channel_type": channel.get("type", "D"), "post": json.dumps(item.post),
                         "sender_name": "@" + item.sender, "team_id": channel.get("team_id", "")}}
    return {"event": "reaction_added", "seq": None, "broadcast": {"channel_id": item.channel_id, "team_id": "", "user_id": ""},
            "data": {"reaction": json.dumps(item.reaction)}}


def event_ids(event: dict[str, Any]) -> dict[str, str]:
    """The team, channel and user a decoded event is about, for the log lines its handling writes."""
    data, broadcast = event.get("data") or {}, event.get("broadcast") or {}
    inner: dict[str, Any] = next((data[key] for key in ("reaction", "post", "channel") if isinstance(data.get(key), dict)), {})
    return {
        "team_id": str(data.get("team_id") or broadcast.get("team_id") or inner.get("team_id") or ""),
        "channel_id": str(data.get("channel_id") or broadcast.get("channel_id") or inner.get("channel_id")
                          or (inner.get("id", "") if isinstance(data.get("channel"), dict) else "")),
        "user_id": str(data.get("user_id") or inner.get("user_id") or broadcast.get("user_id") or ""),
    }
