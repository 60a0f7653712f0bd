"""A local RudderStack data plane for tests: an aiohttp server on loopback that keeps every batch."""

from __future__ import annotations

import asyncio
import gzip
import json
import threading

from aiohttp import web


class Sink:
    def __init__(self, delay: float = 0.0):
        self.delay = delay  # seconds before answering: a slow endpoint
        self.raw: list[bytes] = []  # request bodies exactly as received (decompressed)
        self.batches: list[dict] = []
        self.auth: list[str] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _batch(self, request: web.Request) -> web.Response:
        body = await request.read()  # aiohttp already undoes Content-Encoding: gzip
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        with self._lock:
            self.raw.append(body)
            self.batches.append(json.loads(body))
            self.auth.append(request.headers.get("Authorization", ""))
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.json_response({})

    def events(self) -> list[dict]:
        with self._lock:
            return [event for batch in self.batches for event in batch.get("batch", [])]

    def bytes(self) -> bytes:
        with self._lock:
            return b"\n".join(self.raw)

    def start(self) -> "Sink":
        started = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            app = web.Application()
            app.router.add_post("/v1/batch", self._batch)
            self._runner = web.AppRunner(app)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]
            started.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="telemetry-sink", daemon=True)
        self._thread.start()
        started.wait(10)
        return self

    def stop(self) -> None:
        if self._loop:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
