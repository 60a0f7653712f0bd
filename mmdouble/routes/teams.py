"""Teams and team membership."""
from aiohttp import web

from .. import shapes
from ..app import STATE, current_user, json_response, path_id, read_json
from ..errors import AppError, bad_body_param, forbidden
from .channels import join_channel


def _paging(request):
    try:
        page = max(0, int(request.query.get("page", 0)))
    except ValueError:
        page = 0
    try:
        per_page = int(request.query.get("per_page", 60))
    except ValueError:
        per_page = 60
    per_page = 60 if per_page <= 0 else min(per_page, 200)
    return page, per_page


def _require_view_team(state, team_id, user_id):
    if not (state.is_team_member(team_id, user_id) or state.is_sysadmin(user_id)):
        raise forbidden(user_id, "view_team")


async def by_name(request):
    me = current_user(request)
    state = request.app[STATE]
    name = request.match_info["name"]
    with state.lock:
        team = next((t for t in state.teams.values() if t["name"] == name), None)
        if team is None:
            raise AppError(404, "app.team.get_by_name.missing.app_error", f"name={name}")
        _require_view_team(state, team["id"], me["id"])
        return json_response(shapes.team_json(team))


async def get_team(request):
    me = current_user(request)
    state = request.app[STATE]
    tid = path_id(request, "team_id")
    with state.lock:
        team = state.team(tid)
        _require_view_team(state, tid, me["id"])
        return json_response(shapes.team_json(team))


async def list_members(request):
    me = current_user(request)
    state = request.app[STATE]
    tid = path_id(request, "team_id")
    page, per_page = _paging(request)
    with state.lock:
        state.team(tid)
        _require_view_team(state, tid, me["id"])
        members = sorted(state.team_members[tid].values(), key=lambda m: m["user_id"])
        chunk = members[page * per_page:(page + 1) * per_page]
        return json_response([shapes.team_member_json(m) for m in chunk])


async def get_member(request):
    me = current_user(request)
    state = request.app[STATE]
    tid = path_id(request, "team_id")
    uid = path_id(request, "user_id")
    with state.lock:
        state.team(tid)
        _require_view_team(state, tid, me["id"])
        m = state.team_members[tid].get(uid)
        if m is None:
            raise AppError(404, "app.team.get_member.missing.app_error", f"teamId={tid}, userId={uid}")
        return json_response(shapes.team_member_json(m))


async def add_member(request):
    me = current_user(request)
    state = request.app[STATE]
    tid = path_id(request, "team_id")
    body = await read_json(request, "team_member")
    uid = body.get("user_id") if isinstance(body, dict) else None
    if not isinstance(uid, str):
        raise bad_body_param("user_id")
    with state.lock:
        state.team(tid)
        if not state.is_team_admin(tid, me["id"]):
            raise forbidden(me["id"], "add_user_to_team")
        state.user(uid)
        already = state.is_team_member(tid, uid)
        member = state.add_team_member(tid, uid)
        if not already:
            state.publish("added_to_team", {"team_id": tid, "user_id": uid}, user_id=uid)
            # Joining a team puts the user in its default channels, like JoinDefaultChannels.
            for chan in list(state.channels.values()):
                if chan["team_id"] == tid and chan["name"] in ("town-square", "off-topic") \
                        and not chan.get("delete_at"):
                    join_channel(state, chan, uid, actor_id=uid)
        return json_response(member, status=201)


def register(router: web.UrlDispatcher):
    router.add_get("/api/v4/teams/name/{name}", by_name)
    router.add_get("/api/v4/teams/{team_id}", get_team)
    router.add_get("/api/v4/teams/{team_id}/members", list_members)
    router.add_post("/api/v4/teams/{team_id}/members", add_member)
    router.add_get("/api/v4/teams/{team_id}/members/{user_id}", get_member)
