"""Interactive messages (button/menu clicks) and interactive dialogs."""
import copy
import json

from aiohttp import web

from .. import integrations, shapes
from ..app import STATE, TRIGGERS, current_user, json_response, read_json
from ..errors import AppError, bad_body_param, forbidden
from .posts import apply_update, send_ephemeral


def _integration_error(detail) -> AppError:
    return AppError(400, "api.post.do_action.action_integration.app_error", detail)


def _find_action(post, action_id):
    for att in (post.get("props") or {}).get("attachments") or []:
        for act in att.get("actions") or []:
            if act.get("id") == action_id:
                return act
    return None


async def _ask_integration(url: str, config: dict, payload: dict) -> dict:
    """POST a click or a dialog submission to the integration, as the server does: anything but
    a 200 with a JSON body (or none) is the same integration error; a non-object answer is no-op."""
    try:
        reply = await integrations.call(url, config=config, json_body=payload,
                                        headers={"Content-Type": "application/json"})
    except integrations.IntegrationError as exc:
        raise _integration_error(f"err={exc}")
    if reply.status != 200:
        raise _integration_error(f"status={reply.status}")
    try:
        answer = json.loads(reply.body) if reply.body.strip() else {}
    except ValueError as exc:
        raise _integration_error(f"err={exc}")
    return answer if isinstance(answer, dict) else {}


async def do_action(request):
    me = current_user(request)
    state = request.app[STATE]
    post_id = request.match_info["post_id"]
    action_id = request.match_info["action_id"]
    body = await read_json(request, "post_action", default={})
    if not isinstance(body, dict):
        body = {}
    cookie = body.get("cookie") or ""
    selected = body.get("selected_option") or ""
    with state.lock:
        post = state.posts.get(post_id)
        ephemeral = None
        if cookie:
            ephemeral = state.cookies.get(cookie)
            if ephemeral is None:
                raise _integration_error("err=cipher: message authentication failed")
            channel_id = ephemeral["channel_id"]
        elif post is None or post.get("delete_at"):
            raise forbidden(me["id"], "read_channel")
        else:
            channel_id = post["channel_id"]
        state.require_read_channel(channel_id, me["id"])
        if ephemeral is not None:
            action = ephemeral["action"] if ephemeral["action"].get("id") == action_id else None
            root_id = ephemeral["root_id"] or ephemeral["post_id"]
        else:
            action = _find_action(post, action_id)
            root_id = post.get("root_id") or post["id"]
        if action is None or not (action.get("integration") or {}).get("url"):
            raise AppError(404, "api.post.do_action.action_id.app_error", "action=<nil>")
        chan = state.channels[channel_id]
        team = state.teams.get(chan["team_id"], {})
        client_tid, full_tid = request.app[TRIGGERS].mint(me["id"])
        context = copy.deepcopy(action["integration"].get("context") or {})
        if action.get("type") == "select" and selected:
            context["selected_option"] = selected
        payload = {"user_id": me["id"], "user_name": me["username"], "channel_id": channel_id,
                   "channel_name": chan["name"], "team_id": chan["team_id"],
                   "team_domain": team.get("name", ""), "post_id": post_id, "trigger_id": full_tid,
                   "type": action.get("type", ""),
                   "data_source": action.get("data_source", "") if action.get("type") == "select" else ""}
        if context:
            payload["context"] = context
        url = action["integration"]["url"]
        config = dict(state.config)
    answer = await _ask_integration(url, config, payload)
    with state.lock:
        update = answer.get("update")
        if isinstance(update, dict):
            stored = state.posts.get(post_id)
            if stored is None or stored.get("delete_at"):
                # Ephemeral posts are not stored, so the server cannot update them.
                raise AppError(404, "app.post.get.app_error", f"resource: Post id: {post_id}")
            changes = {"message": update.get("message") or "", "file_ids": update.get("file_ids") or []}
            if update.get("props") is not None:
                props = dict(update["props"])
                for key in shapes.RESERVED_PROPS:
                    props.pop(key, None)
                    if key in (stored.get("props") or {}):
                        props[key] = stored["props"][key]
                changes["props"] = props
            apply_update(state, stored, changes)
        if answer.get("ephemeral_text"):
            send_ephemeral(state, {"user_id": me["id"], "channel_id": channel_id, "root_id": root_id,
                                   "message": answer["ephemeral_text"], "props": {}}, me["id"])
    return json_response({"status": "OK", "trigger_id": client_tid})


async def open_dialog(request):
    state = request.app[STATE]
    body = await read_json(request, "dialog")
    if not isinstance(body, dict) or not isinstance(body.get("dialog"), dict):
        raise bad_body_param("dialog")
    if not body.get("url"):
        raise bad_body_param("url")
    client_tid, user_id = request.app[TRIGGERS].verify(body.get("trigger_id") or "",
                                                       float(state.config["TriggerLifetimeSeconds"]))
    payload = {"trigger_id": client_tid, "url": body["url"], "dialog": shapes.dialog_json(body["dialog"])}
    with state.lock:
        state.publish("open_dialog", {"dialog": shapes.dumps(payload)}, user_id=user_id)
    return json_response({"status": "OK"})


async def submit_dialog(request):
    me = current_user(request)
    state = request.app[STATE]
    body = await read_json(request, "dialog")
    if not isinstance(body, dict) or not body.get("url"):
        raise bad_body_param("url")
    with state.lock:
        cid = body.get("channel_id") or ""
        state.require_read_channel(cid, me["id"])
        team_id = body.get("team_id") or ""
        if team_id and not (state.is_team_member(team_id, me["id"]) or state.is_sysadmin(me["id"])):
            raise forbidden(me["id"], "view_team")
        payload = {"type": "dialog_submission", "callback_id": body.get("callback_id") or "",
                   "state": body.get("state") or "", "user_id": me["id"], "channel_id": cid,
                   "team_id": team_id, "submission": body.get("submission") or {},
                   "cancelled": bool(body.get("cancelled"))}
        config = dict(state.config)
    return json_response(await _ask_integration(body["url"], config, payload))


def register(router: web.UrlDispatcher):
    router.add_post(r"/api/v4/posts/{post_id}/actions/{action_id:[A-Za-z0-9]+}", do_action)
    router.add_post("/api/v4/actions/dialogs/open", open_dialog)
    router.add_post("/api/v4/actions/dialogs/submit", submit_dialog)
