"""Custom slash commands: CRUD, execution against the integration, response_url hooks."""
from aiohttp import web

from ..errors import bad_body_param
from ..transport import RULES, current_user, json_response, ok, read_json


async def _command_body(request) -> dict:
    body = await read_json(request, "command")
    if not isinstance(body, dict):
        raise bad_body_param("command")
    return body


async def create_command(request):
    me = current_user(request)
    body = await _command_body(request)
    return json_response(request.app[RULES].create_command(me["id"], body), status=201)


async def list_commands(request):
    me = current_user(request)
    return json_response(request.app[RULES].team_commands(me["id"], request.query.get("team_id", "")))


async def update_command(request):
    me = current_user(request)
    body = await _command_body(request)
    return json_response(request.app[RULES].update_command(me["id"], request.match_info["command_id"], body))


async def regen_command_token(request):
    me = current_user(request)
    return json_response(request.app[RULES].regen_command_token(me["id"], request.match_info["command_id"]))


async def delete_command(request):
    me = current_user(request)
    request.app[RULES].delete_command(me["id"], request.match_info["command_id"])
    return ok()


async def execute(request):
    me = current_user(request)
    body = await read_json(request, "command_args")
    if not isinstance(body, dict):
        raise bad_body_param("command_args")
    return json_response(await request.app[RULES].execute(me["id"], body))


async def command_hook(request):
    raw = await request.read()
    request.app[RULES].use_response_url(request.match_info["hook_id"], request.headers.get("Content-Type", ""), raw)
    return web.Response(text="ok", content_type="text/plain")


def register(router: web.UrlDispatcher):
    router.add_post("/api/v4/commands", create_command)
    router.add_get("/api/v4/commands", list_commands)
    router.add_post("/api/v4/commands/execute", execute)
    router.add_put("/api/v4/commands/{command_id}", update_command)
    router.add_put("/api/v4/commands/{command_id}/regen_token", regen_command_token)
    router.add_delete("/api/v4/commands/{command_id}", delete_command)
    router.add_post("/hooks/commands/{hook_id}", command_hook)
