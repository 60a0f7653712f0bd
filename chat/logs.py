"""How the bot's log lines look: text for people, or JSON lines for Loki or ELK (`[bot] log_format`).

A JSON line carries the time, level, logger and message, and the ids of the request or event
being handled (team, channel, incident, user) when there is one: `chat/web.py` and
`chat/events.py` set them around each handler with `log_ids`. Never a message's text: only ids
go in, and the log calls themselves name things by id. The secrets the bot holds (the token,
the signing secret, the database password) are blanked out of every line, whatever the format,
should a library ever print one.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

ID_FIELDS = ("team_id", "channel_id", "incident_id", "user_id")
REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 6  # shorter values would blank out ordinary words

_ids: contextvars.ContextVar[tuple[tuple[str, str], ...]] = contextvars.ContextVar("incident_log_ids", default=())


@contextmanager
def log_ids(**ids: object) -> Iterator[None]:
    """Lines logged inside carry these ids (empty ones are left out); nests, innermost wins."""
    known = {key: str(value)[:64] for key, value in ids.items() if key in ID_FIELDS and value not in (None, "")}
    token = _ids.set(tuple({**dict(_ids.get()), **known}.items()))
    try:
        yield
    finally:
        _ids.reset(token)


def current_ids() -> dict[str, str]:
    return dict(_ids.get())


class Redact(logging.Filter):
    """Blanks the given secrets out of each record's final message (and its traceback)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        self._secrets |= {s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}
        values = sorted(self._secrets, key=len, reverse=True)  # the longest first, should one contain another
        self._pattern = re.compile("|".join(re.escape(v) for v in values)) if values else None

    def scrub(self, text: str) -> str:
        return self._pattern.sub(REDACTED, text) if self._pattern else text

    def filter(self, record: logging.LogRecord) -> bool:
        if self._pattern is None:
            return True
        record.msg = self.scrub(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = self.scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class JsonLines(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, ids, exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **current_ids(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


class TextLines(logging.Formatter):
    """`time level logger: message`, the ids appended as `[team_id=... user_id=...]` when known."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        ids = current_ids()
        if not ids:
            return text
        first, newline, rest = text.partition("\n")
        return f"{first} [{' '.join(f'{key}={value}' for key, value in ids.items())}]{newline}{rest}"


class QuietProbes(logging.Filter):
    """Leaves the probes and scrapes (every few seconds, all day) out of aiohttp's access log."""

    PATHS = ('"GET /livez ', '"GET /readyz ', '"GET /healthz ', '"GET /metrics ')

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(path in message for path in self.PATHS)


def redact_also(*secrets: str) -> None:
    """Secrets learnt after logging was configured (the signing secret kept in the database)."""
    for handler in logging.getLogger().handlers:
        for found in handler.filters:
            if isinstance(found, Redact):
                found.add(*secrets)


def formatter(kind: str) -> logging.Formatter:
    return JsonLines() if kind == "json" else TextLines()
