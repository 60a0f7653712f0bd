"""Everything the double knows, as plain records: users, teams, channels, members, posts, ...

No rules and no HTTP here.  `mmdouble.rules` decides what may change and holds `lock`
for every read and write; code outside the rules (a test that sets a field no API
can set) must hold it too.
"""
import bisect
import collections
import threading
from dataclasses import dataclass, field

from .config import DEFAULT_CONFIG
from .ids import new_id


def _table():
    return field(default_factory=dict)


@dataclass(eq=False, repr=False)
class Store:
    config: dict = field(default_factory=dict)
    # Re-entrant: one rule calls another, and the websocket hub asks who gets an event
    # while the rule that published it still holds the lock.
    lock: object = field(default_factory=threading.RLock)
    calls_by_token: collections.Counter = field(default_factory=collections.Counter)  # REST calls, for benchmarks
    users: dict[str, dict] = _table()
    usernames: dict[str, str] = _table()  # username -> user id
    tokens: dict[str, str] = _table()  # token -> user id
    token_records: dict[str, dict] = _table()
    teams: dict[str, dict] = _table()
    team_members: dict[str, dict[str, dict]] = _table()  # team id -> user id -> member
    channels: dict[str, dict] = _table()
    channel_members: dict[str, dict[str, dict]] = _table()  # channel id -> user id -> member
    posts: dict[str, dict] = _table()
    # Per channel, live posts sorted by create_at: parallel lists for bisect paging.
    channel_times: dict[str, list[int]] = _table()
    channel_ids: dict[str, list[str]] = _table()
    # Per channel, every post ever created there (for ?since=, which includes deletions).
    channel_history: dict[str, list[str]] = _table()
    replies: dict[str, list[str]] = _table()  # root post id -> reply ids, oldest first
    reactions: dict[str, list[dict]] = _table()
    files: dict[str, dict] = _table()  # file id -> {"info": ..., "data": bytes}
    commands: dict[str, dict] = _table()
    command_hooks: dict[str, dict] = _table()
    cookies: dict[str, dict] = _table()  # ephemeral action cookie -> the action it stands for

    @classmethod
    def configured(cls, overrides: dict | None = None) -> "Store":
        config = dict(DEFAULT_CONFIG, DiagnosticId=new_id())
        config.update(overrides or {})
        return cls(config=config)

    def add_team(self, team: dict) -> None:
        self.teams[team["id"]] = team
        self.team_members.setdefault(team["id"], {})

    def add_user(self, user: dict) -> None:
        self.users[user["id"]] = user
        self.usernames[user["username"]] = user["id"]

    def add_channel(self, chan: dict) -> None:
        cid = chan["id"]
        self.channels[cid] = chan
        self.channel_members[cid] = {}
        self.channel_times[cid] = []
        self.channel_ids[cid] = []
        self.channel_history[cid] = []

    def add_post(self, post: dict) -> None:
        """Index a new post; its create_at must be later than every other post's (ids.now_ms)."""
        cid = post["channel_id"]
        self.posts[post["id"]] = post
        self.channel_times[cid].append(post["create_at"])
        self.channel_ids[cid].append(post["id"])
        self.channel_history[cid].append(post["id"])
        if post["root_id"]:
            self.replies.setdefault(post["root_id"], []).append(post["id"])

    def unlist_post(self, post: dict) -> None:
        """Take a deleted post out of its channel's paging lists (it stays in posts and history)."""
        cid = post["channel_id"]
        times, ids = self.channel_times[cid], self.channel_ids[cid]
        i = bisect.bisect_left(times, post["create_at"])
        while i < len(ids) and ids[i] != post["id"]:
            i += 1
        if i < len(ids):
            del times[i]
            del ids[i]
