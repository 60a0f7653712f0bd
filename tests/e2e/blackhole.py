"""A TCP proxy that can go silent without closing anything: a dead network path.

Between the bot and the double it forwards bytes both ways until `go_silent()`; from then
on it swallows everything in both directions and keeps every socket open, which is what a
broken NAT or load balancer does. `recover()` resets the flows that crossed the outage (as a
NAT that lost its table answers them) and forwards again.
"""

from __future__ import annotations

import asyncio
import threading


class BlackHoleProxy:
    def __init__(self, target_port: int):
        self.target_port = target_port
        self.silent = threading.Event()
        self._flows: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.port = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._accept, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    async def _accept(self, client_reader, client_writer) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_writer.close()
            return
        self._flows.update((client_writer, server_writer))
        await asyncio.gather(self._pump(client_reader, server_writer), self._pump(server_reader, client_writer),
                             return_exceptions=True)
        for writer in (client_writer, server_writer):
            self._flows.discard(writer)
            writer.close()

    async def _pump(self, reader, writer) -> None:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if self.silent.is_set():
                continue  # swallowed: nothing arrives, nothing is closed
            writer.write(data)
            await writer.drain()

    def go_silent(self) -> None:
        self.silent.set()

    def recover(self) -> None:
        def reset() -> None:
            for writer in list(self._flows):
                writer.transport.abort()
            self._flows.clear()
            self.silent.clear()

        self._loop.call_soon_threadsafe(reset)

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
