"""An aiohttp app served on a loopback port from its own thread, for test integrations and sinks."""

from __future__ import annotations

import asyncio
import threading

from aiohttp import web


class LoopbackServer:
    def __init__(self, app: web.Application, name: str = "loopback-server"):
        self.app = app
        self.name = name
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "LoopbackServer":
        started = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            runner = web.AppRunner(self.app, access_log=None)
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]
            started.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name=self.name, daemon=True)
        self._thread.start()
        started.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)


def catch_all(handler) -> web.Application:
    """An app that sends every request, whatever its method and path, to `handler`."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return app
