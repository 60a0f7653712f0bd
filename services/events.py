"""A tiny in-process publish/subscribe for "something changed" notices.

The services stay free of I/O: they `publish(name, **ids)` after a change, and whoever
cares (telemetry) `subscribe`s at start. A notice raised inside a database transaction is
delivered only once that transaction commits, and dropped if it rolls back, so a listener
never hears about a change that did not happen.

Notices carry ids and numbers only (never names, titles or messages). Subscribers run on
the publishing thread, so they must be quick (put the notice on a queue) and must not
raise; an exception from one is logged and swallowed, because a listener must never break
the user's action.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from models import db

log = logging.getLogger("incident.events")


@dataclass(frozen=True)
class Notice:
    name: str
    ids: dict[str, Any] = field(default_factory=dict)


Subscriber = Callable[[Notice], None]

_subscribers: list[Subscriber] = []
_lock = threading.Lock()


def subscribe(fn: Subscriber) -> Callable[[], None]:
    """Listen to every notice; returns a function that stops listening."""
    with _lock:
        _subscribers.append(fn)

    def unsubscribe() -> None:
        with _lock:
            if fn in _subscribers:
                _subscribers.remove(fn)

    return unsubscribe


def _deliver(notice: Notice) -> None:
    with _lock:
        listeners = list(_subscribers)
    for fn in listeners:
        try:
            fn(notice)
        except Exception:
            log.exception("a listener failed on %s", notice.name)


def publish(name: str, **ids: Any) -> None:
    """Announce a change; delivered now, or when the current transaction commits."""
    with _lock:
        if not _subscribers:
            return
    notice = Notice(name, dict(ids))
    database = db.obj
    if database is not None and database.in_transaction():
        database.after_commit(lambda: _deliver(notice))
    else:
        _deliver(notice)
