"""Time as stored in the database: integer milliseconds since the epoch, UTC.

Integers compare and subtract the same way in SQLite and PostgreSQL, which keeps
later metrics (time to tick an item, incident duration) plain arithmetic.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def to_ms(moment: datetime) -> int:
    """Aware datetimes are converted; naive ones are taken to be UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
