"""Channels: create, direct messages, membership, patch, privacy, archive/restore."""
import re

from .. import shapes
from ..errors import AppError, forbidden
from ..ids import new_id, now_ms
from .base import locked
from .records import RecordRules

# Mattermost 5.37 channel name rule: at least 2 chars, start and end alphanumeric.
_NAME_RE = re.compile(r"^[a-z0-9]+([a-z\-_0-9]+|(__)?)[a-z0-9]+$")
DEFAULT_CHANNEL = "town-square"

_PATCH_MESSAGES = {
    "header": ("system_header_change", "channel header", "old_header", "new_header"),
    "purpose": ("system_purpose_change", "channel purpose", "old_purpose", "new_purpose"),
    "display_name": ("system_displayname_change", "channel display name", "old_displayname",
                     "new_displayname"),
}


class ChannelRules(RecordRules):
    # ------------------------------------------------------------------ create
    def _validate_new_channel(self, body, me_id) -> str:
        team_id = body.get("team_id") or ""
        ctype = body.get("type") or ""
        if team_id and not (self._is_team_member(team_id, me_id) or self._is_sysadmin(me_id)):
            raise forbidden(me_id, "create_private_channel" if ctype == "P" else "create_public_channel")
        if ctype in ("D", "G"):
            raise AppError(400, "api.channel.create_channel.direct_channel.app_error")
        if not team_id:
            raise AppError(400, "app.channel.create_channel.no_team_id.app_error")
        self._team(team_id)
        cid = new_id()
        display = str(body.get("display_name") or "")
        name = str(body.get("name") or "")
        if len(display) > 64:
            raise AppError(400, "model.channel.is_valid.display_name.app_error", f"id={cid}")
        if len(name) < 2 or not _NAME_RE.match(name):
            raise AppError(400, "model.channel.is_valid.2_or_more.app_error", f"id={cid}")
        if ctype not in ("O", "P"):
            raise AppError(400, "model.channel.is_valid.type.app_error", f"id={cid}")
        if len(body.get("header") or "") > 1024:
            raise AppError(400, "model.channel.is_valid.header.app_error", f"id={cid}")
        if len(body.get("purpose") or "") > 250:
            raise AppError(400, "model.channel.is_valid.purpose.app_error", f"id={cid}")
        for other in self._store.channels.values():
            if other["team_id"] == team_id and other["name"] == name:
                raise AppError(400, "store.sql_channel.save_channel.exists.app_error",
                               f"Channelexists id={cid} duplicate key value violates unique constraint "
                               "\"channels_name_teamid_key\"")
        if len(name) > 64:
            # The real server only finds out when the database column overflows.
            raise AppError(500, "app.channel.create_channel.internal_error",
                           f"save_channel: id={cid}: value too long for type character varying(64)")
        return cid

    @locked
    def open_channel(self, me_id, body: dict) -> dict:
        """POST /channels: the creator joins (with a system message) and gets channel_created."""
        cid = self._validate_new_channel(body, me_id)
        self.create_channel(body["team_id"], body["name"], body.get("display_name", ""),
                            type=body["type"], creator_id=me_id, id=cid,
                            header=body.get("header") or "", purpose=body.get("purpose") or "")
        chan = self._store.channels[cid]
        me = self._store.users[me_id]
        self._system_post(chan, me_id, "system_join_channel", f"{me['username']} joined the channel.",
                          {"username": me["username"]})
        self._publish("channel_created", {"channel_id": cid, "team_id": chan["team_id"]}, user_id=me_id)
        return shapes.channel_json(chan)

    @locked
    def open_direct(self, me_id, user_ids: list) -> dict:
        if me_id not in user_ids and not self._is_sysadmin(me_id):
            raise forbidden(me_id, "manage_system")
        for uid in user_ids:
            self._user(uid)
        a, b = sorted(user_ids)
        name = f"{a}__{b}"
        existing = next((c for c in self._store.channels.values() if c["type"] == "D" and c["name"] == name), None)
        if existing:
            return shapes.channel_json(existing)
        chan = self._store.channels[self.create_channel("", name, "", type="D", creator_id=None)["id"]]
        chan["creator_id"] = me_id
        for uid in {a, b}:
            self.add_channel_member(chan["id"], uid)
        teammate = b if me_id == a else a
        self._publish("direct_added", {"creator_id": me_id, "teammate_id": teammate}, channel_id=chan["id"])
        return shapes.channel_json(chan)

    # ------------------------------------------------------------------ read
    @locked
    def get_channel(self, me_id, channel_id) -> dict:
        return shapes.channel_json(self._viewable_channel(channel_id, me_id))

    @locked
    def channel_by_name(self, me_id, team_id, name, include_deleted: bool) -> dict:
        chan = next((c for c in self._store.channels.values() if c["team_id"] == team_id and c["name"] == name
                     and (include_deleted or not c.get("delete_at"))), None)
        if chan is None:
            raise AppError(404, "app.channel.get_by_name.missing.app_error", f"teamId={team_id}, name={name}")
        if not self._can_view_channel(chan, me_id):
            raise forbidden(me_id, "read_channel")
        return shapes.channel_json(chan)

    @locked
    def channel_by_team_name(self, me_id, team_name, name, include_deleted: bool) -> dict:
        team = next((t for t in self._store.teams.values() if t["name"] == team_name), None)
        if team is None:
            raise AppError(404, "app.team.get_by_name.missing.app_error")
        return self.channel_by_name(me_id, team["id"], name, include_deleted)

    @locked
    def channel_stats(self, me_id, channel_id) -> dict:
        self._viewable_channel(channel_id, me_id)
        posts = self._store.posts
        pinned = sum(1 for pid in self._store.channel_ids[channel_id] if posts[pid].get("is_pinned"))
        return {"channel_id": channel_id, "member_count": len(self._store.channel_members[channel_id]),
                "guest_count": 0, "pinnedpost_count": pinned}

    # ------------------------------------------------------------------ membership
    def _require_manage_members(self, chan, me_id):
        if self._is_member(chan["id"], me_id) or self._is_sysadmin(me_id):
            return
        perm = "manage_private_channel_members" if chan["type"] == "P" else "manage_public_channel_members"
        raise forbidden(me_id, perm)

    @locked
    def add_member_by(self, me_id, channel_id, user_id) -> dict:
        """POST /channels/{id}/members: `me_id` adds `user_id` (or joins, when they are the same)."""
        chan = self._channel(channel_id)
        if chan["type"] in ("D", "G"):
            raise AppError(400, "api.channel.add_user_to_channel.type.app_error")
        if user_id == me_id and chan["type"] == "O":
            if not (self._is_team_member(chan["team_id"], user_id) or self._is_sysadmin(user_id)):
                raise forbidden(me_id, "join_public_channels")
        else:
            self._require_manage_members(chan, me_id)
        self._user(user_id)
        if not self._is_team_member(chan["team_id"], user_id):
            raise AppError(404, "app.team.get_member.missing.app_error",
                           f"teamId={chan['team_id']}, userId={user_id}")
        if not self._is_member(channel_id, user_id):
            self._join_channel(chan, user_id, me_id)
        return shapes.channel_member_json(self._store.channel_members[channel_id][user_id])

    @locked
    def remove_member_by(self, me_id, channel_id, user_id) -> None:
        """DELETE /channels/{id}/members/{user_id} (api4/channel.go removeChannelMember, app/channel.go
        removeUserFromChannel): channel, then user (404s), only O/P channels, then permission."""
        chan = self._channel(channel_id)
        self._user(user_id)
        if chan["type"] not in ("O", "P"):
            raise AppError(400, "api.channel.remove_channel_member.type.app_error")
        if user_id != me_id:
            self._require_manage_members(chan, me_id)
        if chan["name"] == DEFAULT_CHANNEL:
            raise AppError(400, "api.channel.remove.default.app_error", name=DEFAULT_CHANNEL)
        if not self._is_member(channel_id, user_id):
            raise AppError(404, "app.channel.get_member.missing.app_error",
                           f"channel_id={channel_id}, user_id={user_id}")
        del self._store.channel_members[channel_id][user_id]
        self._publish("user_removed", {"remover_id": me_id, "user_id": user_id}, channel_id=channel_id)
        self._publish("user_removed", {"channel_id": channel_id, "remover_id": me_id}, user_id=user_id)
        user = self._store.users[user_id]
        if user_id == me_id:
            self._system_post(chan, user_id, "system_leave_channel", f"{user['username']} left the channel.",
                              {"username": user["username"]})
        else:
            self._system_post(chan, me_id, "system_remove_from_channel",
                              f"@{user['username']} removed from the channel.",
                              {"removedUserId": user_id, "removedUsername": user["username"]})

    @locked
    def channel_members_page(self, me_id, channel_id, page, per_page) -> list[dict]:
        self._viewable_channel(channel_id, me_id)
        members = sorted(self._store.channel_members[channel_id].values(), key=lambda m: m["user_id"])
        return [shapes.channel_member_json(m) for m in members[page * per_page:(page + 1) * per_page]]

    @locked
    def channel_member(self, me_id, channel_id, user_id) -> dict:
        self._viewable_channel(channel_id, me_id)
        m = self._store.channel_members[channel_id].get(user_id)
        if m is None:
            raise AppError(404, "app.channel.get_member.missing.app_error",
                           f"channel_id={channel_id}, user_id={user_id}")
        return shapes.channel_member_json(m)

    # ------------------------------------------------------------------ change
    @locked
    def patch_channel(self, me_id, channel_id, body: dict) -> dict:
        chan = self._channel(channel_id)
        if not (self._is_member(channel_id, me_id) or self._is_sysadmin(me_id)):
            perm = "manage_private_channel_properties" if chan["type"] == "P" else "manage_public_channel_properties"
            raise forbidden(me_id, perm)
        if "display_name" in body and len(body["display_name"] or "") > 64:
            raise AppError(400, "model.channel.is_valid.display_name.app_error", f"id={channel_id}")
        if "name" in body and not _NAME_RE.match(body["name"] or ""):
            raise AppError(400, "model.channel.is_valid.2_or_more.app_error", f"id={channel_id}")
        old = dict(chan)
        for key in ("display_name", "name", "header", "purpose"):
            if key in body and body[key] is not None:
                chan[key] = str(body[key])
        chan["update_at"] = now_ms()
        self._publish("channel_updated", {"channel": shapes.dumps(shapes.channel_json(chan))}, channel_id=channel_id)
        me = self._store.users[me_id]
        for key, (ptype, label, old_key, new_key) in _PATCH_MESSAGES.items():
            if chan[key] == old[key]:
                continue
            if not old[key]:
                msg = f"{me['username']} updated the {label} to: {chan[key]}"
            elif not chan[key]:
                msg = f"{me['username']} removed the {label} (was: {old[key]})"
            else:
                msg = f"{me['username']} updated the {label} from: {old[key]} to: {chan[key]}"
            self._system_post(chan, me_id, ptype, msg, {old_key: old[key], new_key: chan[key], "username": me["username"]})
        return shapes.channel_json(chan)

    @locked
    def update_privacy(self, me_id, channel_id, privacy) -> dict:
        chan = self._channel(channel_id)
        perm = "convert_public_channel_to_private" if privacy == "P" else "convert_private_channel_to_public"
        if not self._is_team_admin(chan["team_id"], me_id):
            raise forbidden(me_id, perm)
        if chan["type"] in ("D", "G"):
            raise AppError(400, "api.channel.update_channel_privacy.default_channel_error")
        if chan["name"] == DEFAULT_CHANNEL:
            raise AppError(400, "api.channel.update_channel_privacy.default_channel_error")
        if chan["type"] == privacy:
            return shapes.channel_json(chan)
        chan["type"] = privacy
        chan["update_at"] = now_ms()
        self._publish("channel_updated", {"channel": shapes.dumps(shapes.channel_json(chan))}, channel_id=channel_id)
        msg = ("This channel has been converted to a Private Channel." if privacy == "P" else
               "This channel has been converted to a Public Channel and can be joined by any team member.")
        self._system_post(chan, me_id, "system_change_chan_privacy", msg,
                          {"username": self._store.users[me_id]["username"]})
        self._publish("channel_converted", {"channel_id": channel_id}, team_id=chan["team_id"])
        return shapes.channel_json(chan)

    @locked
    def archive_channel(self, me_id, channel_id) -> None:
        chan = self._channel(channel_id)
        if chan["type"] in ("D", "G"):
            raise AppError(400, "api.channel.delete_channel.type.invalid")
        if not (self._is_member(channel_id, me_id) or self._is_team_admin(chan["team_id"], me_id)):
            raise forbidden(me_id, "delete_private_channel" if chan["type"] == "P" else "delete_public_channel")
        if chan.get("delete_at"):
            raise AppError(400, "api.channel.delete_channel.deleted.app_error")
        if chan["name"] == DEFAULT_CHANNEL:
            raise AppError(400, "api.channel.delete_channel.cannot.app_error", name=DEFAULT_CHANNEL)
        username = self._store.users[me_id]["username"]
        self._system_post(chan, me_id, "system_channel_deleted", f"{username} archived the channel.",
                          {"username": username})
        t = now_ms()
        chan["delete_at"] = chan["update_at"] = t
        self._publish("channel_deleted", {"channel_id": channel_id, "delete_at": t}, team_id=chan["team_id"])

    @locked
    def restore_channel(self, me_id, channel_id) -> dict:
        chan = self._channel(channel_id)
        if not self._is_team_admin(chan["team_id"], me_id):
            raise forbidden(me_id, "manage_team")
        if not chan.get("delete_at"):
            raise AppError(400, "api.channel.restore_channel.restored.app_error")
        chan["delete_at"] = 0
        chan["update_at"] = now_ms()
        self._publish("channel_restored", {"channel_id": channel_id}, team_id=chan["team_id"])
        username = self._store.users[me_id]["username"]
        self._system_post(chan, me_id, "system_channel_restored", f"{username} unarchived the channel.",
                          {"username": username})
        return shapes.channel_json(chan)
