"""A local RudderStack data plane for tests: an aiohttp server on loopback that keeps every batch."""

from __future__ import annotations

import asyncio
import gzip
import json
import threading

from aiohttp import web

from tests.loopback import LoopbackServer


class Sink:
    def __init__(self, delay: float = 0.0):
        self.delay = delay  # seconds before answering: a slow endpoint
        self.raw: list[bytes] = []  # request bodies exactly as received (decompressed)
        self.batches: list[dict] = []
        self.auth: list[str] = []
        self._lock = threading.Lock()
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
        app = web.Application()
        app.router.add_post("/v1/batch", self._batch)
        self._server = LoopbackServer(app, "telemetry-sink").start()
        self.port = self._server.port
        return self

    def stop(self) -> None:
        self._server.stop()
