"""The bot's timers: APScheduler wakes the reminder sweep at each due time, and every few seconds.

Reminders are stored (`models.updates.UpdateReminder`), not held by the scheduler: a sweep sends
whatever is due according to the database, and each reminder is claimed by one replica only. So
the in-memory jobs are only wake-up calls. The periodic sweep finds reminders another replica
scheduled, and those that fell due while this process was down (it runs once at start).
The weekly digests (`flows/insights.py`) ride on the same sweep: each is claimed by a database row
per team and due time, so it goes out once across replicas and restarts, and its due time is
handed to `wake_at` like a reminder's.
"""

from __future__ import annotations

import heapq
import logging
import threading
from datetime import datetime, timezone
from typing import Callable

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from models.clock import now_ms
from models.db import UNAVAILABLE_ERRORS, db

log = logging.getLogger("incident.timers")

SWEEP_JOB = "sweep"
WAKE_JOB = "wake"


class Timers:
    def __init__(self, sweep: Callable[[], object], every_seconds: float):
        """`sweep()` does what is due, on the scheduler's one worker thread."""
        self._sweep = sweep
        self._every = every_seconds
        # one worker: sweeps never overlap, and a burst of wake-ups coalesces into one
        self._scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(1)},
                                              job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
                                              timezone=timezone.utc)
        # The wake-up times ahead, and one scheduler job for the earliest. A job per due time kept
        # half a kilobyte for every reminder until it fell due, ended incidents' too: 5 MB over the
        # 10 000 incidents of bench/memory_bench.py (issue 14).
        self._lock = threading.Lock()
        self._ahead: list[int] = []  # a heap of due times (ms)
        self._known: set[int] = set()  # the same, to keep each once
        self._armed: int | None = None  # the due time WAKE_JOB is set for

    def start(self) -> None:
        self._scheduler.add_job(self._run, "interval", seconds=self._every, id=SWEEP_JOB,
                                next_run_time=datetime.now(timezone.utc))  # at once: what fell due while down
        self._scheduler.start()

    def wake_at(self, due_ms: int) -> None:
        """Sweep at `due_ms` (milliseconds since the epoch), besides the periodic sweeps."""
        with self._lock:
            if due_ms in self._known:
                return
            heapq.heappush(self._ahead, due_ms)
            self._known.add(due_ms)
            if self._armed is None or due_ms < self._armed:
                self._arm(due_ms)

    def pending_wake_ups(self) -> int:
        return len(self._ahead)

    def _arm(self, due_ms: int) -> None:
        """WAKE_JOB fires at `due_ms` (under the lock)."""
        self._armed = due_ms
        when = datetime.fromtimestamp(due_ms / 1000, tz=timezone.utc)
        self._scheduler.add_job(self._woken, "date", run_date=when, id=WAKE_JOB, replace_existing=True)

    def _woken(self) -> None:
        """A due time came: forget the ones passed, set the job for the next, then sweep."""
        now = now_ms()
        with self._lock:
            while self._ahead and self._ahead[0] <= now:
                self._known.discard(heapq.heappop(self._ahead))
            self._armed = None
            if self._ahead:
                self._arm(self._ahead[0])
        self._run()

    def _run(self) -> None:
        try:
            self._sweep()
        except UNAVAILABLE_ERRORS as exc:  # an outage, not a bug: one line
            log.warning("the reminder sweep waits for the database, which is unavailable (%s: %s)", type(exc).__name__,
                        str(exc).strip().partition("\n")[0])
        except Exception:
            log.exception("the reminder sweep failed; it runs again soon")
        finally:
            try:
                db.close()  # a sweep every few seconds need not hold a connection in between
            except UNAVAILABLE_ERRORS:  # a connection the outage broke may fail to close
                db.dispose()

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
