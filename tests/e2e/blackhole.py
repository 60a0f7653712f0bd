"""A TCP proxy that can go silent without closing anything: a dead network path.

Between the bot and the double it forwards bytes both ways until `go_silent()`; from then
on it swallows everything in both directions and keeps every socket open, which is what a
broken NAT or load balancer does. `recover()` resets the flows that crossed the outage (as a
NAT that lost its table answers them) and forwards again.
"""

from __future__ import annotations

import threading

from tests.e2e.proxy import LoopbackProxy


class BlackHoleProxy(LoopbackProxy):
    def __init__(self, target_port: int):
        self.silent = threading.Event()
        super().__init__("127.0.0.1", target_port, name="blackhole-proxy")

    def _swallow(self) -> bool:
        return self.silent.is_set()  # nothing arrives, nothing is closed

    def go_silent(self) -> None:
        self.silent.set()

    def recover(self) -> None:
        def reset() -> None:
            self._reset_flows()
            self.silent.clear()

        self._loop.call_soon_threadsafe(reset)
