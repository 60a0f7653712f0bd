"""A TCP proxy in front of a server that can go down and come back, as a restarting PostgreSQL does.

While `down`, every connection through it is reset and every new one is reset as soon as it is
accepted: the client sees "server closed the connection unexpectedly" at once, not a hang.
"""

from __future__ import annotations

import asyncio
import threading

from tests.e2e.proxy import LoopbackProxy


class OutageProxy(LoopbackProxy):
    def __init__(self, target_host: str, target_port: int):
        self.down = threading.Event()
        super().__init__(target_host, target_port, name="outage-proxy")

    def _refuse_new(self) -> bool:
        return self.down.is_set()

    def _unreachable(self, client_writer: asyncio.StreamWriter) -> None:
        client_writer.transport.abort()

    def go_down(self) -> None:
        def reset() -> None:
            self.down.set()
            self._reset_flows()

        self._loop.call_soon_threadsafe(reset)

    def come_back(self) -> None:
        self._loop.call_soon_threadsafe(self.down.clear)
