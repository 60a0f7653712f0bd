"""Interactive messages (button/menu clicks) and interactive dialogs."""
from aiohttp import web

from ..errors import bad_body_param
from ..transport import RULES, current_user, json_response, read_json


async def do_action(request):
    me = current_user(request)
    body = await read_json(request, "post_action", default={})
    if not isinstance(body, dict):
        body = {}
    trigger_id = await request.app[RULES].do_action(
        me["id"], request.match_info["post_id"], request.match_info["action_id"],
        cookie=body.get("cookie") or "", selected=body.get("selected_option") or "")
    return json_response({"status": "OK", "trigger_id": trigger_id})


async def open_dialog(request):
    body = await read_json(request, "dialog")
    if not isinstance(body, dict) or not isinstance(body.get("dialog"), dict):
        raise bad_body_param("dialog")
    if not body.get("url"):
        raise bad_body_param("url")
    request.app[RULES].open_dialog(body)
    return json_response({"status": "OK"})


async def submit_dialog(request):
    me = current_user(request)
    body = await read_json(request, "dialog")
    if not isinstance(body, dict) or not body.get("url"):
        raise bad_body_param("url")
    return json_response(await request.app[RULES].submit_dialog(me["id"], body))


def register(router: web.UrlDispatcher):
    router.add_post(r"/api/v4/posts/{post_id}/actions/{action_id:[A-Za-z0-9]+}", do_action)
    router.add_post("/api/v4/actions/dialogs/open", open_dialog)
    router.add_post("/api/v4/actions/dialogs/submit", submit_dialog)
