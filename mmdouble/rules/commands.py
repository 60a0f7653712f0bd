"""Custom slash commands: CRUD, execution against the integration, response_url hooks."""
import json
import re

from .. import integrations, shapes
from ..errors import AppError, bad_url_param, forbidden
from ..ids import is_valid_id, new_id, now_ms
from .base import locked
from .posts import PostRules

HOOK_MAX_USES = 5
HOOK_LIFETIME_MS = 30 * 60 * 1000
_EDITABLE = ("trigger", "method", "url", "username", "icon_url", "auto_complete", "auto_complete_desc",
             "auto_complete_hint", "display_name", "description")


def parse_response(content_type: str, body: bytes) -> dict:
    """A CommandResponse from what the integration (or a response_url caller) sent."""
    media = content_type.split(";")[0].strip()
    text = body.decode("utf-8", "replace")
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


class CommandRules(PostRules):
    def _require_enabled(self):
        if not self._store.config["EnableCommands"]:
            raise AppError(501, "api.command.disabled.app_error")

    def _validate(self, cmd, exclude_id=None):
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
        for other in self._store.commands.values():
            if other["id"] != exclude_id and other["team_id"] == cmd["team_id"] and not other["delete_at"] \
                    and other["trigger"] == trig:
                raise AppError(400, "api.command.duplicate_trigger.app_error")

    def _own_command(self, me_id, command_id) -> dict:
        # The server checks EnableCommands before it looks at the id in the URL.
        if not is_valid_id(command_id):
            raise bad_url_param("command_id")
        cmd = self._store.commands.get(command_id)
        if cmd is None or cmd["delete_at"]:
            raise AppError(404, "app.command.getcommand.app_error")
        if not self._is_team_admin(cmd["team_id"], me_id):
            raise forbidden(me_id, "manage_slash_commands")
        return cmd

    # ------------------------------------------------------------------ CRUD
    @locked
    def create_command(self, me_id, body: dict) -> dict:
        self._require_enabled()
        team_id = body.get("team_id") or ""
        if not self._is_team_admin(team_id, me_id):
            raise forbidden(me_id, "manage_slash_commands")
        t = now_ms()
        cmd = {"id": new_id(), "token": new_id(), "create_at": t, "update_at": t, "delete_at": 0,
               "creator_id": me_id, "team_id": team_id, "plugin_id": ""}
        for key in _EDITABLE:
            default = False if key == "auto_complete" else ""
            cmd[key] = body.get(key, default) if body.get(key) is not None else default
        cmd["trigger"] = str(cmd["trigger"]).lower()
        self._validate(cmd)
        self._store.commands[cmd["id"]] = cmd
        return shapes.command_json(cmd)

    @locked
    def team_commands(self, me_id, team_id) -> list[dict]:
        self._require_enabled()
        self._require_view_team(team_id, me_id)
        manage = self._is_team_admin(team_id, me_id)
        cmds = sorted((c for c in self._store.commands.values() if c["team_id"] == team_id and not c["delete_at"]),
                      key=lambda c: c["create_at"])
        return [shapes.command_json(c, sanitize=not manage) for c in cmds]

    @locked
    def update_command(self, me_id, command_id, body: dict) -> dict:
        self._require_enabled()
        cmd = self._own_command(me_id, command_id)
        updated = dict(cmd)
        for key in _EDITABLE:
            if key in body and body[key] is not None:
                updated[key] = body[key]
        updated["trigger"] = str(updated["trigger"]).lower()
        self._validate(updated, exclude_id=cmd["id"])
        updated["update_at"] = now_ms()
        cmd.update(updated)
        return shapes.command_json(cmd)

    @locked
    def regen_command_token(self, me_id, command_id) -> dict:
        """PUT /commands/{id}/regen_token: a new token replaces the old one at once.

        As api4/command.go regenCommandToken (5.x) answers: a malformed id is 400; a command that
        is missing or deleted, one in a team where the caller may not manage slash commands (so
        its existence does not leak), and any command while commands are disabled (its lookup
        fails first) are all 404 store.sql_command.save.get.app_error. The answer is {"token": new}.
        """
        if not is_valid_id(command_id):
            raise bad_url_param("command_id")
        cmd = self._store.commands.get(command_id)
        if not self._store.config["EnableCommands"] or cmd is None or cmd["delete_at"] \
                or not self._is_team_admin(cmd["team_id"], me_id):
            raise AppError(404, "store.sql_command.save.get.app_error")
        cmd["token"] = new_id()
        cmd["update_at"] = now_ms()
        return {"token": cmd["token"]}

    @locked
    def delete_command(self, me_id, command_id) -> None:
        self._require_enabled()
        self._own_command(me_id, command_id)["delete_at"] = now_ms()

    # ------------------------------------------------------------------ execution
    def _handle_response(self, user_id, chan, cmd, root_id, resp: dict):
        """Turn a CommandResponse into an in-channel post or an ephemeral one."""
        config = self._store.config
        responses = [resp] + [r for r in resp.get("extra_responses") or [] if isinstance(r, dict)]
        for r in responses:
            target = chan
            if r.get("channel_id") and r["channel_id"] != chan["id"]:
                target = self._store.channels.get(r["channel_id"])
                if target is None or not self._is_member(target["id"], user_id):
                    raise AppError(403, "api.command.command_post.forbidden.app_error")
            props = dict(r.get("props") or {})
            if r.get("attachments"):
                props["attachments"] = r["attachments"]
            hook_props = {"from_webhook": "true"}
            username = (cmd or {}).get("username") or r.get("username") or ""
            if username and config["EnablePostUsernameOverride"]:
                hook_props["override_username"] = username
            if config["EnablePostIconOverride"]:
                hook_props["override_icon_url"] = (cmd or {}).get("icon_url") or r.get("icon_url") or ""
            ptype = r.get("type") or ("slack_attachment" if r.get("attachments") else "")
            if r.get("response_type") == "in_channel":
                self._new_post(user_id, {"channel_id": target["id"], "message": r.get("text") or "",
                                         "root_id": root_id, "props": props, "type": ptype},
                               from_webhook_props=hook_props)
            elif r.get("text") or r.get("attachments"):
                props.update(hook_props)
                self._send_ephemeral({"user_id": user_id, "channel_id": target["id"], "root_id": root_id,
                                      "message": r.get("text") or "", "props": props}, user_id)

    async def execute(self, me_id, body: dict) -> dict:
        """POST /commands/execute: ask the integration (without the lock held), then post its answer."""
        command = body.get("command") or ""
        if not command.startswith("/") or len(command) <= 1:
            raise AppError(400, "api.command.execute_command.start.app_error")
        parts = re.split(r"\s", command[1:], maxsplit=1)
        trigger = parts[0].lower()
        text = parts[1] if len(parts) > 1 else ""
        with self._lock:
            store = self._store
            chan = store.channels.get(body.get("channel_id") or "")
            if chan is None or not self._is_member(chan["id"], me_id):
                raise forbidden(me_id, "use_slash_commands")
            team_id = chan["team_id"] or body.get("team_id") or ""
            if not chan["team_id"] and not self._is_team_member(team_id, me_id):
                raise forbidden(me_id, "use_slash_commands")
            cmd = None
            if store.config["EnableCommands"]:
                cmd = next((c for c in store.commands.values() if c["team_id"] == team_id and not c["delete_at"]
                            and c["trigger"] == trigger), None)
            if cmd is None:
                raise AppError(404, "api.command.execute_command.not_found.app_error", trigger=trigger)
            cmd = dict(cmd)
            team = store.teams.get(team_id, {})
            hook = {"id": new_id(), "command_id": cmd["id"], "user_id": me_id, "channel_id": chan["id"],
                    "root_id": body.get("root_id") or "", "uses": 0, "create_at": now_ms()}
            store.command_hooks[hook["id"]] = hook
            client_tid, full_tid = self._triggers.mint(me_id)
            form = {"channel_id": chan["id"], "channel_name": chan["name"], "command": "/" + trigger,
                    "response_url": f"{store.config['SiteURL']}/hooks/commands/{hook['id']}",
                    "team_domain": team.get("name", ""), "team_id": team_id, "text": text,
                    "token": cmd["token"], "trigger_id": full_tid, "user_id": me_id,
                    "user_name": store.users[me_id]["username"]}
            fields = sorted(form.items())
            mentioned = []
            for name in re.findall(r"@([a-z0-9.\-_]+)", text, re.IGNORECASE):
                uid = store.usernames.get(name.lower())
                if uid and self._is_team_member(team_id, uid):
                    mentioned.append((name, uid))
            for name, uid in mentioned:
                fields += [("user_mentions", name), ("user_mentions_ids", uid)]
            config = dict(store.config)
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
            resp = parse_response(reply.content_type, reply.body)
        except ValueError as exc:
            raise AppError(500, "api.command.execute_command.failed.app_error", str(exc), trigger=trigger)
        with self._lock:
            try:
                self._handle_response(me_id, chan, cmd, body.get("root_id") or "", resp)
            except AppError as err:
                if err.status == 403:
                    raise
                raise AppError(500, "api.command.execute_command.create_post_failed.app_error", err.message,
                               trigger=trigger)
        return shapes.command_response_json(resp, client_tid)

    @locked
    def use_response_url(self, hook_id, content_type: str, body: bytes) -> None:
        """POST /hooks/commands/{id}: a later answer to a command, a few times within half an hour."""
        store = self._store
        hook = store.command_hooks.get(hook_id)
        if hook is None:
            raise AppError(404, "app.command_webhook.get.missing")
        if hook["uses"] >= HOOK_MAX_USES or now_ms() - hook["create_at"] > HOOK_LIFETIME_MS:
            raise AppError(400, "app.command_webhook.try_use.invalid")
        hook["uses"] += 1
        try:
            resp = parse_response(content_type, body)
        except ValueError:
            raise AppError(400, "api.context.invalid_body_param.app_error", name="command_response")
        chan = self._channel(hook["channel_id"])
        self._handle_response(hook["user_id"], chan, store.commands.get(hook["command_id"]), hook["root_id"], resp)
