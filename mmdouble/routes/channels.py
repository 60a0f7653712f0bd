"""Channels: create, direct messages, membership, patch, privacy, archive/restore."""
import re

from aiohttp import web

from .. import shapes
from ..app import STATE, current_user, json_response, ok, path_id, read_json
from ..errors import AppError, bad_body_param, forbidden
from ..ids import is_valid_id, new_id, now_ms

# Mattermost 5.37 channel name rule: at least 2 chars, start and end alphanumeric.
_NAME_RE = re.compile(r"^[a-z0-9]+([a-z\-_0-9]+|(__)?)[a-z0-9]+$")
DEFAULT_CHANNEL = "town-square"


def _validate_new_channel(state, body, me_id):
    team_id = body.get("team_id") or ""
    ctype = body.get("type") or ""
    if team_id and not (state.is_team_member(team_id, me_id) or state.is_sysadmin(me_id)):
        raise forbidden(me_id, "create_private_channel" if ctype == "P" else "create_public_channel")
    if ctype in ("D", "G"):
        raise AppError(400, "api.channel.create_channel.direct_channel.app_error")
    if not team_id:
        raise AppError(400, "app.channel.create_channel.no_team_id.app_error")
    state.team(team_id)
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
    for other in state.channels.values():
        if other["team_id"] == team_id and other["name"] == name:
            raise AppError(400, "store.sql_channel.save_channel.exists.app_error",
                           f"Channelexists id={cid} duplicate key value violates unique constraint "
                           "\"channels_name_teamid_key\"")
    if len(name) > 64:
        # The real server only finds out when the database column overflows.
        raise AppError(500, "app.channel.create_channel.internal_error",
                       f"save_channel: id={cid}: value too long for type character varying(64)")
    return cid


async def create_channel(request):
    me = current_user(request)
    state = request.app[STATE]
    body = await read_json(request, "channel")
    if not isinstance(body, dict):
        raise bad_body_param("channel")
    with state.lock:
        cid = _validate_new_channel(state, body, me["id"])
        chan = state.create_channel(body["team_id"], body["name"], body.get("display_name", ""),
                                    type=body["type"], creator_id=me["id"], id=cid,
                                    header=body.get("header") or "", purpose=body.get("purpose") or "")
        chan = state.channels[cid]
        state.system_post(chan, me["id"], "system_join_channel", f"{me['username']} joined the channel.",
                          {"username": me["username"]})
        state.publish("channel_created", {"channel_id": cid, "team_id": chan["team_id"]}, user_id=me["id"])
        return json_response(shapes.channel_json(chan), status=201)


async def create_direct(request):
    me = current_user(request)
    state = request.app[STATE]
    ids = await read_json(request, "user_ids")
    if not isinstance(ids, list) or len(ids) != 2:
        raise bad_body_param("user_ids")
    if not all(is_valid_id(i) for i in ids):
        raise bad_body_param("user_id")
    with state.lock:
        if me["id"] not in ids and not state.is_sysadmin(me["id"]):
            raise forbidden(me["id"], "manage_system")
        for uid in ids:
            state.user(uid)
        a, b = sorted(ids)
        name = f"{a}__{b}"
        existing = next((c for c in state.channels.values() if c["type"] == "D" and c["name"] == name), None)
        if existing:
            return json_response(shapes.channel_json(existing), status=201)
        chan = state.create_channel("", name, "", type="D", creator_id=None)
        chan = state.channels[chan["id"]]
        chan["creator_id"] = me["id"]
        for uid in {a, b}:
            state.add_channel_member(chan["id"], uid)
        teammate = b if me["id"] == a else a
        state.publish("direct_added", {"creator_id": me["id"], "teammate_id": teammate},
                      channel_id=chan["id"])
        return json_response(shapes.channel_json(chan), status=201)


def _viewable_channel(state, channel_id, me_id):
    chan = state.channels.get(channel_id)
    if chan is None or not state.can_view_channel(chan, me_id):
        raise forbidden(me_id, "read_channel")
    return chan


async def get_channel(request):
    me = current_user(request)
    state = request.app[STATE]
    cid = path_id(request, "channel_id")
    with state.lock:
        return json_response(shapes.channel_json(_viewable_channel(state, cid, me["id"])))


def _by_name(state, team_id, name, me_id, include_deleted):
    chan = next((c for c in state.channels.values() if c["team_id"] == team_id and c["name"] == name
                 and (include_deleted or not c.get("delete_at"))), None)
    if chan is None:
        raise AppError(404, "app.channel.get_by_name.missing.app_error", f"teamId={team_id}, name={name}")
    if not state.can_view_channel(chan, me_id):
        raise forbidden(me_id, "read_channel")
    return json_response(shapes.channel_json(chan))


async def get_by_name(request):
    me = current_user(request)
    state = request.app[STATE]
    tid = path_id(request, "team_id")
    with state.lock:
        return _by_name(state, tid, request.match_info["name"], me["id"],
                        request.query.get("include_deleted") == "true")


async def get_by_team_and_channel_name(request):
    me = current_user(request)
    state = request.app[STATE]
    with state.lock:
        team = next((t for t in state.teams.values() if t["name"] == request.match_info["team_name"]), None)
        if team is None:
            raise AppError(404, "app.team.get_by_name.missing.app_error")
        return _by_name(state, team["id"], request.match_info["name"], me["id"],
                        request.query.get("include_deleted") == "true")


def join_channel(state, chan, user_id, actor_id):
    """Add a member with the events and system message the server produces."""
    state.add_channel_member(chan["id"], user_id)
    state.publish("user_added", {"team_id": chan["team_id"], "user_id": user_id}, channel_id=chan["id"])
    user = state.users[user_id]
    if actor_id == user_id:
        state.system_post(chan, user_id, "system_join_channel", f"{user['username']} joined the channel.",
                          {"username": user["username"]})
    else:
        actor = state.users[actor_id]
        state.system_post(chan, actor_id, "system_add_to_channel",
                          f"{user['username']} added to the channel by {actor['username']}.",
                          {"addedUserId": user_id, "addedUsername": user["username"],
                           "userId": actor_id, "username": actor["username"]})


def _require_manage_members(state, chan, me_id):
    if state.is_member(chan["id"], me_id) or state.is_sysadmin(me_id):
        return
    perm = "manage_private_channel_members" if chan["type"] == "P" else "manage_public_channel_members"
    raise forbidden(me_id, perm)


async def add_member(request):
    me = current_user(request)
    state = request.app[STATE]
    cid = path_id(request, "channel_id")
    body = await read_json(request, "user_id")
    uid = body.get("user_id") if isinstance(body, dict) else None
    if not is_valid_id(uid or ""):
        raise bad_body_param("user_id")
    with state.lock:
        chan = state.channel(cid)
        if chan["type"] in ("D", "G"):
            raise AppError(400, "api.channel.add_user_to_channel.type.app_error")
        if uid == me["id"] and chan["type"] == "O":
            if not (state.is_team_member(chan["team_id"], uid) or state.is_sysadmin(uid)):
                raise forbidden(me["id"], "join_public_channels")
        else:
            _require_manage_members(state, chan, me["id"])
        state.user(uid)
        if not state.is_team_member(chan["team_id"], uid):
            raise AppError(404, "app.team.get_member.missing.app_error",
                           f"teamId={chan['team_id']}, userId={uid}")
        if not state.is_member(cid, uid):
            join_channel(state, chan, uid, me["id"])
        return json_response(shapes.channel_member_json(state.channel_members[cid][uid]), status=201)


async def remove_member(request):
    me = current_user(request)
    state = request.app[STATE]
    cid = path_id(request, "channel_id")
    uid = path_id(request, "user_id")
    with state.lock:
        chan = state.channel(cid)
        if uid != me["id"]:
            _require_manage_members(state, chan, me["id"])
        if chan["name"] == DEFAULT_CHANNEL:
            raise AppError(400, "api.channel.remove.default.app_error", name=DEFAULT_CHANNEL)
        if not state.is_member(cid, uid):
            raise AppError(404, "app.channel.get_member.missing.app_error",
                           f"channel_id={cid}, user_id={uid}")
        del state.channel_members[cid][uid]
        state.publish("user_removed", {"remover_id": me["id"], "user_id": uid}, channel_id=cid)
        state.publish("user_removed", {"channel_id": cid, "remover_id": me["id"]}, user_id=uid)
        user = state.users[uid]
        if uid == me["id"]:
            state.system_post(chan, uid, "system_leave_channel", f"{user['username']} left the channel.",
                              {"username": user["username"]})
        else:
            state.system_post(chan, me["id"], "system_remove_from_channel",
                              f"@{user['username']} removed from the channel.",
                              {"removedUserId": uid, "removedUsername": user["username"]})
    return ok()


async def list_members(request):
    me = current_user(request)
    state = request.app[STATE]
    cid = path_id(request, "channel_id")
    from .teams import _paging
    page, per_page = _paging(request)
    with state.lock:
        _viewable_channel(state, cid, me["id"])
        members = sorted(state.channel_members[cid].values(), key=lambda m: m["user_id"])
        chunk = members[page * per_page:(page + 1) * per_page]
        return json_response([shapes.channel_member_json(m) for m in chunk])


async def get_member(request):
    me = current_user(request)
    state = request.app[STATE]
    cid = path_id(request, "channel_id")
    uid = path_id(request, "user_id")
    with state.lock:
        _viewable_channel(state, cid, me["id"])
        m = state.channel_members[cid].get(uid)
        if m is None:
            raise AppError(404, "app.channel.get_member.missing.app_error",
                           f"channel_id={cid}, user_id={uid}")
        return json_response(shapes.channel_member_json(m))


_PATCH_MESSAGES = {
    "header": ("system_header_change", "channel header", "old_header", "new_header"),
    "purpose": ("system_purpose_change", "channel purpose", "old_purpose", "new_purpose"),
    "display_name": ("system_displayname_change", "channel display name", "old_displayname",
                     "new_displayname"),
}


async def patch_channel(request):
    me = current_user(request)
    state = request.app[STATE]
    cid = path_id(request, "channel_id")
    body = await read_json(request, "channel")
    if not isinstance(body, dict):
        raise bad_body_param("channel")
    with state.lock:
        chan = state.channel(cid)
        if not (state.is_member(cid, me["id"]) or state.is_sysadmin(me["id"])):
            perm = "manage_private_channel_properties" if chan["type"] == "P" else "manage_public_channel_properties"
            raise forbidden(me["id"], perm)
        if "display_name" in body and len(body["display_name"] or "") > 64:
            raise AppError(400, "model.channel.is_valid.display_name.app_error", f"id={cid}")
        if "name" in body and not _NAME_RE.match(body["name"] or ""):
            raise AppError(400, "model.channel.is_valid.2_or_more.app_error", f"id={cid}")
        old = dict(chan)
        for key in ("display_name", "name", "header", "purpose"):
            if key in body and body[key] is not None:
                chan[key] = str(body[key])
        chan["update_at"] = now_ms()
        state.publish("channel_updated", {"channel": shapes.dumps(shapes.channel_json(chan))}, channel_id=cid)
        for key, (ptype, label, old_key, new_key) in _PATCH_MESSAGES.items():
            if chan[key] == old[key]:
                continue
            if not old[key]:
                msg = f"{me['username']} updated the {label} to: {chan[key]}"
            elif not chan[key]:
                msg = f"{me['username']} removed the {label} (was: {old[key]})"
            else:
                msg = f"{me['username']} updated the {label} from: {old[key]} to: {chan[key]}"
            state.system_post(chan, me["id"], ptype, msg,
                              {old_key: old[key], new_key: chan[key], "username": me["username"]})
        return json_response(shapes.channel_json(chan))


async def update_privacy(request):
    me = current_user(request)
    state = request.app[STATE]
    cid = path_id(request, "channel_id")
    body = await read_json(request, "privacy")
    privacy = body.get("privacy") if isinstance(body, dict) else None
    if privacy not in ("O", "P"):
        raise bad_body_param("privacy")
    with state.lock:
        chan = state.channel(cid)
        perm = "convert_public_channel_to_private" if privacy == "P" else "convert_private_channel_to_public"
        if not state.is_team_admin(chan["team_id"], me["id"]):
            raise forbidden(me["id"], perm)
        if chan["type"] in ("D", "G"):
            raise AppError(400, "api.channel.update_channel_privacy.default_channel_error")
        if chan["name"] == DEFAULT_CHANNEL:
            raise AppError(400, "api.channel.update_channel_privacy.default_channel_error")
        if chan["type"] == privacy:
            return json_response(shapes.channel_json(chan))
        chan["type"] = privacy
        chan["update_at"] = now_ms()
        state.publish("channel_updated", {"channel": shapes.dumps(shapes.channel_json(chan))}, channel_id=cid)
        msg = ("This channel has been converted to a Private Channel." if privacy == "P" else
               "This channel has been converted to a Public Channel and can be joined by any team member.")
        state.system_post(chan, me["id"], "system_change_chan_privacy", msg, {"username": me["username"]})
        state.publish("channel_converted", {"channel_id": cid}, team_id=chan["team_id"])
        return json_response(shapes.channel_json(chan))


async def archive_channel(request):
    me = current_user(request)
    state = request.app[STATE]
    cid = path_id(request, "channel_id")
    with state.lock:
        chan = state.channel(cid)
        if chan["type"] in ("D", "G"):
            raise AppError(400, "api.channel.delete_channel.type.invalid")
        if not (state.is_member(cid, me["id"]) or state.is_team_admin(chan["team_id"], me["id"])):
            raise forbidden(me["id"], "delete_private_channel" if chan["type"] == "P" else "delete_public_channel")
        if chan.get("delete_at"):
            raise AppError(400, "api.channel.delete_channel.deleted.app_error")
        if chan["name"] == DEFAULT_CHANNEL:
            raise AppError(400, "api.channel.delete_channel.cannot.app_error", name=DEFAULT_CHANNEL)
        state.system_post(chan, me["id"], "system_channel_deleted", f"{me['username']} archived the channel.",
                          {"username": me["username"]})
        t = now_ms()
        chan["delete_at"] = chan["update_at"] = t
        state.publish("channel_deleted", {"channel_id": cid, "delete_at": t}, team_id=chan["team_id"])
    return ok()


async def restore_channel(request):
    me = current_user(request)
    state = request.app[STATE]
    cid = path_id(request, "channel_id")
    with state.lock:
        chan = state.channel(cid)
        if not state.is_team_admin(chan["team_id"], me["id"]):
            raise forbidden(me["id"], "manage_team")
        if not chan.get("delete_at"):
            raise AppError(400, "api.channel.restore_channel.restored.app_error")
        chan["delete_at"] = 0
        chan["update_at"] = now_ms()
        state.publish("channel_restored", {"channel_id": cid}, team_id=chan["team_id"])
        state.system_post(chan, me["id"], "system_channel_restored", f"{me['username']} unarchived the channel.",
                          {"username": me["username"]})
        return json_response(shapes.channel_json(chan))


async def channel_stats(request):
    me = current_user(request)
    state = request.app[STATE]
    cid = path_id(request, "channel_id")
    with state.lock:
        _viewable_channel(state, cid, me["id"])
        pinned = sum(1 for pid in state.channel_ids[cid] if state.posts[pid].get("is_pinned"))
        return json_response({"channel_id": cid, "member_count": len(state.channel_members[cid]),
                              "guest_count": 0, "pinnedpost_count": pinned})


def register(router: web.UrlDispatcher):
    router.add_post("/api/v4/channels", create_channel)
    router.add_post("/api/v4/channels/direct", create_direct)
    router.add_get("/api/v4/channels/{channel_id}", get_channel)
    router.add_delete("/api/v4/channels/{channel_id}", archive_channel)
    router.add_post("/api/v4/channels/{channel_id}/restore", restore_channel)
    router.add_put("/api/v4/channels/{channel_id}/patch", patch_channel)
    router.add_put("/api/v4/channels/{channel_id}/privacy", update_privacy)
    router.add_get("/api/v4/channels/{channel_id}/stats", channel_stats)
    router.add_get("/api/v4/channels/{channel_id}/members", list_members)
    router.add_post("/api/v4/channels/{channel_id}/members", add_member)
    router.add_get("/api/v4/channels/{channel_id}/members/{user_id}", get_member)
    router.add_delete("/api/v4/channels/{channel_id}/members/{user_id}", remove_member)
    router.add_get("/api/v4/teams/{team_id}/channels/name/{name}", get_by_name)
    router.add_get("/api/v4/teams/name/{team_name}/channels/name/{name}", get_by_team_and_channel_name)
