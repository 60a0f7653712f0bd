"""MattermostDouble: the aiohttp server in its own thread, with seeding and inspection."""
import asyncio
import threading

from aiohttp import web

from .app import build_app
from .rules import Rules
from .seeding import SEEDS, Seeding
from .store import Store
from .transport import HUB


class MattermostDouble(Seeding):
    def __init__(self, host="127.0.0.1", port=0, *, trigger_lifetime=None, **config):
        if trigger_lifetime is not None:
            config["TriggerLifetimeSeconds"] = trigger_lifetime
        self.host = host
        self.port = port
        self.rules = Rules(Store.configured(config))
        self.app = build_app(self.rules)
        self.hub = self.app[HUB]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def state(self) -> Store:
        """The records, for a test that sets what no API can: hold `state.lock` while at it."""
        return self.rules.store

    # ------------------------------------------------------------------ lifecycle
    async def start(self):
        """Start on the current event loop (for callers that already run one)."""
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        if not self.rules.config()["SiteURL"]:
            self.rules.set_config(SiteURL=self.url)
        self._loop = asyncio.get_running_loop()

    async def shutdown(self):
        for conn in list(self.hub.connections):
            await conn.ws.close()
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    def start_in_thread(self):
        ready = threading.Event()
        failure = []

        def run():
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except Exception as exc:  # surfaced to the caller below
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.shutdown())
            loop.close()

        self._thread = threading.Thread(target=run, name="mmdouble", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    def stop(self):
        if self._loop and self._thread:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._thread = None

    def __enter__(self):
        return self.start_in_thread()

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------------ seeding (see Seeding)
    def _seed(self, path: str, **args) -> dict:
        return SEEDS[path].apply(self.rules, args)

    def set_config(self, **values):
        self.rules.set_config(**values)

    @property
    def config(self) -> dict:
        return self.rules.config()

    def api_calls(self, token: str) -> int:
        """How many REST calls were made with this token so far."""
        return self.rules.api_calls(token)

    # ------------------------------------------------------------------ websockets
    def drop_websockets(self, user_id=None):
        self.hub.drop(user_id)

    def block_websockets(self, seconds: float):
        self.hub.block(seconds)

    def websocket_count(self, user_id=None) -> int:
        return sum(1 for c in list(self.hub.connections) if user_id is None or c.user_id == user_id)

    # ------------------------------------------------------------------ inspection
    def posts_in(self, channel_id, include_integration=False) -> list:
        """Live posts of a channel, oldest first."""
        return self.rules.posts_in(channel_id, include_integration)

    def get_post(self, post_id, include_integration=False):
        return self.rules.stored_post(post_id, include_integration)

    def channel(self, channel_id):
        return self.rules.stored_channel(channel_id)

    def channel_by_name(self, team_id, name):
        return self.rules.stored_channel_by_name(team_id, name)

    def channel_members(self, channel_id) -> list[str]:
        return self.rules.channel_member_ids(channel_id)

    def user_by_name(self, username):
        return self.rules.user_by_name(username)

    def commands(self, team_id=None) -> list:
        return self.rules.commands(team_id)
