"""Custom slash commands: CRUD, execution against the integration, response_url hooks."""
import json
import re

from aiohttp import web

from .. import integrations, shapes
from ..app import STATE, TRIGGERS, current_user, json_response, ok, path_id, read_json
from ..errors import AppError, bad_body_param, forbidden
from ..ids import new_id, now_ms
from .posts import new_post, send_ephemeral

HOOK_MAX_USES = 5
HOOK_LIFETIME_MS = 30 * 60 * 1000
_EDITABLE = ("trigger", "method", "url", "username", "icon_url", "auto_complete", "auto_complete_desc",
             "auto_complete_hint", "display_name", "description")


def _require_enabled(state):
    if not state.config["EnableCommands"]:
        raise AppError(501, "api.command.disabled.app_error")


def _validate(state, cmd, exclude_id=None):
    trig = cmd.get("trigger") or ""
    if not (1 <= len(trig) <= 128) or trig.startswith("/") or " " in trig:
        raise AppError(400, "model.command.is_valid.trigger.app_error")
    url = cmd.get("url") or ""
    if not url or len(url) > 1024:
        raise AppError(400, "model.command.is_valid.url.app_error")
    if not (url.startswith("http://") or url.startswith("https://")):
        raise AppError(400, "model.command.is_valid.url_http.app_error")
    if cmd.get("method") not in ("P", "G"):
        raise AppError(400, "model.command.is_valid.method.app_error")
    for other in state.commands.values():
        if other["id"] != exclude_id and other["team_id"] == cmd["team_id"] and not other["delete_at"] \
                and other["trigger"] == trig:
            raise AppError(400, "api.command.duplicate_trigger.app_error")


async def create_command(request):
    me = current_user(request)
    state = request.app[STATE]
    body = await read_json(request, "command")
    if not isinstance(body, dict):
        raise bad_body_param("command")
    with state.lock:
        _require_enabled(state)
        team_id = body.get("team_id") or ""
        if not state.is_team_admin(team_id, me["id"]):
            raise forbidden(me["id"], "manage_slash_commands")
        t = now_ms()
        cmd = {"id": new_id(), "token": new_id(), "create_at": t, "update_at": t, "delete_at": 0,
               "creator_id": me["id"], "team_id": team_id, "plugin_id": ""}
        for key in _EDITABLE:
            default = False if key == "auto_complete" else ""
            cmd[key] = body.get(key, default) if body.get(key) is not None else default
        cmd["trigger"] = str(cmd["trigger"]).lower()
        _validate(state, cmd)
        state.commands[cmd["id"]] = cmd
        return json_response(shapes.command_json(cmd), status=201)


async def list_commands(request):
    me = current_user(request)
    state = request.app[STATE]
    team_id = request.query.get("team_id", "")
    with state.lock:
        _require_enabled(state)
        if not (state.is_team_member(team_id, me["id"]) or state.is_sysadmin(me["id"])):
            raise forbidden(me["id"], "view_team")
        manage = state.is_team_admin(team_id, me["id"])
        cmds = sorted((c for c in state.commands.values() if c["team_id"] == team_id and not c["delete_at"]),
                      key=lambda c: c["create_at"])
        return json_response([shapes.command_json(c, sanitize=not manage) for c in cmds])


def _own_command(state, request, me):
    cmd = state.commands.get(path_id(request, "command_id"))
    if cmd is None or cmd["delete_at"]:
        raise AppError(404, "app.command.getcommand.app_error")
    if not state.is_team_admin(cmd["team_id"], me["id"]):
        raise forbidden(me["id"], "manage_slash_commands")
    return cmd


async def update_command(request):
    me = current_user(request)
    state = request.app[STATE]
    body = await read_json(request, "command")
    if not isinstance(body, dict):
        raise bad_body_param("command")
    with state.lock:
        _require_enabled(state)
        cmd = _own_command(state, request, me)
        updated = dict(cmd)
        for key in _EDITABLE:
            if key in body and body[key] is not None:
                updated[key] = body[key]
        updated["trigger"] = str(updated["trigger"]).lower()
        _validate(state, updated, exclude_id=cmd["id"])
        updated["update_at"] = now_ms()
        cmd.update(updated)
        return json_response(shapes.command_json(cmd))


async def delete_command(request):
    me = current_user(request)
    state = request.app[STATE]
    with state.lock:
        _require_enabled(state)
        cmd = _own_command(state, request, me)
        cmd["delete_at"] = now_ms()
    return ok()


def handle_response(state, user, chan, cmd, root_id, resp: dict):
    """Turn a CommandResponse into an in-channel post or an ephemeral one."""
    responses = [resp] + [r for r in resp.get("extra_responses") or [] if isinstance(r, dict)]
    for r in responses:
        target = chan
        if r.get("channel_id") and r["channel_id"] != chan["id"]:
            target = state.channels.get(r["channel_id"])
            if target is None or not state.is_member(target["id"], user["id"]):
                raise AppError(403, "api.command.command_post.forbidden.app_error")
        props = dict(r.get("props") or {})
        if r.get("attachments"):
            props["attachments"] = r["attachments"]
        hook_props = {"from_webhook": "true"}
        username = (cmd or {}).get("username") or r.get("username") or ""
        if username and state.config["EnablePostUsernameOverride"]:
            hook_props["override_username"] = username
        if state.config["EnablePostIconOverride"]:
            hook_props["override_icon_url"] = (cmd or {}).get("icon_url") or r.get("icon_url") or ""
        ptype = r.get("type") or ("slack_attachment" if r.get("attachments") else "")
        if r.get("response_type") == "in_channel":
            new_post(state, user, {"channel_id": target["id"], "message": r.get("text") or "",
                                   "root_id": root_id, "props": props, "type": ptype},
                     from_webhook_props=hook_props)
        elif r.get("text") or r.get("attachments"):
            props.update(hook_props)
            send_ephemeral(state, {"user_id": user["id"], "channel_id": target["id"], "root_id": root_id,
                                   "message": r.get("text") or "", "props": props}, user["id"])


def parse_body(reply) -> dict:
    media = reply.content_type.split(";")[0].strip()
    text = reply.body.decode("utf-8", "replace")
    if media == "application/json":
        if not text.strip():
            return {}
        parsed = json.loads(text)
        if isinstance(parsed, str):
            return {"text": parsed} if parsed else {}
        if not isinstance(parsed, dict):
            raise ValueError("not an object")
        return parsed
    return {"text": text} if text else {}


async def execute(request):
    me = current_user(request)
    state = request.app[STATE]
    body = await read_json(request, "command_args")
    if not isinstance(body, dict):
        raise bad_body_param("command_args")
    command = body.get("command") or ""
    if not command.startswith("/") or len(command) <= 1:
        raise AppError(400, "api.command.execute_command.start.app_error")
    parts = re.split(r"\s", command[1:], maxsplit=1)
    trigger = parts[0].lower()
    text = parts[1] if len(parts) > 1 else ""
    with state.lock:
        chan = state.channels.get(body.get("channel_id") or "")
        if chan is None or not state.is_member(chan["id"], me["id"]):
            raise forbidden(me["id"], "use_slash_commands")
        team_id = chan["team_id"] or body.get("team_id") or ""
        if not chan["team_id"] and not state.is_team_member(team_id, me["id"]):
            raise forbidden(me["id"], "use_slash_commands")
        cmd = None
        if state.config["EnableCommands"]:
            cmd = next((c for c in state.commands.values() if c["team_id"] == team_id and not c["delete_at"]
                        and c["trigger"] == trigger), None)
        if cmd is None:
            raise AppError(404, "api.command.execute_command.not_found.app_error", trigger=trigger)
        cmd = dict(cmd)
        team = state.teams.get(team_id, {})
        hook = {"id": new_id(), "command_id": cmd["id"], "user_id": me["id"], "channel_id": chan["id"],
                "root_id": body.get("root_id") or "", "uses": 0, "create_at": now_ms()}
        state.command_hooks[hook["id"]] = hook
        client_tid, full_tid = request.app[TRIGGERS].mint(me["id"])
        form = {"channel_id": chan["id"], "channel_name": chan["name"], "command": "/" + trigger,
                "response_url": f"{state.config['SiteURL']}/hooks/commands/{hook['id']}",
                "team_domain": team.get("name", ""), "team_id": team_id, "text": text,
                "token": cmd["token"], "trigger_id": full_tid, "user_id": me["id"],
                "user_name": me["username"]}
        fields = sorted(form.items())
        mentioned = []
        for name in re.findall(r"@([a-z0-9.\-_]+)", text, re.IGNORECASE):
            uid = state.usernames.get(name.lower())
            if uid and state.is_team_member(team_id, uid):
                mentioned.append((name, uid))
        for name, uid in mentioned:
            fields += [("user_mentions", name), ("user_mentions_ids", uid)]
        config = dict(state.config)
    headers = {"Authorization": f"Token {cmd['token']}"} if cmd["token"] else {}
    method = "GET" if cmd["method"] == "G" else "POST"
    try:
        reply = await integrations.call(cmd["url"], config=config, method=method, form=fields, headers=headers)
    except integrations.IntegrationError as exc:
        raise AppError(500, "api.command.execute_command.failed.app_error", str(exc), trigger=trigger)
    if reply.status != 200:
        raise AppError(500, "api.command.execute_command.failed_resp.app_error",
                       reply.body.decode("utf-8", "replace"), trigger=trigger,
                       status_text=f"{reply.status} {reply.reason}".strip())
    try:
        resp = parse_body(reply)
    except ValueError as exc:
        raise AppError(500, "api.command.execute_command.failed.app_error", str(exc), trigger=trigger)
    with state.lock:
        try:
            handle_response(state, me, chan, cmd, body.get("root_id") or "", resp)
        except AppError as err:
            if err.status == 403:
                raise
            raise AppError(500, "api.command.execute_command.create_post_failed.app_error", err.message,
                           trigger=trigger)
    return json_response(shapes.command_response_json(resp, client_tid))


async def command_hook(request):
    state = request.app[STATE]
    hook_id = request.match_info["hook_id"]
    raw = await request.read()

    class _Reply:
        content_type = request.headers.get("Content-Type", "")
        body = raw
    with state.lock:
        hook = state.command_hooks.get(hook_id)
        if hook is None:
            raise AppError(404, "app.command_webhook.get.missing")
        if hook["uses"] >= HOOK_MAX_USES or now_ms() - hook["create_at"] > HOOK_LIFETIME_MS:
            raise AppError(400, "app.command_webhook.try_use.invalid")
        hook["uses"] += 1
        try:
            resp = parse_body(_Reply)
        except ValueError:
            raise AppError(400, "api.context.invalid_body_param.app_error", name="command_response")
        chan = state.channel(hook["channel_id"])
        handle_response(state, state.users[hook["user_id"]], chan, state.commands.get(hook["command_id"]),
                        hook["root_id"], resp)
    return web.Response(text="ok", content_type="text/plain")


def register(router: web.UrlDispatcher):
    router.add_post("/api/v4/commands", create_command)
    router.add_get("/api/v4/commands", list_commands)
    router.add_post("/api/v4/commands/execute", execute)
    router.add_put("/api/v4/commands/{command_id}", update_command)
    router.add_delete("/api/v4/commands/{command_id}", delete_command)
    router.add_post("/hooks/commands/{hook_id}", command_hook)
