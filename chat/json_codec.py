"""JSON in and out of the chat layer, through orjson: the click's answer, the request bodies and
every websocket frame are JSON, and the standard library's codec was a tenth of a click's CPU
(issue 14). orjson refuses what JSON cannot say exactly (NaN, lone surrogates: a ValueError, as
from `json.loads`), and reads a number too long for 64 bits as a float."""

from __future__ import annotations

import json
from typing import Any

import orjson

loads = orjson.loads  # str or bytes; raises orjson.JSONDecodeError, a ValueError


def dumps(payload: Any) -> bytes:
    try:
        return orjson.dumps(payload)
    except TypeError:  # what orjson does not write (an int past 64 bits, a key that is no str): as before
        return json.dumps(payload).encode()
