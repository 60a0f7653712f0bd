"""One incident's changes, one at a time: in this process, and across replicas."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

from models.db import incident_lock


class IncidentLocks:
    """Re-entrant per-incident locks that are dropped when nobody holds or waits for them."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[int, tuple[threading.RLock, int]] = {}

    @contextmanager
    def hold(self, incident_id: int) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(incident_id, (threading.RLock(), 0))
            self._locks[incident_id] = (lock, users + 1)
        try:
            # ending (record, then archive) and restarting (restore, then record) must not
            # interleave, nor two renders of one message; a PostgreSQL advisory lock extends
            # this to the other replicas sharing the database
            with lock, incident_lock(incident_id):
                yield
        finally:
            with self._guard:
                lock, users = self._locks[incident_id]
                if users == 1:
                    del self._locks[incident_id]
                else:
                    self._locks[incident_id] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)
