"""Every REST call the bot makes to Mattermost goes through here.

It rides on the bot driver's own HTTP client (mattermostautodriver's pooled httpx client and
token) but keeps what the driver's exceptions throw away: the status code and Mattermost's
error id (`store.sql_channel.save_channel.exists.app_error`, ...), which the plugins need to
tell a person what happened. Answers about who may do what are cached briefly, because the
server, not the bot, is the source of truth for roles and memberships.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

import httpx

from chat import json_codec, metrics
from flows.port import ChatError, Upload

if TYPE_CHECKING:
    from mmpy_bot.driver import Driver

log = logging.getLogger("incident.mattermost")

CACHE_SECONDS = 30.0
MAX_CACHED = 10_000
USERNAME = re.compile(r"[a-z0-9._-]{1,64}")
CHANNEL_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


class MattermostError(ChatError):
    """What the server answered, when it was not a success (the port's error, from here)."""


class _TTLCache:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self._values: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self._swept_at = time.monotonic()

    def get(self, key: Any, compute: Callable[[], Any]) -> Any:
        now = time.monotonic()
        with self._lock:
            hit = self._values.get(key)
            if hit and now - hit[0] < self.seconds:
                return hit[1]
        value = compute()
        self.put(key, value)
        return value

    def peek(self, key: Any) -> Any:
        with self._lock:
            hit = self._values.get(key)
        return hit[1] if hit and time.monotonic() - hit[0] < self.seconds else None

    def put(self, key: Any, value: Any) -> None:
        now = time.monotonic()
        with self._lock:
            # what expired goes once a lifetime (and when full): the cache holds about what the last
            # `seconds` asked, not every channel membership since the start (bench/memory_bench.py)
            if now - self._swept_at >= self.seconds or len(self._values) >= MAX_CACHED:
                self._values = {k: v for k, v in self._values.items() if now - v[0] < self.seconds}
                self._swept_at = now
            self._values[key] = (now, value)

    def forget(self, predicate: Callable[[Any], bool]) -> None:
        with self._lock:
            for key in [k for k in self._values if predicate(k)]:
                del self._values[key]


class Mattermost:
    def __init__(self, driver: Driver, cache_seconds: float = CACHE_SECONDS) -> None:
        self._client: httpx.Client = driver.client.client
        self._base = driver.client.url + "/api/v4"
        self._driver = driver
        self._cache = _TTLCache(cache_seconds)
        self.calls = 0  # REST calls made, for the benchmarks

    @property
    def bot_user_id(self) -> str:
        return self._driver.user_id

    # ---- transport ------------------------------------------------------------------------
    def call(self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None, raw: bool = False,
             **kwargs: Any) -> Any:
        """The answer's JSON (or bytes when it is not JSON, or always with `raw=True`)."""
        self.calls += 1
        headers = {"Authorization": f"Bearer {self._driver.client.token}"}
        if json is not None:  # a checklist patch is a few kB of JSON: written by orjson (chat/json_codec.py)
            headers["Content-Type"] = "application/json"
            kwargs["content"] = json_codec.dumps(json)
        try:
            response = self._client.request(method, self._base + path, params=params, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            metrics.api_called(method, path, 0)
            raise MattermostError(0, "network", f"Mattermost could not be reached: {exc}") from None
        metrics.api_called(method, path, response.status_code)
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {}
            error_id = body.get("id", "") if isinstance(body, dict) else ""
            message = body.get("message", response.text[:200]) if isinstance(body, dict) else response.text[:200]
            log.debug("%s %s -> %s %s", method, path, response.status_code, error_id)
            raise MattermostError(response.status_code, error_id, message)
        if raw:
            return response.content
        if not response.content:
            return None
        if response.headers.get("Content-Type", "").startswith("application/json"):
            return json_codec.loads(response.content)
        return response.content

    # ---- who -------------------------------------------------------------------------------
    def me(self) -> dict[str, Any]:
        return self.call("GET", "/users/me")

    def user(self, user_id: str) -> dict[str, Any]:
        return self._cache.get(("user", user_id), lambda: self.call("GET", f"/users/{user_id}"))

    def user_by_username(self, username: str) -> dict[str, Any] | None:
        name = username.lstrip("@").lower()
        if not USERNAME.fullmatch(name):
            return None  # never let text someone typed shape the request path
        try:
            return self.call("GET", f"/users/username/{name}")
        except MattermostError as exc:
            if exc.status in (400, 404):
                return None
            raise

    def is_system_admin(self, user_id: str) -> bool:
        return "system_admin" in self.user(user_id).get("roles", "").split()

    def team_member(self, team_id: str, user_id: str) -> dict[str, Any] | None:
        """The person's membership of the team, or None if they are not (or no longer) in it."""
        def ask() -> dict[str, Any] | None:
            try:
                member = self.call("GET", f"/teams/{team_id}/members/{user_id}")
            except MattermostError as exc:
                if exc.status in (400, 403, 404):
                    return None
                raise
            return None if member.get("delete_at") else member

        return self._cache.get(("team_member", team_id, user_id), ask) if team_id and user_id else None

    def is_team_member(self, team_id: str, user_id: str) -> bool:
        return self.team_member(team_id, user_id) is not None

    def is_team_admin(self, team_id: str, user_id: str) -> bool:
        member = self.team_member(team_id, user_id)
        return member is not None and ("team_admin" in (member.get("roles") or "").split()
                                       or bool(member.get("scheme_admin")))

    def is_channel_member(self, channel_id: str, user_id: str) -> bool:
        # Only a "yes" is cached: someone just /invite-d must count at once, and a removal
        # clears the cache through the user_removed event.
        key = ("member", channel_id, user_id)
        if self._cache.peek(key):
            return True
        try:
            self.call("GET", f"/channels/{channel_id}/members/{user_id}")
        except MattermostError as exc:
            if exc.status in (403, 404):
                return False
            raise
        self._cache.put(key, True)
        return True

    def member_channel_ids(self, user_id: str, team_id: str) -> frozenset[str]:
        channels = self.call("GET", f"/users/{user_id}/teams/{team_id}/channels", params={"include_deleted": "true"})
        return frozenset(channel["id"] for channel in channels)

    def forget_membership(self, channel_id: str) -> None:
        """Called when Mattermost tells us a channel's members changed."""
        self._cache.forget(lambda key: key[0] == "member" and key[1] == channel_id)

    def forget_all_memberships(self) -> None:
        """After a reconnect: removals may have happened while we could not hear them."""
        self._cache.forget(lambda key: key[0] == "member")

    def my_teams(self) -> list[dict[str, Any]]:
        return self.call("GET", "/users/me/teams")

    def team(self, team_id: str) -> dict[str, Any]:
        return self._cache.get(("team", team_id), lambda: self.call("GET", f"/teams/{team_id}"))

    def client_config(self) -> dict[str, Any]:
        return self.call("GET", "/config/client", params={"format": "old"})

    # ---- channels ----------------------------------------------------------------------
    def channel(self, channel_id: str) -> dict[str, Any]:
        return self.call("GET", f"/channels/{channel_id}")

    def channel_by_name(self, team_id: str, name: str) -> dict[str, Any] | None:
        if not CHANNEL_NAME.fullmatch(name):
            return None  # no channel is called that; and text someone typed must not shape the request path
        try:
            return self.call("GET", f"/teams/{team_id}/channels/name/{name}", params={"include_deleted": "true"})
        except MattermostError as exc:
            if exc.status in (403, 404):
                return None
            raise

    def create_channel(self, team_id: str, name: str, display_name: str, private: bool, purpose: str = "", header: str = "") -> dict[str, Any]:
        body = {"team_id": team_id, "name": name, "display_name": display_name, "type": "P" if private else "O",
                "purpose": purpose, "header": header}
        return self.call("POST", "/channels", json=body)

    def add_member(self, channel_id: str, user_id: str) -> None:
        self.call("POST", f"/channels/{channel_id}/members", json={"user_id": user_id})
        self._cache.forget(lambda key: key == ("member", channel_id, user_id))

    def archive_channel(self, channel_id: str) -> None:
        self.call("DELETE", f"/channels/{channel_id}")

    def restore_channel(self, channel_id: str) -> dict[str, Any]:
        return self.call("POST", f"/channels/{channel_id}/restore")

    def patch_channel(self, channel_id: str, **fields: Any) -> dict[str, Any]:
        return self.call("PUT", f"/channels/{channel_id}/patch", json=fields)

    def direct_channel(self, user_id: str) -> dict[str, Any]:
        return self.call("POST", "/channels/direct", json=[self.bot_user_id, user_id])

    # ---- posts ---------------------------------------------------------------------------
    def post(self, channel_id: str, message: str, props: dict[str, Any] | None = None, root_id: str = "", file_ids: list[str] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"channel_id": channel_id, "message": message, "root_id": root_id}
        if props:
            body["props"] = props
        if file_ids:
            body["file_ids"] = file_ids
        return self.call("POST", "/posts", json=body)

    def get_post(self, post_id: str) -> dict[str, Any]:
        return self.call("GET", f"/posts/{post_id}")

    def patch_post(self, post_id: str, message: str | None = None, props: dict[str, Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if message is not None:
            body["message"] = message
        if props is not None:
            body["props"] = props
        return self.call("PUT", f"/posts/{post_id}/patch", json=body)

    def delete_post(self, post_id: str) -> None:
        self.call("DELETE", f"/posts/{post_id}")

    def ephemeral(self, channel_id: str, user_id: str, message: str, props: dict[str, Any] | None = None) -> dict[str, Any]:
        post: dict[str, Any] = {"channel_id": channel_id, "message": message}
        if props:
            post["props"] = props
        return self.call("POST", "/posts/ephemeral", json={"user_id": user_id, "post": post})

    def direct_message(self, user_id: str, message: str, props: dict[str, Any] | None = None, uploads: Sequence[Upload] = ()) -> dict[str, Any]:
        channel = self.direct_channel(user_id)
        file_ids = [self.upload(channel["id"], upload)["id"] for upload in uploads]
        return self.post(channel["id"], message, props=props, file_ids=file_ids or None)

    def upload(self, channel_id: str, upload: Upload) -> dict[str, Any]:
        answer = self.call("POST", "/files", data={"channel_id": channel_id},
                           files=[("files", (upload.name, upload.content))])
        return answer["file_infos"][0]

    def file_info(self, file_id: str) -> dict[str, Any]:
        return self.call("GET", f"/files/{file_id}/info")

    def file_content(self, file_id: str) -> bytes:
        """The bytes of an attached file, whatever its type."""
        return self.call("GET", f"/files/{file_id}", raw=True)

    def channel_posts(self, channel_id: str, page: int, per_page: int = 200) -> dict[str, Any]:
        return self.call("GET", f"/channels/{channel_id}/posts", params={"page": page, "per_page": per_page})

    def channel_post_pages(self, channel_id: str, per_page: int = 200) -> Iterator[list[dict[str, Any]]]:
        """Every post of a channel, one page at a time, newest first; memory stays one page.

        Pages are numbered from the newest post, so a post arriving meanwhile shifts the
        next page by one: posts already seen on the previous page are skipped.
        """
        previous: set[str] = set()
        page = 0
        while True:
            answer = self.channel_posts(channel_id, page, per_page) or {}
            order = answer.get("order") or []
            posts = answer.get("posts") or {}
            fresh = [posts[post_id] for post_id in order if post_id in posts and post_id not in previous]
            if fresh:
                yield fresh
            if len(order) < per_page:
                return
            previous = set(order)
            page += 1

    # ---- what a catch-up after a reconnect reads (flows/missed_events.py) ---------------------
    def bot_channels(self) -> list[dict[str, Any]]:
        # per team: this call lists the team's channels and the user's direct and group messages
        # (team_id ""), so a DM channel comes back once per team (api4 getChannelsForTeamForUser)
        seen: dict[str, dict[str, Any]] = {}
        for team in self.my_teams():
            for channel in self.call("GET", f"/users/{self.bot_user_id}/teams/{team['id']}/channels") or []:
                seen.setdefault(channel["id"], channel)
        return list(seen.values())

    def posts_since(self, channel_id: str, since_ms: int) -> list[dict[str, Any]]:
        # `since` may not be combined with paging; the server sends up to 1000 posts changed since then
        answer = self.call("GET", f"/channels/{channel_id}/posts", params={"since": since_ms}) or {}
        posts = answer.get("posts") or {}
        return sorted(posts.values(), key=lambda post: (post.get("create_at", 0), post.get("id", "")))

    def post_reactions(self, post_id: str) -> list[dict[str, Any]]:
        return self.call("GET", f"/posts/{post_id}/reactions") or []

    # ---- interactive ------------------------------------------------------------------
    def open_dialog(self, trigger_id: str, url: str, dialog: dict[str, Any]) -> None:
        self.call("POST", "/actions/dialogs/open", json={"trigger_id": trigger_id, "url": url, "dialog": dialog})

    # ---- slash commands ------------------------------------------------------------------
    def team_commands(self, team_id: str) -> list[dict[str, Any]]:
        return self.call("GET", "/commands", params={"team_id": team_id, "custom_only": "true"})

    def create_command(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.call("POST", "/commands", json=command)

    def update_command(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.call("PUT", f"/commands/{command['id']}", json=command)

    def execute_command(self, channel_id: str, team_id: str, command: str) -> dict[str, Any]:
        return self.call("POST", "/commands/execute", json={"channel_id": channel_id, "team_id": team_id, "command": command})
