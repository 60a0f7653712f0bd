"""Creating the records everything else builds on (teams, users, tokens, channels, members,
posts) and the events and system messages the server sends with them."""
import copy
import re

from .. import shapes
from ..ids import new_id, now_ms
from .base import RulesBase, locked

_MENTION_RE = re.compile(r"@([a-z0-9.\-_]+)", re.IGNORECASE)


class RecordRules(RulesBase):
    # ------------------------------------------------------------------ teams and users
    @locked
    def create_team(self, name, display_name, *, id=None, type="O", email="admin@example.com") -> dict:
        t = now_ms()
        team = {
            "id": id or new_id(), "create_at": t, "update_at": t, "delete_at": 0,
            "display_name": display_name, "name": name, "description": "", "email": email,
            "type": type, "company_name": "", "allowed_domains": "", "invite_id": new_id(),
            "allow_open_invite": False, "scheme_id": None, "group_constrained": None,
            "policy_id": None,
        }
        self._store.add_team(team)
        return copy.deepcopy(team)

    @locked
    def create_user(self, username, *, roles="system_user", is_bot=False, email=None,
                    timezone=None, id=None, first_name="", last_name="", nickname="",
                    bot_description="") -> dict:
        if username in self._store.usernames:
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
        self._store.add_user(user)
        return shapes.user_json(user, is_self=True)

    @locked
    def create_token(self, user_id, *, token=None, description="") -> dict:
        self._user(user_id)
        record = {"id": new_id(), "token": token or new_id(), "user_id": user_id,
                  "description": description, "is_active": True}
        self._store.tokens[record["token"]] = user_id
        self._store.token_records[record["id"]] = record
        return dict(record)

    @locked
    def add_team_member(self, team_id, user_id, *, admin=False) -> dict:
        self._team(team_id)
        self._user(user_id)
        members = self._store.team_members[team_id]
        if user_id not in members:
            members[user_id] = {"team_id": team_id, "user_id": user_id, "admin": admin}
        elif admin:
            members[user_id]["admin"] = True
        return shapes.team_member_json(members[user_id])

    # ------------------------------------------------------------------ channels
    @locked
    def create_channel(self, team_id, name, display_name, *, type="O", creator_id=None, id=None,
                       header="", purpose="") -> dict:
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
        self._store.add_channel(chan)
        if creator_id:
            self.add_channel_member(chan["id"], creator_id, admin=type not in ("D", "G"))
        return copy.deepcopy(chan)

    @locked
    def add_channel_member(self, channel_id, user_id, *, admin=False) -> dict:
        self._channel(channel_id)
        self._user(user_id)
        members = self._store.channel_members[channel_id]
        if user_id not in members:
            members[user_id] = {"channel_id": channel_id, "user_id": user_id, "admin": admin,
                                "last_update_at": now_ms()}
        return shapes.channel_member_json(members[user_id])

    def _join_channel(self, chan, user_id, actor_id):
        """Add a member with the events and system message the server produces."""
        self.add_channel_member(chan["id"], user_id)
        self._publish("user_added", {"team_id": chan["team_id"], "user_id": user_id}, channel_id=chan["id"])
        user = self._store.users[user_id]
        if actor_id == user_id:
            self._system_post(chan, user_id, "system_join_channel", f"{user['username']} joined the channel.",
                              {"username": user["username"]})
        else:
            actor = self._store.users[actor_id]
            self._system_post(chan, actor_id, "system_add_to_channel",
                              f"{user['username']} added to the channel by {actor['username']}.",
                              {"addedUserId": user_id, "addedUsername": user["username"],
                               "userId": actor_id, "username": actor["username"]})

    # ------------------------------------------------------------------ posts
    @locked
    def add_post(self, channel_id, user_id, message, *, root_id="", props=None, file_ids=None) -> dict:
        """A post as if `user_id` had sent it, without the API's checks (emits `posted`)."""
        self._channel(channel_id)
        user = self._user(user_id)
        props = dict(props or {})
        if user.get("is_bot"):
            props["from_bot"] = "true"
        post = self._store_post({"user_id": user_id, "channel_id": channel_id, "message": message,
                                 "root_id": root_id, "props": shapes.normalize_props(props),
                                 "file_ids": list(file_ids or [])})
        return self._post_out(post)

    def _reply_count(self, post) -> int:
        root = post.get("root_id") or post["id"]
        posts = self._store.posts
        return sum(1 for rid in self._store.replies.get(root, []) if not posts[rid].get("delete_at"))

    def _post_out(self, post, *, cookies=None) -> dict:
        files = self._store.files
        reactions = [shapes.reaction_json(r) for r in self._store.reactions.get(post["id"], [])]
        infos = [shapes.file_info_json(files[f]["info"]) for f in post.get("file_ids") or [] if f in files]
        return shapes.post_json(post, reactions=reactions, files=infos,
                                reply_count=self._reply_count(post), cookies=cookies)

    def _store_post(self, post) -> dict:
        """Save a new post and broadcast `posted`, as CreatePost does."""
        chan = self._store.channels[post["channel_id"]]
        t = now_ms()
        post.setdefault("id", new_id())
        post["create_at"] = post["update_at"] = t
        post.setdefault("props", {})
        post.setdefault("root_id", "")
        post.setdefault("type", "")
        self._store.add_post(post)
        for fid in post.get("file_ids") or []:
            if fid in self._store.files:
                self._store.files[fid]["info"]["post_id"] = post["id"]
        chan["last_post_at"] = t
        if not post["type"].startswith("system_"):
            chan["total_msg_count"] += 1
            if not post["root_id"]:
                chan["total_msg_count_root"] += 1
        self._emit_posted(post, chan)
        return post

    def _emit_posted(self, post, chan):
        if not self.events.has_listeners():
            return  # bulk seeding without connections should not pay for serialization
        author = self._store.users.get(post["user_id"])
        data = {
            "channel_display_name": self._channel_display_name(chan, author),
            "channel_name": chan["name"], "channel_type": chan["type"],
        }
        mentions = self._mentions_for(post, chan)
        if mentions:
            data["mentions"] = shapes.dumps(mentions)
        files = [self._store.files[f]["info"] for f in post.get("file_ids") or [] if f in self._store.files]
        if files:
            if any(f["mime_type"].startswith("image/") for f in files):
                data["image"] = "true"
            if any(not f["mime_type"].startswith("image/") for f in files):
                data["otherFile"] = "true"
        data["post"] = shapes.dumps(self._post_out(post))
        if post.get("type", "").startswith("system_"):
            data["sender_name"] = "System"
        else:
            data["sender_name"] = "@" + (author["username"] if author else "")
        data["set_online"] = True
        data["team_id"] = chan["team_id"]
        self._publish("posted", data, channel_id=chan["id"])

    def _mentions_for(self, post, chan) -> list[str]:
        members = self._store.channel_members.get(chan["id"], {})
        if chan["type"] == "D":
            return [uid for uid in members if uid != post["user_id"]]
        found = []
        if post.get("type") == "system_add_to_channel":
            added = (post.get("props") or {}).get("addedUserId")
            if added in members:
                found.append(added)
        for name in _MENTION_RE.findall(post.get("message", "")):
            uid = self._store.usernames.get(name.lower().rstrip("."))
            if uid and uid in members and uid != post["user_id"] and uid not in found:
                found.append(uid)
        return found

    def _channel_display_name(self, chan, author) -> str:
        if chan["type"] == "D":
            return "@" + (author["username"] if author else "")
        if chan["type"] == "G":
            names = sorted(self._store.users[u]["username"] for u in self._store.channel_members[chan["id"]])
            return ", ".join(names)
        return chan["display_name"]

    def _system_post(self, chan, actor_id, post_type, message, extra_props=None) -> dict | None:
        """System messages like "x joined the channel."; skipped in archived channels."""
        if chan.get("delete_at"):
            return None
        actor = self._store.users.get(actor_id)
        props = dict(extra_props or {})
        if actor and actor.get("is_bot"):
            props["from_bot"] = "true"
        props = dict(sorted(props.items()))
        return self._store_post({"user_id": actor_id, "channel_id": chan["id"], "message": message,
                                 "type": post_type, "props": props})
