"""Mattermost-style identifiers and clock."""
import secrets
import threading
import time

# Mattermost ids are 26 characters of this base32 alphabet (model.NewId).
_ALPHABET = "ybndrfg8ejkmcpqxot1uwisza345h769"

_clock_lock = threading.Lock()
_last_ms = 0


def new_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(26))


def is_valid_id(value: str) -> bool:
    return isinstance(value, str) and len(value) == 26 and value.isalnum()


def now_ms() -> int:
    """Milliseconds, strictly increasing across calls.

    Post paging orders by create_at, so two posts must never share a timestamp.
    """
    global _last_ms
    with _clock_lock:
        t = int(time.time() * 1000)
        if t <= _last_ms:
            t = _last_ms + 1
        _last_ms = t
        return t
