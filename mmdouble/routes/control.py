"""/_double/...: seeding and inspection over HTTP for bots and benchmarks in another process.

Plain JSON in and out; errors come back as AppError bodies like the real API.
"""
from aiohttp import web

from .. import shapes
from ..app import HUB, STATE, json_response, ok, read_json
from ..errors import AppError


async def _body(request):
    body = await read_json(request, "body", default={})
    if not isinstance(body, dict):
        raise AppError(400, "api.context.invalid_body_param.app_error", name="body")
    return body


def _call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except (TypeError, ValueError, KeyError) as exc:
        raise AppError(400, "api.context.invalid_body_param.app_error", str(exc), name="body")


async def teams(request):
    b = await _body(request)
    return json_response(_call(request.app[STATE].create_team, b.pop("name"), b.pop("display_name"), **b), 201)


async def users(request):
    b = await _body(request)
    return json_response(_call(request.app[STATE].create_user, b.pop("username"), **b), 201)


async def tokens(request):
    b = await _body(request)
    return json_response(_call(request.app[STATE].create_token, b.pop("user_id"), **b), 201)


async def team_members(request):
    b = await _body(request)
    return json_response(_call(request.app[STATE].add_team_member, b.pop("team_id"), b.pop("user_id"), **b), 201)


async def channels(request):
    b = await _body(request)
    state = request.app[STATE]
    return json_response(_call(state.create_channel, b.pop("team_id"), b.pop("name"), b.pop("display_name"),
                               **b), 201)


async def channel_members(request):
    b = await _body(request)
    return json_response(_call(request.app[STATE].add_channel_member, b.pop("channel_id"), b.pop("user_id"),
                               **b), 201)


async def config(request):
    state = request.app[STATE]
    if request.method == "POST":
        _call(state.set_config, **(await _body(request)))
    with state.lock:
        return json_response(dict(state.config))


async def drop_websockets(request):
    b = await _body(request)
    request.app[HUB].drop(b.get("user_id"))
    return ok()


async def block_websockets(request):
    b = await _body(request)
    request.app[HUB].block(float(b.get("seconds", 0)))
    return ok()


async def channel_posts(request):
    state = request.app[STATE]
    with state.lock:
        ids = state.channel_ids.get(request.match_info["channel_id"], [])
        return json_response([state.post_out(state.posts[p]) for p in ids])


async def get_post(request):
    state = request.app[STATE]
    with state.lock:
        p = state.posts.get(request.match_info["post_id"])
        if p is None:
            raise AppError(404, "app.post.get.app_error")
        return json_response(state.post_out(p))


async def list_commands(request):
    state = request.app[STATE]
    tid = request.query.get("team_id")
    with state.lock:
        return json_response([shapes.command_json(c) for c in state.commands.values()
                              if not c["delete_at"] and (tid is None or c["team_id"] == tid)])


async def channel_by_name(request):
    state = request.app[STATE]
    with state.lock:
        channel = next((dict(c) for c in state.channels.values()
                        if c["team_id"] == request.match_info["team_id"] and c["name"] == request.match_info["name"]), None)
    if channel is None:
        raise AppError(404, "app.channel.get_by_name.missing.app_error")
    return json_response(channel)


async def api_calls(request):
    state = request.app[STATE]
    with state.lock:
        return json_response({"calls": state.calls_by_token[request.query.get("token", "")]})


def register(router: web.UrlDispatcher):
    router.add_post("/_double/teams", teams)
    router.add_post("/_double/users", users)
    router.add_post("/_double/tokens", tokens)
    router.add_post("/_double/team_members", team_members)
    router.add_post("/_double/channels", channels)
    router.add_post("/_double/channel_members", channel_members)
    router.add_get("/_double/config", config)
    router.add_post("/_double/config", config)
    router.add_post("/_double/drop_websockets", drop_websockets)
    router.add_post("/_double/block_websockets", block_websockets)
    router.add_get("/_double/channels/{channel_id}/posts", channel_posts)
    router.add_get("/_double/posts/{post_id}", get_post)
    router.add_get("/_double/commands", list_commands)
    router.add_get("/_double/teams/{team_id}/channels/{name}", channel_by_name)
    router.add_get("/_double/api_calls", api_calls)
