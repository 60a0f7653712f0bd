"""The event loops of the chat layer: uvloop's where it runs (Linux, macOS), asyncio's otherwise.

Two loops carry every request: the callback server's and the websocket's. asyncio's own loop
spent a large part of a click's CPU waking up and moving bytes (issue 14); uvloop does the same
work in C.
"""

from __future__ import annotations

import asyncio
from typing import Callable

_new_event_loop: Callable[[], asyncio.AbstractEventLoop]
try:
    from uvloop import new_event_loop as _new_event_loop
except ImportError:  # Windows: no uvloop, the standard loop does the same work
    _new_event_loop = asyncio.new_event_loop


def new_loop() -> asyncio.AbstractEventLoop:
    return _new_event_loop()


def use_new_loop_here() -> asyncio.AbstractEventLoop:
    """A new loop for the calling thread, for code that asks `asyncio.get_event_loop()` (the driver's websocket)."""
    loop = new_loop()
    asyncio.set_event_loop(loop)
    return loop
