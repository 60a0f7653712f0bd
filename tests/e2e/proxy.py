"""A TCP proxy on loopback, on a thread and event loop of its own, for tests that break the network.

Subclasses say what breaks: `_refuse_new()` turns new connections away, `_swallow()` drops the
bytes of open ones, `_reset_flows()` resets every open connection.
"""

from __future__ import annotations

import asyncio
import threading


class LoopbackProxy:
    def __init__(self, target_host: str, target_port: int, name: str = "proxy"):
        self.target = (target_host, target_port)
        self._flows: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.port = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        self._ready.wait(5)

    # ---- what breaks (subclasses) ------------------------------------------------------------
    def _refuse_new(self) -> bool:
        return False

    def _swallow(self) -> bool:
        return False

    def _unreachable(self, client_writer: asyncio.StreamWriter) -> None:
        """The target did not answer: what the client sees."""
        client_writer.close()

    def _reset_flows(self) -> None:
        """On the proxy's loop: reset every open connection."""
        for writer in list(self._flows):
            writer.transport.abort()
        self._flows.clear()

    # ---- the proxy --------------------------------------------------------------------------
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
        if self._refuse_new():
            client_writer.transport.abort()
            return
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            self._unreachable(client_writer)
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
            if self._swallow():
                continue
            writer.write(data)
            await writer.drain()

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
