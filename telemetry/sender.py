"""Sending telemetry without ever making a person wait.

Change notices arrive on the thread of the person's action (after their transaction
committed). `Telemetry.notice` only puts them on a bounded queue (never blocks; when the
queue is full the notice is dropped with a log line). One worker thread turns them into
events (a few database reads) and hands them to rudder-sdk-python, whose own bounded
queue and consumer thread do the HTTP; a dead or slow endpoint only ever delays that
thread. Nothing is flushed at exit: telemetry is not worth delaying a shutdown for.
"""
from __future__ import annotations

import atexit
import logging
import queue
import threading
from typing import Any, Callable

from models import db
from services import events as notices
from services.events import Notice

from . import events

log = logging.getLogger("incident.telemetry")

QUEUE_SIZE = 1000
_STOP = object()


def rudder_client(write_key: str, data_plane_url: str, queue_size: int):
    from rudderstack.analytics.client import Client

    def failed(error, batch) -> None:
        log.info("telemetry: could not deliver %d event(s): %s", len(batch), error)

    options: dict[str, Any] = dict(max_queue_size=queue_size, max_retries=2, timeout=5, upload_interval=0.5,
                                   on_error=failed, gzip=True)
    if data_plane_url:
        options["host"] = data_plane_url
    client = Client(write_key, **options)
    # the SDK joins its consumer at exit, which can wait out retries against a dead endpoint
    atexit.unregister(client.join)
    return client


class Telemetry:
    def __init__(self, client, metadata: dict[str, str], *, queue_size: int = QUEUE_SIZE,
                 describe: Callable[[Notice], tuple[str, dict] | None] = events.describe):
        self.client = client
        self.metadata = dict(metadata)
        self.describe = describe
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._worker = threading.Thread(target=self._run, name="telemetry", daemon=True)
        self._unsubscribe: Callable[[], None] | None = None
        self.dropped = 0

    def start(self) -> "Telemetry":
        self._worker.start()
        self._unsubscribe = notices.subscribe(self.notice)
        return self

    def stop(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        try:
            self._queue.put_nowait(_STOP)
        except queue.Full:
            pass
        for consumer in getattr(self.client, "consumers", None) or []:
            consumer.pause()

    # ---- on the person's thread: never blocks ---------------------------------------------
    def notice(self, notice: Notice) -> None:
        try:
            self._queue.put_nowait(notice)
        except queue.Full:
            self.dropped += 1
            log.warning("telemetry: queue full, dropped a %s event (%d dropped so far)", notice.name, self.dropped)

    # ---- on the telemetry thread ---------------------------------------------------------
    def _run(self) -> None:
        while True:
            notice = self._queue.get()
            if notice is _STOP:
                return
            try:
                described = self.describe(notice)
                if described is not None:
                    name, properties = described
                    ok, _ = self.client.track(user_id=self.metadata.get("diagnosticID") or "unknown", event=name,
                                              properties={**properties, **self.metadata})
                    if not ok:
                        self.dropped += 1
                        log.warning("telemetry: send queue full, dropped a %s event", notice.name)
            except Exception:
                log.exception("telemetry: could not prepare the %s event", notice.name)
            finally:
                try:
                    db.close()
                except Exception:
                    pass
