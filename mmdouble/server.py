"""MattermostDouble: the aiohttp server in its own thread plus a seeding API."""
import asyncio
import threading

from aiohttp import web

from . import shapes
from .app import HUB, build_app
from .state import State


class MattermostDouble:
    def __init__(self, host="127.0.0.1", port=0, *, trigger_lifetime=None, **config):
        if trigger_lifetime is not None:
            config["TriggerLifetimeSeconds"] = trigger_lifetime
        self.host = host
        self.port = port
        self.state = State(config)
        self.app = build_app(self.state)
        self.hub = self.app[HUB]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # ------------------------------------------------------------------ lifecycle
    async def start(self):
        """Start on the current event loop (for callers that already run one)."""
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        if not self.state.config["SiteURL"]:
            self.state.set_config(SiteURL=self.url)
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

    # ------------------------------------------------------------------ seeding
    def create_team(self, name, display_name, **kw):
        return self.state.create_team(name, display_name, **kw)

    def create_user(self, username, roles="system_user", is_bot=False, email=None, timezone=None, id=None,
                    **kw):
        return self.state.create_user(username, roles=roles, is_bot=is_bot, email=email, timezone=timezone,
                                      id=id, **kw)

    def create_token(self, user_id, token=None, description=""):
        return self.state.create_token(user_id, token=token, description=description)["token"]

    def add_team_member(self, team_id, user_id, admin=False):
        return self.state.add_team_member(team_id, user_id, admin=admin)

    def create_channel(self, team_id, name, display_name, type="O", creator_id=None, **kw):
        return self.state.create_channel(team_id, name, display_name, type=type, creator_id=creator_id, **kw)

    def add_channel_member(self, channel_id, user_id, admin=False):
        return self.state.add_channel_member(channel_id, user_id, admin=admin)

    def create_post(self, channel_id, user_id, message, root_id="", props=None, file_ids=None):
        """Store a post as if `user_id` had sent it (emits `posted`); handy for bulk history."""
        with self.state.lock:
            self.state.channel(channel_id)
            user = self.state.user(user_id)
            props = dict(props or {})
            if user.get("is_bot"):
                props["from_bot"] = "true"
            post = self.state.store_post({"user_id": user_id, "channel_id": channel_id, "message": message,
                                          "root_id": root_id, "props": shapes.normalize_props(props),
                                          "file_ids": list(file_ids or [])})
            return self.state.post_out(post)

    def api_calls(self, token: str) -> int:
        """How many REST calls were made with this token so far."""
        return self.state.calls_by_token[token]

    def set_config(self, **values):
        self.state.set_config(**values)

    @property
    def config(self) -> dict:
        with self.state.lock:
            return dict(self.state.config)

    # ------------------------------------------------------------------ websockets
    def drop_websockets(self, user_id=None):
        self.hub.drop(user_id)

    def block_websockets(self, seconds: float):
        self.hub.block(seconds)

    def websocket_count(self, user_id=None) -> int:
        with self.state.lock:
            return sum(1 for c in self.hub.connections if user_id is None or c.user_id == user_id)

    # ------------------------------------------------------------------ inspection
    def posts_in(self, channel_id, include_integration=False) -> list:
        """Live posts of a channel, oldest first."""
        with self.state.lock:
            posts = [self.state.posts[p] for p in self.state.channel_ids.get(channel_id, [])]
            if include_integration:
                import copy
                return [copy.deepcopy(p) for p in posts]
            return [self.state.post_out(p) for p in posts]

    def get_post(self, post_id, include_integration=False):
        with self.state.lock:
            p = self.state.posts.get(post_id)
            if p is None:
                return None
            if include_integration:
                import copy
                return copy.deepcopy(p)
            return self.state.post_out(p)

    def channel(self, channel_id):
        with self.state.lock:
            c = self.state.channels.get(channel_id)
            return dict(c) if c else None

    def channel_by_name(self, team_id, name):
        with self.state.lock:
            return next((dict(c) for c in self.state.channels.values()
                         if c["team_id"] == team_id and c["name"] == name), None)

    def channel_members(self, channel_id) -> list[str]:
        return self.state.channel_member_ids(channel_id)

    def user_by_name(self, username):
        with self.state.lock:
            uid = self.state.usernames.get(username)
            return shapes.user_json(self.state.users[uid], is_self=True) if uid else None

    def commands(self, team_id=None) -> list:
        with self.state.lock:
            return [shapes.command_json(c) for c in self.state.commands.values()
                    if not c["delete_at"] and (team_id is None or c["team_id"] == team_id)]
