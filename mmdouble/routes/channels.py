"""Channels: create, direct messages, membership, patch, privacy, archive/restore."""
from aiohttp import web

from ..errors import bad_body_param
from ..ids import is_valid_id
from ..transport import RULES, current_user, json_response, ok, paging, path_id, read_json


async def create_channel(request):
    me = current_user(request)
    body = await read_json(request, "channel")
    if not isinstance(body, dict):
        raise bad_body_param("channel")
    return json_response(request.app[RULES].open_channel(me["id"], body), status=201)


async def create_direct(request):
    me = current_user(request)
    ids = await read_json(request, "user_ids")
    if not isinstance(ids, list) or len(ids) != 2:
        raise bad_body_param("user_ids")
    if not all(is_valid_id(i) for i in ids):
        raise bad_body_param("user_id")
    return json_response(request.app[RULES].open_direct(me["id"], ids), status=201)


async def get_channel(request):
    me = current_user(request)
    cid = path_id(request, "channel_id")
    return json_response(request.app[RULES].get_channel(me["id"], cid))


def _include_deleted(request) -> bool:
    return request.query.get("include_deleted") == "true"


async def get_by_name(request):
    me = current_user(request)
    tid = path_id(request, "team_id")
    return json_response(request.app[RULES].channel_by_name(me["id"], tid, request.match_info["name"],
                                                            _include_deleted(request)))


async def get_by_team_and_channel_name(request):
    me = current_user(request)
    return json_response(request.app[RULES].channel_by_team_name(
        me["id"], request.match_info["team_name"], request.match_info["name"], _include_deleted(request)))


async def add_member(request):
    me = current_user(request)
    cid = path_id(request, "channel_id")
    body = await read_json(request, "user_id")
    uid = body.get("user_id") if isinstance(body, dict) else None
    if not is_valid_id(uid or ""):
        raise bad_body_param("user_id")
    return json_response(request.app[RULES].add_member_by(me["id"], cid, uid), status=201)


async def remove_member(request):
    me = current_user(request)
    cid = path_id(request, "channel_id")
    uid = path_id(request, "user_id")
    request.app[RULES].remove_member_by(me["id"], cid, uid)
    return ok()


async def list_members(request):
    me = current_user(request)
    cid = path_id(request, "channel_id")
    page, per_page = paging(request)
    return json_response(request.app[RULES].channel_members_page(me["id"], cid, page, per_page))


async def get_member(request):
    me = current_user(request)
    cid = path_id(request, "channel_id")
    uid = path_id(request, "user_id")
    return json_response(request.app[RULES].channel_member(me["id"], cid, uid))


async def patch_channel(request):
    me = current_user(request)
    cid = path_id(request, "channel_id")
    body = await read_json(request, "channel")
    if not isinstance(body, dict):
        raise bad_body_param("channel")
    return json_response(request.app[RULES].patch_channel(me["id"], cid, body))


async def update_privacy(request):
    me = current_user(request)
    cid = path_id(request, "channel_id")
    body = await read_json(request, "privacy")
    privacy = body.get("privacy") if isinstance(body, dict) else None
    if privacy not in ("O", "P"):
        raise bad_body_param("privacy")
    return json_response(request.app[RULES].update_privacy(me["id"], cid, privacy))


async def archive_channel(request):
    me = current_user(request)
    cid = path_id(request, "channel_id")
    request.app[RULES].archive_channel(me["id"], cid)
    return ok()


async def restore_channel(request):
    me = current_user(request)
    cid = path_id(request, "channel_id")
    return json_response(request.app[RULES].restore_channel(me["id"], cid))


async def channel_stats(request):
    me = current_user(request)
    cid = path_id(request, "channel_id")
    return json_response(request.app[RULES].channel_stats(me["id"], cid))


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
