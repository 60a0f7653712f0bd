"""Work that outlives a command's answer (an export, the numbers of a long channel), and the one
direct message that tells the person how far it got.

A slash command must be answered within seconds, so long work answers at once and carries on
here. The same job asked twice while it runs (two clicks of impatience) runs once.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Callable, Hashable

from .port import ChatError, ChatPort

log = logging.getLogger("incident.flows.long_work")

# a progress message is edited at most this often: each edit is a websocket event for the person
PROGRESS_SECONDS = 1.0


class LongWork:
    """At most `workers` jobs at a time, and one job per key."""

    def __init__(self, workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="long-work")
        self._running: dict[Hashable, Future[None]] = {}
        self._lock = threading.Lock()

    def start(self, key: Hashable, job: Callable[[], None]) -> bool:
        """Runs `job` in the background; False (and nothing runs) if the same key is still running."""
        with self._lock:
            if key in self._running:
                return False
            future = self._pool.submit(self._run, job)
            self._running[key] = future
        future.add_done_callback(lambda _: self._finished(key))
        return True

    @staticmethod
    def _run(job: Callable[[], None]) -> None:
        try:
            job()
        except Exception:  # a job tells the person about its own failures; this is the last net
            log.exception("background work failed")

    def _finished(self, key: Hashable) -> None:
        with self._lock:
            self._running.pop(key, None)

    def drain(self, timeout: float | None = None) -> None:
        """Waits for the jobs running now (tests, and a clean stop)."""
        with self._lock:
            futures = list(self._running.values())
        wait(futures, timeout=timeout)

    def stop(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class ProgressNote:
    """A DM saying how far long work got: posted on the first report, edited at most every
    PROGRESS_SECONDS, deleted when the result arrives (the result is its own message, with files)."""

    def __init__(self, chat: ChatPort, user_id: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._chat = chat
        self._user_id = user_id
        self._clock = clock
        self._post_id: str | None = None
        self._shown_at = 0.0

    def report(self, text: str) -> None:
        try:
            if self._post_id is None:
                self._post_id = str(self._chat.direct_message(self._user_id, text)["id"])
                self._shown_at = self._clock()
            elif self._clock() - self._shown_at >= PROGRESS_SECONDS:
                self._chat.patch_post(self._post_id, message=text)
                self._shown_at = self._clock()
        except ChatError as exc:  # progress is a courtesy; the work goes on
            log.warning("could not show progress to %s: %s", self._user_id, exc)

    def remove(self) -> None:
        if self._post_id is None:
            return
        try:
            self._chat.delete_post(self._post_id)
        except ChatError as exc:
            log.warning("could not remove a progress message: %s", exc)
        self._post_id = None
