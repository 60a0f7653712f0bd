"""Interactive messages (button/menu clicks) and interactive dialogs."""
import copy
import json

from .. import integrations, shapes
from ..errors import AppError, forbidden
from .posts import PostRules


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


class ActionRules(PostRules):
    async def do_action(self, me_id, post_id, action_id, *, cookie: str, selected: str) -> str:
        """A click on a message button or menu; returns the trigger id the clicking client sees."""
        with self._lock:
            store = self._store
            post = store.posts.get(post_id)
            ephemeral = None
            if cookie:
                ephemeral = store.cookies.get(cookie)
                if ephemeral is None:
                    raise _integration_error("err=cipher: message authentication failed")
                channel_id = ephemeral["channel_id"]
            elif post is None or post.get("delete_at"):
                raise forbidden(me_id, "read_channel")
            else:
                channel_id = post["channel_id"]
            self._require_read_channel(channel_id, me_id)
            if ephemeral is not None:
                action = ephemeral["action"] if ephemeral["action"].get("id") == action_id else None
                root_id = ephemeral["root_id"] or ephemeral["post_id"]
            else:
                action = _find_action(post, action_id)
                root_id = post.get("root_id") or post["id"]
            if action is None or not (action.get("integration") or {}).get("url"):
                raise AppError(404, "api.post.do_action.action_id.app_error", "action=<nil>")
            chan = store.channels[channel_id]
            team = store.teams.get(chan["team_id"], {})
            client_tid, full_tid = self._triggers.mint(me_id)
            context = copy.deepcopy(action["integration"].get("context") or {})
            if action.get("type") == "select" and selected:
                context["selected_option"] = selected
            payload = {"user_id": me_id, "user_name": store.users[me_id]["username"], "channel_id": channel_id,
                       "channel_name": chan["name"], "team_id": chan["team_id"],
                       "team_domain": team.get("name", ""), "post_id": post_id, "trigger_id": full_tid,
                       "type": action.get("type", ""),
                       "data_source": action.get("data_source", "") if action.get("type") == "select" else ""}
            if context:
                payload["context"] = context
            url = action["integration"]["url"]
            config = dict(store.config)
        answer = await _ask_integration(url, config, payload)
        with self._lock:
            update = answer.get("update")
            if isinstance(update, dict):
                stored = self._store.posts.get(post_id)
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
                self._apply_update(stored, changes)
            if answer.get("ephemeral_text"):
                self._send_ephemeral({"user_id": me_id, "channel_id": channel_id, "root_id": root_id,
                                      "message": answer["ephemeral_text"], "props": {}}, me_id)
        return client_tid

    def open_dialog(self, body: dict) -> None:
        """POST /actions/dialogs/open: the integration shows a dialog to whoever its trigger id names."""
        with self._lock:
            lifetime = float(self._store.config["TriggerLifetimeSeconds"])
        client_tid, user_id = self._triggers.verify(body.get("trigger_id") or "", lifetime)
        payload = {"trigger_id": client_tid, "url": body["url"], "dialog": shapes.dialog_json(body["dialog"])}
        with self._lock:
            self._publish("open_dialog", {"dialog": shapes.dumps(payload)}, user_id=user_id)

    async def submit_dialog(self, me_id, body: dict) -> dict:
        """POST /actions/dialogs/submit: what the integration answers is what the client gets."""
        with self._lock:
            cid = body.get("channel_id") or ""
            self._require_read_channel(cid, me_id)
            team_id = body.get("team_id") or ""
            if team_id:
                self._require_view_team(team_id, me_id)
            payload = {"type": "dialog_submission", "callback_id": body.get("callback_id") or "",
                       "state": body.get("state") or "", "user_id": me_id, "channel_id": cid,
                       "team_id": team_id, "submission": body.get("submission") or {},
                       "cancelled": bool(body.get("cancelled"))}
            config = dict(self._store.config)
        return await _ask_integration(body["url"], config, payload)
