"""A chat port in memory: channels, posts and members, and Mattermost's refusals on demand.

The flows see Mattermost only through `flows.port.ChatPort`; this fake lets their tests run
in milliseconds. Error ids and statuses are the server's (see the contract recordings).
"""

from __future__ import annotations

import itertools
from typing import Any, Iterator

from flows.context import FlowContext, Links
from flows.port import ChatError

BOT = "bot-user"
CHANNEL_EXISTS = ChatError(400, "store.sql_channel.save_channel.exists.app_error", "A channel with that name already exists")


class FakeChat:
    def __init__(self) -> None:
        self.channels: dict[str, dict[str, Any]] = {}
        self.members: set[tuple[str, str]] = set()
        self.posts: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}  # profiles that differ from {"id": x, "username": x}
        self.files: dict[str, dict[str, Any]] = {}
        self.reactions: dict[str, list[dict[str, Any]]] = {}  # by post id, as GET /posts/{id}/reactions lists them
        self.config: dict[str, Any] = {"ShowEmailAddress": "true"}
        self.calls: list[str] = []
        self._refusals: dict[str, list[Exception]] = {}
        self._ids = itertools.count(1)

    @property
    def bot_user_id(self) -> str:
        return BOT

    def refuse(self, method: str, error: Exception, times: int = 1) -> None:
        """The next `times` calls of `method` fail with `error`."""
        self._refusals.setdefault(method, []).extend([error] * times)

    def _call(self, name: str) -> None:
        self.calls.append(name)
        waiting = self._refusals.get(name)
        if waiting:
            raise waiting.pop(0)

    def user(self, user_id: str) -> dict[str, Any]:
        return self.users.get(user_id) or {"id": user_id, "username": user_id}

    def team(self, team_id: str) -> dict[str, Any]:
        return {"id": team_id, "name": team_id}

    def channel(self, channel_id: str) -> dict[str, Any]:
        self._call("channel")
        return self.channels[channel_id]

    def is_channel_member(self, channel_id: str, user_id: str) -> bool:
        return (channel_id, user_id) in self.members

    def member_channel_ids(self, user_id: str, team_id: str) -> frozenset[str]:
        self._call("member_channel_ids")
        return frozenset(c for (c, u) in self.members if u == user_id and self.channels.get(c, {}).get("team_id") == team_id)

    def channel_by_name(self, team_id: str, name: str) -> dict[str, Any] | None:
        self._call("channel_by_name")
        return next((c for c in self.channels.values() if c["team_id"] == team_id and c["name"] == name), None)

    def create_channel(self, team_id: str, name: str, display_name: str, private: bool, purpose: str = "",
                       header: str = "") -> dict[str, Any]:
        self._call("create_channel")
        if any(c["name"] == name and c["team_id"] == team_id for c in self.channels.values()):
            raise CHANNEL_EXISTS
        channel = {"id": f"ch{next(self._ids)}", "team_id": team_id, "name": name, "display_name": display_name,
                   "type": "P" if private else "O", "delete_at": 0, "purpose": purpose, "creator_id": BOT}
        self.channels[channel["id"]] = channel
        return channel

    def add_member(self, channel_id: str, user_id: str) -> None:
        self._call("add_member")
        self.members.add((channel_id, user_id))

    def archive_channel(self, channel_id: str) -> None:
        self._call("archive_channel")
        self.channels[channel_id]["delete_at"] = 1

    def restore_channel(self, channel_id: str) -> dict[str, Any]:
        self._call("restore_channel")
        self.channels[channel_id]["delete_at"] = 0
        return self.channels[channel_id]

    def post(self, channel_id: str, message: str, props: dict[str, Any] | None = None, root_id: str = "",
             file_ids: list[str] | None = None) -> dict[str, Any]:
        self._call("post")
        post = {"id": f"p{next(self._ids)}", "channel_id": channel_id, "message": message, "props": props or {},
                "user_id": BOT}
        self.posts[post["id"]] = post
        return post

    def upload(self, channel_id: str, upload: Any) -> dict[str, Any]:
        self._call("upload")
        file = {"id": f"f{next(self._ids)}", "name": upload.name, "content": upload.content}
        self.files[file["id"]] = file
        return file

    def direct_message(self, user_id: str, message: str, props: dict[str, Any] | None = None, uploads: Any = ()) -> dict[str, Any]:
        self._call("direct_message")
        files = [self.upload(f"dm-{user_id}", upload)["id"] for upload in uploads]
        post = {"id": f"p{next(self._ids)}", "channel_id": f"dm-{user_id}", "message": message, "props": props or {},
                "user_id": BOT, "file_ids": files}
        self.posts[post["id"]] = post
        return post

    def get_post(self, post_id: str) -> dict[str, Any]:
        self._call("get_post")
        if post_id not in self.posts:
            raise ChatError(404, "app.post.get.app_error", "not found")  # what the server answers (a recording: ephemeral_actions.json)
        return self.posts[post_id]

    def patch_post(self, post_id: str, message: str | None = None, props: dict[str, Any] | None = None) -> dict[str, Any]:
        self._call("patch_post")
        if self.channels.get(self.posts[post_id]["channel_id"], {}).get("delete_at"):  # a DM has no entry
            raise ChatError(400, "api.post.patch_post.can_not_update_post_in_deleted.error", "archived channel")
        if message is not None:
            self.posts[post_id]["message"] = message
        if props is not None:
            self.posts[post_id]["props"] = props
        return self.posts[post_id]

    def delete_post(self, post_id: str) -> None:
        self._call("delete_post")
        self.posts.pop(post_id)

    def channel_post_pages(self, channel_id: str, per_page: int = 200) -> Iterator[list[dict[str, Any]]]:
        self._call("channel_post_pages")
        newest_first = [p for p in reversed(list(self.posts.values())) if p["channel_id"] == channel_id]
        for start in range(0, len(newest_first), per_page):
            self._call("channel_posts")
            yield newest_first[start:start + per_page]

    def client_config(self) -> dict[str, Any]:
        return dict(self.config)

    # ---- catching up (flows/missed_events.py): posts carry `create_at`/`update_at` there ----------
    def bot_channels(self) -> list[dict[str, Any]]:
        self._call("bot_channels")
        return [c for c in self.channels.values() if (c["id"], BOT) in self.members and not c.get("delete_at")]

    def posts_since(self, channel_id: str, since_ms: int) -> list[dict[str, Any]]:
        self._call("posts_since")
        changed = [p for p in self.posts.values() if p["channel_id"] == channel_id and p.get("update_at", 0) >= since_ms]
        return sorted(changed, key=lambda p: p.get("create_at", 0))

    def post_reactions(self, post_id: str) -> list[dict[str, Any]]:
        self._call("post_reactions")
        return list(self.reactions.get(post_id, []))

    # ---- what tests look at ------------------------------------------------------------
    def messages(self, channel_id: str) -> list[str]:
        return [p["message"] for p in self.posts.values() if p["channel_id"] == channel_id]


def flow_context(chat: FakeChat) -> FlowContext:
    return FlowContext(chat, Links(sign=lambda payload: {**payload, "sig": "test"}, action_url="http://bot/hooks/action",
                                   dialog_url="http://bot/hooks/dialog", site_url="http://mm"))
