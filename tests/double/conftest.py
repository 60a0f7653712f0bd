"""A seeded double per test: team ops, admin/alice/bob and the bot, a town-square."""
import asyncio
import json

import pytest
from aiohttp import web

from mmdouble.seeding import add_person
from mmdouble.testing import SimUser
from tests.loopback import LoopbackServer, catch_all


class World:
    def __init__(self, double):
        self.d = double
        self.team = double.create_team("ops", "Ops")
        self.town = double.create_channel(self.team["id"], "town-square", "Town Square")
        self.users, self.tokens = {}, {}
        for name, roles, bot in (("admin", "system_user system_admin", False), ("alice", "system_user", False),
                                 ("bob", "system_user", False), ("incident", "system_user system_admin", True)):
            self.users[name], self.tokens[name] = add_person(double, self.team["id"], name, roles=roles, is_bot=bot,
                                                             team_admin=name == "admin", channels=[self.town["id"]])
        self._sims = []

    def sim(self, name) -> SimUser:
        s = SimUser(self.d.url, self.tokens[name])
        self._sims.append(s)
        return s

    def close(self):
        for s in self._sims:
            s.close()


@pytest.fixture
def world(mm_double):
    w = World(mm_double)
    yield w
    w.close()


class Integration:
    """A loopback integration whose handler is a plain function(path, headers, body) -> (status, obj)."""

    def __init__(self, handler):
        self.handler = handler
        self.requests = []
        self.url = ""

    async def _handle(self, request):
        raw = await request.read()
        form = dict(await request.post()) if request.content_type == "application/x-www-form-urlencoded" else None
        body = form if form is not None else (json.loads(raw) if raw else None)
        self.requests.append({"path": request.path, "headers": dict(request.headers), "body": body})
        status, obj = await asyncio.get_running_loop().run_in_executor(
            None, self.handler, request.path, dict(request.headers), body)
        if isinstance(obj, str):
            return web.Response(status=status, text=obj)
        return web.Response(status=status, body=json.dumps(obj).encode(), headers={"Content-Type": "application/json"})

    def start(self):
        self._server = LoopbackServer(catch_all(self._handle), "double-integration").start()
        self.url = self._server.url
        return self

    def stop(self):
        self._server.stop()


@pytest.fixture
def integration():
    holder = {}

    def make(handler):
        holder["i"] = Integration(handler).start()
        return holder["i"]
    yield make
    if "i" in holder:
        holder["i"].stop()
