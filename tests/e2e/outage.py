"""A TCP proxy in front of a server that can go down and come back, as a restarting PostgreSQL does.

While `down`, every connection through it is reset and every new one is reset as soon as it is
accepted: the client sees "server closed the connection unexpectedly" at once, not a hang.
"""

from __future__ import annotations

import asyncio
import threading


class OutageProxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.down = threading.Event()
        self._flows: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.port = 0
        self._thread = threading.Thread(target=self._run, name="outage-proxy", daemon=True)
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
        if self.down.is_set():
            client_writer.transport.abort()
            return
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        self._flows.update((client_writer, server_writer))
        await asyncio.gather(self._pump(client_reader, server_writer), self._pump(server_reader, client_writer),
                             return_exceptions=True)
        for writer in (client_writer, server_writer):
            self._flows.discard(writer)
            writer.close()

    @staticmethod
    async def _pump(reader, writer) -> None:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()

    def go_down(self) -> None:
        def reset() -> None:
            self.down.set()
            for writer in list(self._flows):
                writer.transport.abort()
            self._flows.clear()

        self._loop.call_soon_threadsafe(reset)

    def come_back(self) -> None:
        self._loop.call_soon_threadsafe(self.down.clear)

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
