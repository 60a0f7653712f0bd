"""Users, roles and access tokens."""
from aiohttp import web

from ..errors import bad_body_param
from ..transport import RULES, current_user, int_param, json_response, ok, path_id, read_json


async def get_user(request):
    me = current_user(request)
    uid = path_id(request, "user_id")
    return json_response(request.app[RULES].get_user(me["id"], uid))


async def get_by_username(request):
    me = current_user(request)
    return json_response(request.app[RULES].user_by_username(me["id"], request.match_info["username"]))


async def autocomplete(request):
    me = current_user(request)
    limit = int_param(request, "limit", 100) if request.query.get("limit") else 100
    return json_response(request.app[RULES].autocomplete(
        me["id"], team_id=request.query.get("in_team", ""), channel_id=request.query.get("in_channel", ""),
        name=request.query.get("name", ""), limit=min(limit, 100)))


async def by_ids(request):
    me = current_user(request)
    ids = await read_json(request, "user_ids")
    if not isinstance(ids, list):
        raise bad_body_param("user_ids")
    return json_response(request.app[RULES].users_by_ids(me["id"], ids))


async def by_usernames(request):
    me = current_user(request)
    names = await read_json(request, "usernames")
    if not isinstance(names, list):
        raise bad_body_param("usernames")
    return json_response(request.app[RULES].users_by_usernames(me["id"], names))


async def update_roles(request):
    me = current_user(request)
    uid = path_id(request, "user_id")
    body = await read_json(request, "roles")
    roles = body.get("roles") if isinstance(body, dict) else None
    if not isinstance(roles, str):
        raise bad_body_param("roles")
    request.app[RULES].update_roles(me["id"], uid, roles)
    return ok()


async def user_teams(request):
    me = current_user(request)
    uid = path_id(request, "user_id")
    return json_response(request.app[RULES].user_teams(me["id"], uid))


async def user_team_channels(request):
    me = current_user(request)
    uid = path_id(request, "user_id")
    tid = path_id(request, "team_id")
    include_deleted = request.query.get("include_deleted") == "true"
    return json_response(request.app[RULES].user_team_channels(me["id"], uid, tid, include_deleted))


async def create_token(request):
    me = current_user(request)
    uid = path_id(request, "user_id")
    body = await read_json(request, "token", default={})
    return json_response(request.app[RULES].create_token_for(me["id"], uid, body))


def register(router: web.UrlDispatcher):
    router.add_get("/api/v4/users/username/{username}", get_by_username)
    router.add_get("/api/v4/users/autocomplete", autocomplete)  # before {user_id}, which would take the word
    router.add_post("/api/v4/users/ids", by_ids)
    router.add_post("/api/v4/users/usernames", by_usernames)
    router.add_get("/api/v4/users/{user_id}", get_user)
    router.add_put("/api/v4/users/{user_id}/roles", update_roles)
    router.add_get("/api/v4/users/{user_id}/teams", user_teams)
    router.add_get("/api/v4/users/{user_id}/teams/{team_id}/channels", user_team_channels)
    router.add_post("/api/v4/users/{user_id}/tokens", create_token)
