"""Keeps a message of every incident equal to the database: one worker, latest state.

One instance keeps the checklist messages, one the broadcast announcements. A change anywhere
(a click, a command, a timer, an alert) marks its incident dirty. One worker thread publishes
dirty incidents: it reads the incident as it is *then*, renders it and patches the post. Marks
that arrive while a publish is waiting are folded into it; marks that arrive while it runs cause
one more. Publishes of one incident happen one after another, under the incident's lock (which
other replicas share on PostgreSQL), so an older render never lands after a newer one from this
worker.

A click is answered with the new message inside the HTTP answer, which Mattermost applies when
it gets there. Two changes answered close together may reach the message out of order, so when
a change follows another within `race_window`, the message is published once more from the
database, once the clicks have paused for `settle` seconds, or `longest_settle` after the first of
them when they keep coming (issue 14: each follow-up is a render, a patch and the websocket event
it causes, and a burst of clicks made two a second of them).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from models.db import UNAVAILABLE_ERRORS

log = logging.getLogger("incident.message_sync")

RACE_WINDOW = 2.0
SETTLE = 0.5
LONGEST_SETTLE = 2.0
WAIT = 10.0


class MessageSync:
    def __init__(self, publish: Callable[[int], None], *, name: str = "messages", race_window: float = RACE_WINDOW, settle: float = SETTLE,
                 longest_settle: float = LONGEST_SETTLE, clock: Callable[[], float] = time.monotonic):
        """`publish(incident_id)` renders the incident's current state onto its message (on the
        worker thread, which keeps one database connection)."""
        self._publish = publish
        self._name = name
        self._race_window = race_window
        self._settle = settle
        self._longest_settle = longest_settle
        self._clock = clock
        self._cond = threading.Condition()
        self._due: dict[int, float] = {}        # incident -> when to publish next
        self._follow_up: dict[int, tuple[float, float]] = {}  # incident -> (one more publish then, and at the latest)
        self._marked: dict[int, int] = {}       # incident -> marks so far
        self._published: dict[int, int] = {}    # incident -> marks covered by a finished publish
        self._last_change: dict[int, tuple[float, bool]] = {}  # incident -> (when, answered with a click)
        self._stopped = False
        self._worker: threading.Thread | None = None

    # ---- marks -------------------------------------------------------------------------
    def changed(self, incident_id: int, *, wait: bool = False) -> None:
        """A change is committed and not on the message yet: publish now. With `wait`, return
        once a publish that read the database after this call has finished (or after WAIT)."""
        with self._cond:
            self._ensure_worker()
            now = self._clock()
            already_due = self._due.get(incident_id, now + 1) <= now  # the worker is on its way: no need to wake it
            self._due[incident_id] = min(self._due.get(incident_id, now), now)
            self._note(incident_id, now, answered=False)
            self._marked[incident_id] = mark = self._marked.get(incident_id, 0) + 1
            if not already_due:
                self._cond.notify_all()
            if wait:
                self._cond.wait_for(lambda: self._stopped or incident_id not in self._marked
                                    or self._published.get(incident_id, 0) >= mark, WAIT)

    def answered(self, incident_id: int) -> None:
        """A click's answer carries the new message; only a close second change needs us."""
        with self._cond:
            self._ensure_worker()
            # a burst of clicks would wake the worker (and every thread waiting here) once per click
            # for nothing: only a new follow-up it has not seen needs it (issue 14)
            if self._note(incident_id, self._clock(), answered=True):
                self._cond.notify_all()

    def _note(self, incident_id: int, now: float, *, answered: bool) -> bool:
        """Remember the change; True when it asks for a follow-up the worker must be woken for."""
        # only a click's answer travels outside this worker, so only it can overtake another change
        previous = self._last_change.get(incident_id)
        self._last_change[incident_id] = (now, answered)
        if previous is not None and now - previous[0] < self._race_window and (answered or previous[1]):
            pending = self._follow_up.get(incident_id)
            latest = pending[1] if pending else now + self._longest_settle
            self._follow_up[incident_id] = (min(now + self._settle, latest), latest)
            # one pending publish looks at the follow-ups when it is done; a later time needs no wake-up
            return pending is None and incident_id not in self._due
        return False

    # ---- the worker ----------------------------------------------------------------------
    def _ensure_worker(self) -> None:
        if self._worker is None and not self._stopped:
            self._worker = threading.Thread(target=self._run, name=f"sync-{self._name}", daemon=True)
            self._worker.start()

    def _next(self) -> tuple[int, int] | None:
        """The incident to publish now and the marks it will cover; None once stopped."""
        with self._cond:
            while not self._stopped:
                now = self._clock()
                for incident_id, (at, _) in list(self._follow_up.items()):
                    if at <= now and incident_id not in self._due:  # a follow-up waits for the publish before it
                        del self._follow_up[incident_id]
                        self._due[incident_id] = at
                if self._due:
                    incident_id, at = min(self._due.items(), key=lambda entry: entry[1])
                    if at <= now:
                        del self._due[incident_id]
                        if self._follow_up.get(incident_id, (now + 1, 0.0))[0] <= now:
                            del self._follow_up[incident_id]  # this publish is late enough for it
                        return incident_id, self._marked.get(incident_id, 0)
                coming = [at for at in self._due.values()] + [at for incident_id, (at, _) in self._follow_up.items()
                                                              if incident_id not in self._due]
                if coming:
                    self._cond.wait(max(0.0, min(coming) - now))
                    continue
                self._forget_quiet(now)
                self._cond.wait()
            return None

    def _forget_quiet(self, now: float) -> None:
        """Incidents published and untouched for a race window need no memory of them."""
        for incident_id, (at, _) in list(self._last_change.items()):
            if now - at >= self._race_window and incident_id not in self._due:
                del self._last_change[incident_id]
                self._marked.pop(incident_id, None)
                self._published.pop(incident_id, None)

    def _run(self) -> None:
        while True:
            job = self._next()
            if job is None:
                return
            incident_id, covers = job
            try:
                self._publish(incident_id)
            except UNAVAILABLE_ERRORS as exc:  # an outage, not a bug: one line; the incident's next change publishes its latest state
                log.warning("could not publish the %s of incident %s: the database is unavailable (%s: %s)", self._name,
                            incident_id, type(exc).__name__, str(exc).strip().partition("\n")[0])
            except Exception:
                log.exception("could not publish the %s of incident %s", self._name, incident_id)
            with self._cond:
                if incident_id in self._marked:
                    self._published[incident_id] = max(self._published.get(incident_id, 0), covers)
                self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._worker is not None:
            self._worker.join(timeout=2)

    @property
    def idle(self) -> bool:
        with self._cond:
            return not self._due and not self._follow_up
