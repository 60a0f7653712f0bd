"""Teams and team membership."""
from aiohttp import web

from ..errors import bad_body_param
from ..transport import RULES, current_user, json_response, paging, path_id, read_json


async def by_name(request):
    me = current_user(request)
    return json_response(request.app[RULES].team_by_name(me["id"], request.match_info["name"]))


async def get_team(request):
    me = current_user(request)
    tid = path_id(request, "team_id")
    return json_response(request.app[RULES].get_team(me["id"], tid))


async def list_members(request):
    me = current_user(request)
    tid = path_id(request, "team_id")
    page, per_page = paging(request)
    return json_response(request.app[RULES].team_members(me["id"], tid, page, per_page))


async def get_member(request):
    me = current_user(request)
    tid = path_id(request, "team_id")
    uid = path_id(request, "user_id")
    return json_response(request.app[RULES].team_member(me["id"], tid, uid))


async def add_member(request):
    me = current_user(request)
    tid = path_id(request, "team_id")
    body = await read_json(request, "team_member")
    uid = body.get("user_id") if isinstance(body, dict) else None
    if not isinstance(uid, str):
        raise bad_body_param("user_id")
    return json_response(request.app[RULES].join_team(me["id"], tid, uid), status=201)


def register(router: web.UrlDispatcher):
    router.add_get("/api/v4/teams/name/{name}", by_name)
    router.add_get("/api/v4/teams/{team_id}", get_team)
    router.add_get("/api/v4/teams/{team_id}/members", list_members)
    router.add_post("/api/v4/teams/{team_id}/members", add_member)
    router.add_get("/api/v4/teams/{team_id}/members/{user_id}", get_member)
