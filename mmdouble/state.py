"""In-memory store of the double: users, teams, channels, posts, commands ...

Every public method takes the store lock, so seeding from test threads and HTTP
handlers on the server loop never interleave halfway.  Methods that change what
clients can see also publish the websocket events the real server would send.
"""
import bisect
import copy
import re
import collections
import threading

from . import shapes
from .errors import AppError, forbidden
from .ids import new_id, now_ms

VERSION = "5.37.0"
CONFIG_HASH = "7ced5e0ed79b116bf58ffe00e720903c"

DEFAULT_CONFIG = {
    "EnableCommands": True,
    # Tests run integrations on loopback, so allow it unless told otherwise.
    "AllowedUntrustedInternalConnections": "127.0.0.1/8 ::1 localhost",
    "TriggerLifetimeSeconds": 3.0,
    "OutgoingIntegrationRequestsTimeout": 30.0,
    "DiagnosticsEnabled": False,
    "DiagnosticId": "",
    "EnablePostUsernameOverride": True,
    "EnablePostIconOverride": True,
    "MaxPostSize": 16383,
    "WebsocketHeartbeatSeconds": 30.0,
    "SiteURL": "",
    "ShowEmailAddress": True,  # PrivacySettings; the server's default
}

_MENTION_RE = re.compile(r"@([a-z0-9.\-_]+)", re.IGNORECASE)


class State:
    def __init__(self, config: dict | None = None):
        self.lock = threading.RLock()
        self.calls_by_token: collections.Counter = collections.Counter()  # REST calls, for benchmarks
        self.config = dict(DEFAULT_CONFIG)
        self.config["DiagnosticId"] = new_id()
        if config:
            self.config.update(config)
        self.users: dict[str, dict] = {}
        self.usernames: dict[str, str] = {}
        self.tokens: dict[str, str] = {}
        self.token_records: dict[str, dict] = {}
        self.teams: dict[str, dict] = {}
        self.team_members: dict[str, dict[str, dict]] = {}
        self.channels: dict[str, dict] = {}
        self.channel_members: dict[str, dict[str, dict]] = {}
        self.posts: dict[str, dict] = {}
        # Per channel, live posts sorted by create_at: parallel lists for bisect paging.
        self.channel_times: dict[str, list[int]] = {}
        self.channel_ids: dict[str, list[str]] = {}
        # Per channel, every post ever created there (for ?since=, which includes deletions).
        self.channel_history: dict[str, list[str]] = {}
        self.replies: dict[str, list[str]] = {}
        self.reactions: dict[str, list[dict]] = {}
        self.files: dict[str, dict] = {}
        self.commands: dict[str, dict] = {}
        self.command_hooks: dict[str, dict] = {}
        self.cookies: dict[str, dict] = {}
        self.publish = lambda *a, **k: None  # replaced by the websocket hub
        self.has_listeners = lambda: False

    # ------------------------------------------------------------------ config
    def count_call(self, token: str) -> None:
        with self.lock:
            self.calls_by_token[token] += 1

    def set_config(self, **values):
        with self.lock:
            unknown = set(values) - set(self.config)
            if unknown:
                raise KeyError(f"unknown config keys: {sorted(unknown)}")
            self.config.update(values)

    def server_version(self) -> str:
        return f"{VERSION}..{CONFIG_HASH}.false"

    # ------------------------------------------------------------------ seeding
    def create_team(self, name, display_name, *, id=None, type="O", email="admin@example.com"):
        with self.lock:
            t = now_ms()
            team = {
                "id": id or new_id(), "create_at": t, "update_at": t, "delete_at": 0,
                "display_name": display_name, "name": name, "description": "", "email": email,
                "type": type, "company_name": "", "allowed_domains": "", "invite_id": new_id(),
                "allow_open_invite": False, "scheme_id": None, "group_constrained": None,
                "policy_id": None,
            }
            self.teams[team["id"]] = team
            self.team_members.setdefault(team["id"], {})
            return copy.deepcopy(team)

    def create_user(self, username, *, roles="system_user", is_bot=False, email=None,
                    timezone=None, id=None, first_name="", last_name="", nickname="",
                    bot_description=""):
        with self.lock:
            if username in self.usernames:
                raise ValueError(f"username {username!r} already exists")
            t = now_ms()
            user = {
                "id": id or new_id(), "create_at": t, "update_at": t, "delete_at": 0,
                "username": username,
                "email": email or (f"{username}@localhost" if is_bot else f"{username}@example.com"),
                "roles": roles, "is_bot": is_bot, "bot_description": bot_description,
                "first_name": first_name, "last_name": last_name, "nickname": nickname,
                "position": "", "timezone": timezone or dict(shapes.DEFAULT_TIMEZONE),
            }
            self.users[user["id"]] = user
            self.usernames[username] = user["id"]
            return shapes.user_json(user, is_self=True)

    def create_token(self, user_id, *, token=None, description=""):
        with self.lock:
            self.user(user_id)
            record = {"id": new_id(), "token": token or new_id(), "user_id": user_id,
                      "description": description, "is_active": True}
            self.tokens[record["token"]] = user_id
            self.token_records[record["id"]] = record
            return record

    def add_team_member(self, team_id, user_id, *, admin=False):
        with self.lock:
            self.team(team_id)
            self.user(user_id)
            members = self.team_members[team_id]
            if user_id not in members:
                members[user_id] = {"team_id": team_id, "user_id": user_id, "admin": admin}
            elif admin:
                members[user_id]["admin"] = True
            return shapes.team_member_json(members[user_id])

    def create_channel(self, team_id, name, display_name, *, type="O", creator_id=None, id=None,
                       header="", purpose=""):
        with self.lock:
            t = now_ms()
            chan = {
                "id": id or new_id(), "create_at": t, "update_at": t, "delete_at": 0,
                "team_id": team_id, "type": type, "display_name": display_name, "name": name,
                "header": header, "purpose": purpose, "last_post_at": 0, "total_msg_count": 0,
                "extra_update_at": 0, "creator_id": creator_id or "", "scheme_id": None,
                "props": None, "group_constrained": None,
                "shared": False if type in ("D", "G") else None,
                "total_msg_count_root": 0, "policy_id": None,
            }
            self.channels[chan["id"]] = chan
            self.channel_members[chan["id"]] = {}
            self.channel_times[chan["id"]] = []
            self.channel_ids[chan["id"]] = []
            self.channel_history[chan["id"]] = []
            if creator_id:
                self.add_channel_member(chan["id"], creator_id, admin=type not in ("D", "G"))
            return copy.deepcopy(chan)

    def add_channel_member(self, channel_id, user_id, *, admin=False):
        with self.lock:
            self.channel(channel_id)
            self.user(user_id)
            members = self.channel_members[channel_id]
            if user_id not in members:
                members[user_id] = {"channel_id": channel_id, "user_id": user_id, "admin": admin,
                                    "last_update_at": now_ms()}
            return shapes.channel_member_json(members[user_id])

    # ------------------------------------------------------------------ lookups
    def user(self, user_id) -> dict:
        u = self.users.get(user_id)
        if u is None:
            raise AppError(404, "app.user.missing_account.const", f"resource: User id: {user_id}")
        return u

    def user_by_token(self, token):
        with self.lock:
            uid = self.tokens.get(token)
            return self.users.get(uid) if uid else None

    def team(self, team_id) -> dict:
        t = self.teams.get(team_id)
        if t is None:
            raise AppError(404, "app.team.get.find.app_error", f"resource: Team id: {team_id}")
        return t

    def channel(self, channel_id) -> dict:
        c = self.channels.get(channel_id)
        if c is None:
            raise AppError(404, "app.channel.get.existing.app_error", f"resource: Channel id: {channel_id}")
        return c

    def post(self, post_id) -> dict:
        p = self.posts.get(post_id)
        if p is None or p.get("delete_at"):
            raise AppError(404, "app.post.get.app_error", f"resource: Post id: {post_id}")
        return p

    # ------------------------------------------------------------------ permissions
    def is_sysadmin(self, user_id) -> bool:
        u = self.users.get(user_id)
        return bool(u and "system_admin" in u["roles"].split())

    def is_team_member(self, team_id, user_id) -> bool:
        return user_id in self.team_members.get(team_id, {})

    def is_team_admin(self, team_id, user_id) -> bool:
        m = self.team_members.get(team_id, {}).get(user_id)
        return bool(m and m.get("admin")) or self.is_sysadmin(user_id)

    def is_member(self, channel_id, user_id) -> bool:
        return user_id in self.channel_members.get(channel_id, {})

    def require_read_channel(self, channel_id, user_id):
        """read_channel as the server checks it for posts and actions: members only."""
        if not (self.is_member(channel_id, user_id) or self.is_sysadmin(user_id)):
            raise forbidden(user_id, "read_channel")

    def can_view_channel(self, chan, user_id) -> bool:
        """GET /channels/{id}: public channels are readable by team members too."""
        if self.is_member(chan["id"], user_id) or self.is_sysadmin(user_id):
            return True
        return chan["type"] == "O" and self.is_team_member(chan["team_id"], user_id)

    # ------------------------------------------------------------------ posts
    def reply_count(self, post) -> int:
        root = post.get("root_id") or post["id"]
        return sum(1 for rid in self.replies.get(root, []) if not self.posts[rid].get("delete_at"))

    def post_out(self, post, *, cookies=None) -> dict:
        reactions = [shapes.reaction_json(r) for r in self.reactions.get(post["id"], [])]
        files = [shapes.file_info_json(self.files[f]["info"]) for f in post.get("file_ids") or []
                 if f in self.files]
        return shapes.post_json(post, reactions=reactions, files=files,
                                reply_count=self.reply_count(post), cookies=cookies)

    def mentions_for(self, post, chan) -> list[str]:
        members = self.channel_members.get(chan["id"], {})
        if chan["type"] == "D":
            return [uid for uid in members if uid != post["user_id"]]
        found = []
        if post.get("type") == "system_add_to_channel":
            added = (post.get("props") or {}).get("addedUserId")
            if added in members:
                found.append(added)
        for name in _MENTION_RE.findall(post.get("message", "")):
            uid = self.usernames.get(name.lower().rstrip("."))
            if uid and uid in members and uid != post["user_id"] and uid not in found:
                found.append(uid)
        return found

    def store_post(self, post) -> dict:
        """Save a new post and broadcast `posted`, as CreatePost does."""
        with self.lock:
            chan = self.channels[post["channel_id"]]
            t = now_ms()
            post.setdefault("id", new_id())
            post["create_at"] = post["update_at"] = t
            post.setdefault("props", {})
            post.setdefault("root_id", "")
            post.setdefault("type", "")
            self.posts[post["id"]] = post
            cid = chan["id"]
            self.channel_times[cid].append(t)
            self.channel_ids[cid].append(post["id"])
            self.channel_history[cid].append(post["id"])
            if post["root_id"]:
                self.replies.setdefault(post["root_id"], []).append(post["id"])
            for fid in post.get("file_ids") or []:
                if fid in self.files:
                    self.files[fid]["info"]["post_id"] = post["id"]
            chan["last_post_at"] = t
            if not post["type"].startswith("system_"):
                chan["total_msg_count"] += 1
                if not post["root_id"]:
                    chan["total_msg_count_root"] += 1
            self.emit_posted(post, chan)
            return post

    def emit_posted(self, post, chan):
        if not self.has_listeners():
            return  # bulk seeding without connections should not pay for serialization
        author = self.users.get(post["user_id"])
        data = {
            "channel_display_name": self.channel_display_name(chan, author),
            "channel_name": chan["name"], "channel_type": chan["type"],
        }
        mentions = self.mentions_for(post, chan)
        if mentions:
            data["mentions"] = shapes.dumps(mentions)
        files = [self.files[f]["info"] for f in post.get("file_ids") or [] if f in self.files]
        if files:
            if any(f["mime_type"].startswith("image/") for f in files):
                data["image"] = "true"
            if any(not f["mime_type"].startswith("image/") for f in files):
                data["otherFile"] = "true"
        data["post"] = shapes.dumps(self.post_out(post))
        if post.get("type", "").startswith("system_"):
            data["sender_name"] = "System"
        else:
            data["sender_name"] = "@" + (author["username"] if author else "")
        data["set_online"] = True
        data["team_id"] = chan["team_id"]
        self.publish("posted", data, channel_id=chan["id"])

    def channel_display_name(self, chan, author) -> str:
        if chan["type"] == "D":
            return "@" + (author["username"] if author else "")
        if chan["type"] == "G":
            names = sorted(self.users[u]["username"] for u in self.channel_members[chan["id"]])
            return ", ".join(names)
        return chan["display_name"]

    def system_post(self, chan, actor_id, post_type, message, extra_props=None) -> dict | None:
        """System messages like "x joined the channel."; skipped in archived channels."""
        if chan.get("delete_at"):
            return None
        actor = self.users.get(actor_id)
        props = dict(extra_props or {})
        if actor and actor.get("is_bot"):
            props["from_bot"] = "true"
        props = dict(sorted(props.items()))
        return self.store_post({"user_id": actor_id, "channel_id": chan["id"], "message": message,
                                "type": post_type, "props": props})

    def remove_from_index(self, post):
        cid = post["channel_id"]
        times, ids = self.channel_times[cid], self.channel_ids[cid]
        i = bisect.bisect_left(times, post["create_at"])
        while i < len(ids) and ids[i] != post["id"]:
            i += 1
        if i < len(ids):
            del times[i]
            del ids[i]

    # ------------------------------------------------------------------ fan-out helpers
    def channel_member_ids(self, channel_id) -> list[str]:
        with self.lock:
            return list(self.channel_members.get(channel_id, {}))

    def team_member_ids(self, team_id) -> list[str]:
        with self.lock:
            return list(self.team_members.get(team_id, {}))
