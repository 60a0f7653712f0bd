"""A double seeded with the recording's own users/team, plus a loopback integration that
answers the way each recorded `inbound` entry says."""
import collections
import json
from pathlib import Path

import pytest
from aiohttp import web

from mmdouble import MattermostDouble
from mmdouble.seeding import add_person
from mmdouble.testing import SimUser
from tests.loopback import LoopbackServer, catch_all

# The real-server recordings live beside the repository (X/main and X/shared, locally and in CI);
# they are read in place so there is no copy to drift out of sync.
RECORDINGS = Path(__file__).resolve().parents[2].parent / "shared" / "mattermost-contract"
TEAM_ID = "u4b11czrs3brbbuqe4m3jskahr"
USERS = {
    "admin": dict(id="b5zo6x35q3btmrtmnqbg11r1ch", roles="system_user system_admin", email="admin@example.com"),
    "alice": dict(id="3m6g3fsbuiddfbi6kykw9ncfqc"),
    "bob": dict(id="81qb6hy9mby4tqg7m6a1y1chae"),
    "bot": dict(id="owxdh6t5xtg37keun9jznzs7yw", is_bot=True, first_name="Incident Bot",
                bot_description="incident response"),
}
USERNAMES = {"admin": "admin", "alice": "alice", "bob": "bob", "bot": "incident"}
RECORDED_INTEGRATION = "http://127.0.0.1:8099"


class Integration:
    """Answers queued per path; records what the double sent."""

    def __init__(self):
        self.answers = collections.defaultdict(collections.deque)
        self.received = []
        self.url = ""

    async def _handle(self, request):
        body = await request.read()
        self.received.append({"method": request.method, "path": request.path, "headers": dict(request.headers),
                              "content_type": request.content_type, "body": body,
                              "form": dict(await request.post()) if request.content_type ==
                              "application/x-www-form-urlencoded" else None})
        queue = self.answers[request.path]
        status, payload = queue.popleft() if queue else (200, {})
        if payload == "" or payload is None:
            return web.Response(status=status, body=b"", headers={"Content-Type": "application/json"})
        if isinstance(payload, str):
            return web.Response(status=status, text=payload)
        return web.Response(status=status, body=json.dumps(payload).encode(),
                            headers={"Content-Type": "application/json"})

    def start(self):
        self._server = LoopbackServer(catch_all(self._handle), "contract-integration").start()
        self.url = self._server.url
        return self

    def stop(self):
        self._server.stop()


class World:
    def __init__(self):
        self.integration = Integration().start()
        # Short trigger lifetime keeps the "expired trigger" replay fast.
        self.double = MattermostDouble(trigger_lifetime=1.0).start_in_thread()
        d = self.double
        d.create_team("ops", "Ops", id=TEAM_ID)
        self.tokens, self.clients = {}, {}
        for who, spec in USERS.items():
            _, self.tokens[who] = add_person(d, TEAM_ID, USERNAMES[who], team_admin=who == "admin", **spec)
        for who in USERS:
            self.clients[who] = SimUser(d.url, self.tokens[who])
        self.ids = {RECORDED_INTEGRATION: self.integration.url, "http://127.0.0.1:8065": d.url}

    def close(self):
        for c in self.clients.values():
            c.close()
        self.double.stop()
        self.integration.stop()


@pytest.fixture(scope="session")
def recordings() -> Path:
    """The recordings folder; a missing one is a failure, never a silent skip."""
    if not (RECORDINGS / "setup.json").is_file():
        pytest.fail(f"Mattermost contract recordings not found at {RECORDINGS}: the contract tests read them "
                    f"from the 'shared/mattermost-contract' folder beside the repository checkout "
                    f"(<X>/main next to <X>/shared); check it out there.", pytrace=False)
    return RECORDINGS


@pytest.fixture(scope="module")
def world(recordings):
    w = World()
    yield w
    w.close()
