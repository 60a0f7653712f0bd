"""Users, roles and access tokens."""
from aiohttp import web

from .. import shapes
from ..app import STATE, current_user, json_response, ok, path_id, read_json
from ..errors import AppError, bad_body_param, forbidden


def _user_out(state, user, me):
    return shapes.user_json(user, is_self=user["id"] == me["id"])


async def get_user(request):
    me = current_user(request)
    state = request.app[STATE]
    uid = path_id(request, "user_id")
    with state.lock:
        return json_response(_user_out(state, state.user(uid), me))


async def get_by_username(request):
    me = current_user(request)
    state = request.app[STATE]
    name = request.match_info["username"]
    with state.lock:
        uid = state.usernames.get(name)
        if not uid:
            raise AppError(404, "app.user.get_by_username.app_error",
                           f"resource: User id: username={name}")
        return json_response(_user_out(state, state.users[uid], me))


async def by_ids(request):
    me = current_user(request)
    state = request.app[STATE]
    ids = await read_json(request, "user_ids")
    if not isinstance(ids, list):
        raise bad_body_param("user_ids")
    with state.lock:
        return json_response([_user_out(state, state.users[i], me) for i in ids if i in state.users])


async def by_usernames(request):
    me = current_user(request)
    state = request.app[STATE]
    names = await read_json(request, "usernames")
    if not isinstance(names, list):
        raise bad_body_param("usernames")
    with state.lock:
        found = [state.users[state.usernames[n]] for n in names if n in state.usernames]
        return json_response([_user_out(state, u, me) for u in found])


async def update_roles(request):
    me = current_user(request)
    state = request.app[STATE]
    uid = path_id(request, "user_id")
    body = await read_json(request, "roles")
    roles = body.get("roles") if isinstance(body, dict) else None
    if not isinstance(roles, str):
        raise bad_body_param("roles")
    with state.lock:
        if not state.is_sysadmin(me["id"]):
            raise forbidden(me["id"], "manage_roles")
        user = state.user(uid)
        if any(r not in ("system_user", "system_admin", "system_guest", "system_user_access_token",
                         "system_post_all", "system_post_all_public") for r in roles.split()):
            raise AppError(400, "api.user.update_user_roles.invalid")
        user["roles"] = roles
        state.publish("user_role_updated", {"roles": roles, "user_id": uid}, user_id=uid)
    return ok()


async def user_teams(request):
    me = current_user(request)
    state = request.app[STATE]
    uid = path_id(request, "user_id")
    with state.lock:
        if uid != me["id"] and not state.is_sysadmin(me["id"]):
            raise forbidden(me["id"], "sysconsole_read_user_management_users")
        state.user(uid)
        teams = [shapes.team_json(t) for tid, t in state.teams.items() if state.is_team_member(tid, uid)]
        return json_response(teams)


async def user_team_channels(request):
    me = current_user(request)
    state = request.app[STATE]
    uid = path_id(request, "user_id")
    tid = path_id(request, "team_id")
    with state.lock:
        if uid != me["id"] and not state.is_sysadmin(me["id"]):
            raise forbidden(me["id"], "edit_other_users")
        if not state.is_team_member(tid, uid) and not state.is_sysadmin(me["id"]):
            raise forbidden(me["id"], "view_team")
        chans = [shapes.channel_json(c) for c in state.channels.values()
                 if (c["team_id"] in (tid, "")) and state.is_member(c["id"], uid)
                 and not c.get("delete_at")]
        return json_response(chans)


async def create_token(request):
    me = current_user(request)
    state = request.app[STATE]
    uid = path_id(request, "user_id")
    body = await read_json(request, "token", default={})
    with state.lock:
        if uid != me["id"] and not state.is_sysadmin(me["id"]):
            raise forbidden(me["id"], "create_user_access_token")
        record = state.create_token(uid, description=str((body or {}).get("description", "")))
    return json_response(dict(record))


def register(router: web.UrlDispatcher):
    router.add_get("/api/v4/users/username/{username}", get_by_username)
    router.add_post("/api/v4/users/ids", by_ids)
    router.add_post("/api/v4/users/usernames", by_usernames)
    router.add_get("/api/v4/users/{user_id}", get_user)
    router.add_put("/api/v4/users/{user_id}/roles", update_roles)
    router.add_get("/api/v4/users/{user_id}/teams", user_teams)
    router.add_get("/api/v4/users/{user_id}/teams/{team_id}/channels", user_team_channels)
    router.add_post("/api/v4/users/{user_id}/tokens", create_token)
