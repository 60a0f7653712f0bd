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

import logging
from datetime import datetime, timezone
from typing import Callable

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from models.db import UNAVAILABLE_ERRORS, db

log = logging.getLogger("incident.timers")

SWEEP_JOB = "sweep"


class Timers:
    def __init__(self, sweep: Callable[[], object], every_seconds: float):
        """`sweep()` does what is due, on the scheduler's one worker thread."""
        self._sweep = sweep
        self._every = every_seconds
        # one worker: sweeps never overlap, and a burst of wake-ups coalesces into one
        self._scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(1)},
                                              job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
                                              timezone=timezone.utc)

    def start(self) -> None:
        self._scheduler.add_job(self._run, "interval", seconds=self._every, id=SWEEP_JOB,
                                next_run_time=datetime.now(timezone.utc))  # at once: what fell due while down
        self._scheduler.start()

    def wake_at(self, due_ms: int) -> None:
        """Sweep at `due_ms` (milliseconds since the epoch), besides the periodic sweeps."""
        when = datetime.fromtimestamp(due_ms / 1000, tz=timezone.utc)
        self._scheduler.add_job(self._run, "date", run_date=when, id=f"due-{due_ms}", replace_existing=True)

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
