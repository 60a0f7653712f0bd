"""A websocket connection to Mattermost that notices when it is dead and comes back.

mattermostautodriver 2.3.0's websocket never detects a half-open connection (its heartbeat
sends an unsolicited pong, which nothing answers), reconnects every 5 s forever with a
traceback each time, and keeps reading after `disconnect()` until the next frame arrives.
This one uses aiohttp's ping/pong heartbeat, reconnects with capped exponential backoff and
jitter, and stops as soon as it is asked to.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import ssl
import threading
import time
from typing import Any, Awaitable, Callable

import aiohttp
from mattermostautodriver.websocket import Websocket

log = logging.getLogger("incident.websocket")

FrameHandler = Callable[[str], Awaitable[None]]  # gets each text frame as it came, JSON not decoded

FIRST_DELAY = 0.5
MAX_DELAY = 30.0
AUTH_TIMEOUT = 15.0


def backoff(attempt: int) -> float:
    """Seconds to wait before reconnect attempt `attempt` (0-based), with jitter."""
    return min(MAX_DELAY, FIRST_DELAY * 2**attempt) * random.uniform(0.5, 1.0)


class ConnectionState:
    """Whether the websocket is open, and how long it was down: read by `/readyz` and `/metrics`
    on other threads while the websocket's loop writes it."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._ever_connected = False
        self._is_open = False
        self._down_since: float | None = None  # None while connected, or before the first connection
        self._down_before = 0.0  # seconds down in the outages that ended
        self.reconnects = 0

    def connected(self) -> None:
        with self._lock:
            if self._down_since is not None:
                self._down_before += self._clock() - self._down_since
                self._down_since = None
            if self._ever_connected:
                self.reconnects += 1
            self._ever_connected = True
            self._is_open = True

    def lost(self) -> None:
        with self._lock:
            if self._is_open:
                self._is_open = False
                self._down_since = self._clock()

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._is_open

    @property
    def ever_connected(self) -> bool:
        with self._lock:
            return self._ever_connected

    def down_for(self) -> float | None:
        """Seconds since the connection was lost; None while it is open or before it first opened."""
        with self._lock:
            return None if self._down_since is None else self._clock() - self._down_since

    def disconnected_seconds(self) -> float:
        """Seconds down in all, since the first connection (the outage going on included)."""
        with self._lock:
            ongoing = 0.0 if self._down_since is None else self._clock() - self._down_since
            return self._down_before + ongoing


class ResilientWebsocket(Websocket):
    def __init__(self, options: dict[str, Any], token: str, state: ConnectionState | None = None) -> None:
        super().__init__(options, token)
        self.state = state or ConnectionState()
        self._alive = True  # not set again in connect(): a stop requested before it runs must hold
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._socket: aiohttp.ClientWebSocketResponse | None = None

    def _url_and_tls(self) -> tuple[str, ssl.SSLContext | None]:
        options = self.options
        if options["scheme"] != "https":
            context = None
            scheme = "ws"
        else:
            scheme = "wss"
            context = ssl.create_default_context(purpose=ssl.Purpose.SERVER_AUTH)
            if not options["verify"]:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
        url = f"{scheme}://{options['url']}:{options['port']}{options['basepath']}/api/v4/websocket"
        return url, context

    async def connect(self, event_handler: FrameHandler) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        url, context = self._url_and_tls()
        kwargs = dict(self.options.get("websocket_kw_args") or {})
        attempt = 0
        while self._alive:
            try:
                async with aiohttp.ClientSession() as session:
                    async with session.ws_connect(url, ssl=context or True, **kwargs) as socket:
                        self._socket = socket
                        await asyncio.wait_for(self._authenticate_websocket(socket, event_handler), AUTH_TIMEOUT)
                        self.state.connected()
                        log.info("websocket connected")
                        attempt = 0
                        await self._receive(socket, event_handler)
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                log.warning("websocket connection failed: %s", exc or type(exc).__name__)
            except Exception:
                log.exception("websocket failed")
            finally:
                self._socket = None
                self.state.lost()
            if not self._alive:
                break
            delay = backoff(attempt)
            attempt += 1
            log.warning("websocket lost; reconnecting in %.1f s", delay)
            try:
                await asyncio.wait_for(self._stop.wait(), delay)
            except asyncio.TimeoutError:
                pass
        log.info("websocket closed")

    async def _authenticate_websocket(self, socket: aiohttp.ClientWebSocketResponse, event_handler: FrameHandler) -> None:
        challenge = {"seq": 1, "action": "authentication_challenge", "data": {"token": self._token}}
        await socket.send_str(json.dumps(challenge))
        while True:
            message = await socket.receive()
            if message.type != aiohttp.WSMsgType.TEXT:
                raise aiohttp.ClientConnectionError("the server closed the websocket during authentication")
            frame = json.loads(message.data)
            await event_handler(message.data)
            if frame.get("event") == "hello" and frame.get("seq") == 0:
                return

    async def _receive(self, socket: aiohttp.ClientWebSocketResponse, event_handler: FrameHandler) -> None:
        async for message in socket:
            if message.type == aiohttp.WSMsgType.TEXT:
                await event_handler(message.data)
            elif message.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE):
                break
            if not self._alive:
                break
        if self._alive:
            log.warning("websocket closed by the server or missed heartbeat (code %s)", socket.close_code)

    def disconnect(self) -> None:
        """Stop now; safe to call from a signal handler or another thread."""
        self._alive = False
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._shutdown)

    def _shutdown(self) -> None:
        if self._stop is not None:
            self._stop.set()
        if self._socket is not None and not self._socket.closed:
            asyncio.ensure_future(self._socket.close())
