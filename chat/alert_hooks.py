"""The endpoint Alertmanager and Grafana post to: `POST <bot public URL>/alerts/<source id>/<secret>`.

Accept, store, then act: a delivery is checked (secret, size, shape), written to the database and
answered 200 at once; the delivery worker (`flows/alerts.py`) acts on it afterwards, so a slow
Mattermost never makes the sender time out and retry, and a restart loses nothing that was answered.
Answers: 401 wrong or missing secret (logged without it), 413 a body over `MAX_BODY_BYTES` (counted
while reading, never read whole), 400 a body that is not a notification (the reason), 503 the
database did not answer (the sender retries later).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
from concurrent.futures import Executor
from typing import Any, Callable

from aiohttp import web

from chat import metrics
from models.db import DatabaseUnavailable, with_reconnect
from services import alerts

log = logging.getLogger("incident.alerts")

ALERTS_PATH = "/alerts"
ROUTE = ALERTS_PATH + "/{tail:.*}"
MAX_BODY_BYTES = 1024 * 1024
_READ_CHUNK = 64 * 1024
_SOURCE_ID = re.compile(r"[0-9]{1,12}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,128}")
# in access-log lines: everything after the source id is the secret
_SECRET_IN_PATH = re.compile(r"(/alerts/[^/\s\"]*/)[^\s\"?]+")


def source_url(base_url: str, source_id: int, secret: str) -> str:
    """What an admin pastes into Alertmanager or Grafana."""
    return f"{base_url}{ALERTS_PATH}/{source_id}/{secret}"


class HideAlertSecrets(logging.Filter):
    """aiohttp's access log prints each request's path; an alert URL's secret is left out of it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/alerts/" in message:
            record.msg, record.args = _SECRET_IN_PATH.sub(r"\1…", message), ()
        return True


class TooLarge(Exception):
    pass


def _answer(code: int, **payload: Any) -> web.Response:
    return web.Response(status=code, body=json.dumps(payload).encode(), content_type="application/json")


async def read_limited(request: web.BaseRequest, limit: int) -> bytes:
    """The body, or `TooLarge` as soon as more than `limit` bytes came (declared or sent)."""
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge()
    received = bytearray()
    while True:
        chunk = await request.content.read(_READ_CHUNK)
        if not chunk:
            return bytes(received)
        received += chunk
        if len(received) > limit:
            raise TooLarge()


class AlertHooks:
    """The alert endpoint of the callback server; database work runs on `executor`, off the event loop."""

    def __init__(self, executor: Executor, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self._executor = executor
        self._max_body = max_body_bytes
        self._stored: Callable[[], None] = lambda: None

    def on_stored(self, wake: Callable[[], None]) -> None:
        """Who to tell that a delivery waits (the delivery worker, once the bot runs)."""
        self._stored = wake

    async def receive(self, request: web.Request) -> web.Response:
        source_id, _, secret = request.match_info.get("tail", "").partition("/")
        loop = asyncio.get_running_loop()
        try:
            source = None
            if _SOURCE_ID.fullmatch(source_id) and _SECRET.fullmatch(secret):
                source = await loop.run_in_executor(self._executor, with_reconnect,
                                                    functools.partial(alerts.source_for, int(source_id), secret))
            if source is None:
                metrics.alert_received("unauthorized")
                log.warning("refused an alert delivery for source %r from %s: wrong or missing secret",
                            source_id[:20], request.remote)
                return _answer(401, error="wrong or missing secret: use the URL /incident alerts connect or rotate gave")
            try:
                raw = await read_limited(request, self._max_body)
            except TooLarge:
                metrics.alert_received("too_large")
                log.warning("refused an alert delivery for source %s: the body is over %d bytes", source.id, self._max_body)
                return _answer(413, error=f"the body is over {self._max_body} bytes")
            try:
                alerts.parse(raw)
            except alerts.Malformed as exc:
                metrics.alert_received("malformed")
                log.warning("refused an alert delivery for source %s: %s", source.id, exc)
                return _answer(400, error=str(exc))
            stored = await loop.run_in_executor(self._executor, with_reconnect,
                                                functools.partial(alerts.record_delivery, source.id, raw))
        except DatabaseUnavailable as exc:
            metrics.alert_received("unavailable")
            log.warning("could not take an alert delivery: the database is unavailable (%s)", exc)
            return _answer(503, error="the incident database is unavailable; send it again later")
        metrics.alert_received("accepted" if stored else "duplicate")
        if stored:
            log.info("stored an alert delivery for source %s", source.id)
            self._stored()
        else:
            log.info("alert delivery for source %s was received before: not stored again", source.id)
        return _answer(200, status="accepted" if stored else "duplicate")
