"""/_double/...: seeding and inspection over HTTP for bots and benchmarks in another process.

Plain JSON in and out; errors come back as AppError bodies like the real API.  Seeding goes
through mmdouble.seeding, as it does in process, so both seed the same way.
"""
import functools

from aiohttp import web

from ..errors import AppError
from ..seeding import SEEDS, Seed
from ..transport import HUB, RULES, json_response, ok, read_json


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


async def seed(request, what: Seed):
    # A missing required member escapes _call (a 500), as it always has.
    positional, keywords = what.split(await _body(request))
    return json_response(_call(what.add, request.app[RULES], *positional, **keywords), 201)


async def config(request):
    rules = request.app[RULES]
    if request.method == "POST":
        _call(rules.set_config, **(await _body(request)))
    return json_response(rules.config())


async def drop_websockets(request):
    b = await _body(request)
    request.app[HUB].drop(b.get("user_id"))
    return ok()


async def block_websockets(request):
    b = await _body(request)
    request.app[HUB].block(float(b.get("seconds", 0)))
    return ok()


async def channel_posts(request):
    return json_response(request.app[RULES].posts_in(request.match_info["channel_id"]))


async def get_post(request):
    post = request.app[RULES].stored_post(request.match_info["post_id"])
    if post is None:
        raise AppError(404, "app.post.get.app_error")
    return json_response(post)


async def list_commands(request):
    return json_response(request.app[RULES].commands(request.query.get("team_id")))


async def channel_by_name(request):
    channel = request.app[RULES].stored_channel_by_name(request.match_info["team_id"], request.match_info["name"])
    if channel is None:
        raise AppError(404, "app.channel.get_by_name.missing.app_error")
    return json_response(channel)


async def api_calls(request):
    return json_response({"calls": request.app[RULES].api_calls(request.query.get("token", ""))})


def register(router: web.UrlDispatcher):
    for path, what in SEEDS.items():
        router.add_post(f"/_double/{path}", functools.partial(seed, what=what))
    router.add_get("/_double/config", config)
    router.add_post("/_double/config", config)
    router.add_post("/_double/drop_websockets", drop_websockets)
    router.add_post("/_double/block_websockets", block_websockets)
    router.add_get("/_double/channels/{channel_id}/posts", channel_posts)
    router.add_get("/_double/posts/{post_id}", get_post)
    router.add_get("/_double/commands", list_commands)
    router.add_get("/_double/teams/{team_id}/channels/{name}", channel_by_name)
    router.add_get("/_double/api_calls", api_calls)
