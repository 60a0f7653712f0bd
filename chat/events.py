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
from collections import defaultdict
from typing import Any, Callable, TypeVar

from mmpy_bot.event_handler import EventHandler

from chat import metrics
from chat.logs import log_ids
from chat.websocket import ConnectionState, ResilientWebsocket

log = logging.getLogger("incident.events")

JSON_STRING_FIELDS = ("post", "reaction", "channel", "mentions", "dialog")
_MARK = "__incident_events__"

Listener = Callable[[dict[str, Any]], None]  # a plugin's bound method, given the decoded event
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
                data[key] = json.loads(data[key])
            except ValueError:
                pass
    return {**frame, "data": data}


def claim_key(frame: dict[str, Any]) -> str | None:
    """What identifies an event whose handling has effects people see (a reply, a prompt), so
    that replicas act on it once; None for events every replica must see (cache updates,
    catching up after a reconnect), which are idempotent anyway."""
    name, data = frame.get("event"), decode(frame)["data"]
    if name == "posted" and data.get("channel_type") == "D":  # the bot's message listeners are DM-only
        return f"posted:{(data.get('post') or {}).get('id', '')}"
    if name in ("reaction_added", "reaction_removed"):
        reaction = data.get("reaction") or {}
        return f"{name}:{reaction.get('user_id')}:{reaction.get('post_id')}:{reaction.get('emoji_name')}:{reaction.get('create_at')}"
    return None


class IncidentEventHandler(EventHandler):
    def __init__(self, *args: Any, heartbeat_seconds: float = 30.0, claim: Callable[[str], bool] = lambda key: True,
                 connection: ConnectionState | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.heartbeat_seconds = heartbeat_seconds
        self.connection = connection or ConnectionState()  # what /readyz and /metrics read
        self.claim = claim
        self.listeners: dict[str, list[Listener]] = defaultdict(list)
        for plugin in self.plugin_manager.plugins:
            for attribute in dir(type(plugin)):
                method = getattr(plugin, attribute, None)
                for name in getattr(method, _MARK, ()):
                    self.listeners[name].append(method)  # type: ignore[arg-type]  # marked: a method

    def start(self) -> None:
        # Our websocket detects dead connections, backs off when reconnecting, and stops
        # at once on shutdown; mmpy-bot's passes neither heartbeat nor stop through.
        self.driver.options["websocket_kw_args"] = {"heartbeat": self.heartbeat_seconds}
        self.driver.init_websocket(self._handle_event, websocket_cls=functools.partial(ResilientWebsocket, state=self.connection))

    async def _handle_event(self, data: str) -> None:
        try:
            frame = json.loads(data)
        except ValueError:
            log.warning("ignored a websocket frame that is not JSON")
            return
        name = frame.get("event")
        key = claim_key(frame)
        # the claim is a database write: on a worker thread, so heartbeats never wait behind it
        if key is not None and not await asyncio.get_running_loop().run_in_executor(None, self._claimed, key):
            log.debug("%s is handled by another replica", key)
            return
        if name == "posted":
            try:
                await self._handle_post(frame)
            except Exception:
                log.exception("could not handle a posted event")
            return
        listeners = self.listeners.get(name)
        if not listeners:
            return
        event = decode(frame)
        for listener in listeners:
            self.driver.threadpool.add_task(self._run, listener, event)

    def _claimed(self, key: str) -> bool:
        try:
            return self.claim(key)
        except Exception as exc:  # the database is away: better twice than never
            if metrics.is_database_error(exc):
                metrics.database_error("event")
            log.exception("could not record event %s as handled", key)
            return True

    @staticmethod
    def _run(listener: Listener, event: dict[str, Any]) -> None:
        try:
            with log_ids(**event_ids(event)):
                listener(event)
        except Exception as exc:
            if metrics.is_database_error(exc):
                metrics.database_error("event")
            log.exception("listener %s failed on %s", getattr(listener, "__qualname__", listener), event.get("event"))


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
