"""JSON shapes of Mattermost 5.37 objects as the server serializes them.

The store keeps richer records (for instance action integrations); these
functions turn them into what a client may see.
"""
import copy
import json

from .ids import new_id

DEFAULT_TIMEZONE = {"automaticTimezone": "", "manualTimezone": "", "useAutomaticTimezone": "true"}
USER_NOTIFY_PROPS = {
    "channel": "true", "comments": "never", "desktop": "mention", "desktop_sound": "true",
    "email": "true", "first_name": "false", "mention_keys": "", "push": "mention",
    "push_status": "away",
}
MEMBER_NOTIFY_PROPS = {
    "desktop": "default", "email": "default", "ignore_channel_mentions": "default",
    "mark_unread": "all", "push": "default",
}
# Props the server restores from the original post when an integration replaces props.
RESERVED_PROPS = ("from_webhook", "override_username", "override_icon_url")


def dumps(obj) -> str:
    """Compact JSON, like Go's encoder (and keeps non-ASCII as is)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def user_json(u: dict, *, is_self: bool) -> dict:
    out = {
        "id": u["id"], "create_at": u["create_at"], "update_at": u["update_at"],
        "delete_at": u.get("delete_at", 0), "username": u["username"], "auth_data": "",
        "auth_service": "", "email": u["email"], "nickname": u.get("nickname", ""),
        "first_name": u.get("first_name", ""), "last_name": u.get("last_name", ""),
        "position": u.get("position", ""), "roles": u["roles"],
    }
    if is_self:
        out["notify_props"] = dict(USER_NOTIFY_PROPS)
        out["last_password_update"] = u["create_at"]
    out["locale"] = "en"
    out["timezone"] = dict(u.get("timezone") or DEFAULT_TIMEZONE)
    if u.get("is_bot"):
        out["is_bot"] = True
        out["bot_description"] = u.get("bot_description", "")
    out["disable_welcome_email"] = False
    return out


def team_json(t: dict) -> dict:
    return dict(t)


def team_member_json(m: dict) -> dict:
    admin = m.get("admin", False)
    return {
        "team_id": m["team_id"], "user_id": m["user_id"],
        "roles": "team_user team_admin" if admin else "team_user",
        "delete_at": 0, "scheme_guest": False, "scheme_user": True, "scheme_admin": admin,
        "explicit_roles": "",
    }


def channel_json(c: dict) -> dict:
    return dict(c)


def channel_member_json(m: dict) -> dict:
    admin = m.get("admin", False)
    return {
        "channel_id": m["channel_id"], "user_id": m["user_id"],
        "roles": "channel_user channel_admin" if admin else "channel_user",
        "last_viewed_at": 0, "msg_count": 0, "mention_count": m.get("mention_count", 0),
        "mention_count_root": m.get("mention_count", 0), "msg_count_root": 0,
        "notify_props": dict(MEMBER_NOTIFY_PROPS), "last_update_at": m["last_update_at"],
        "scheme_guest": False, "scheme_user": True, "scheme_admin": admin, "explicit_roles": "",
    }


_ATTACHMENT_STR_FIELDS = ("fallback", "color", "pretext", "author_name", "author_link",
                          "author_icon", "title", "title_link", "text")


def normalize_attachments(attachments) -> list:
    """Re-marshal attachments the way the Go structs do; fill empty action ids.

    Integrations stay in the stored copy; they are stripped on the way out.
    """
    out = []
    for att in attachments or []:
        if not isinstance(att, dict):
            continue
        a = {"id": att.get("id", 0) if isinstance(att.get("id", 0), int) else 0}
        for key in _ATTACHMENT_STR_FIELDS:
            a[key] = str(att.get(key) or "")
        fields = att.get("fields")
        a["fields"] = [
            {"title": str(f.get("title", "")), "value": f.get("value", ""), "short": bool(f.get("short", False))}
            for f in fields if isinstance(f, dict)
        ] if fields else None
        for key in ("image_url", "thumb_url", "footer", "footer_icon"):
            a[key] = str(att.get(key) or "")
        a["ts"] = att.get("ts")
        actions = []
        for act in att.get("actions") or []:
            if not isinstance(act, dict):
                continue
            n = {"id": str(act.get("id") or new_id())}
            for key in ("type", "name"):
                if act.get(key) or key == "name":
                    n[key] = str(act.get(key) or "")
            if act.get("disabled"):
                n["disabled"] = True
            for key in ("style", "data_source"):
                if act.get(key):
                    n[key] = str(act[key])
            if act.get("options"):
                n["options"] = [{"text": str(o.get("text", "")), "value": str(o.get("value", ""))}
                                for o in act["options"] if isinstance(o, dict)]
            if act.get("default_option"):
                n["default_option"] = str(act["default_option"])
            if isinstance(act.get("integration"), dict):
                n["integration"] = copy.deepcopy(act["integration"])
            actions.append(n)
        if actions:
            a["actions"] = actions
        out.append(a)
    return out


def normalize_props(props) -> dict:
    props = copy.deepcopy(props) if isinstance(props, dict) else {}
    if "attachments" in props:
        props["attachments"] = normalize_attachments(props["attachments"])
    return props


def public_props(props: dict, cookies: dict | None = None) -> dict:
    """Props with every action integration removed (and cookies added for ephemeral posts)."""
    out = copy.deepcopy(props or {})
    for att in out.get("attachments") or []:
        for act in att.get("actions") or []:
            act.pop("integration", None)
            if cookies and act.get("id") in cookies:
                act["cookie"] = cookies[act["id"]]
    return out


def post_json(p: dict, *, reactions=None, files=None, reply_count=0, cookies=None) -> dict:
    props = public_props(p.get("props") or {}, cookies)
    out = {
        "id": p["id"], "create_at": p["create_at"], "update_at": p["update_at"],
        "edit_at": p.get("edit_at", 0), "delete_at": p.get("delete_at", 0),
        "is_pinned": p.get("is_pinned", False), "user_id": p["user_id"],
        "channel_id": p["channel_id"], "root_id": p.get("root_id", ""),
        "parent_id": p.get("root_id", ""), "original_id": "", "message": p.get("message", ""),
        "type": p.get("type", ""), "props": props, "hashtags": "",
    }
    if p.get("file_ids"):
        out["file_ids"] = list(p["file_ids"])
    out["pending_post_id"] = p.get("pending_post_id", "")
    if reactions:
        out["has_reactions"] = True
    out["reply_count"] = reply_count
    out["last_reply_at"] = 0
    out["participants"] = None
    metadata = {}
    if props.get("attachments"):
        metadata["embeds"] = [{"type": "message_attachment"}]
    if files:
        metadata["files"] = files
    if reactions:
        metadata["reactions"] = reactions
    out["metadata"] = metadata
    return out


def reaction_json(r: dict) -> dict:
    return {
        "user_id": r["user_id"], "post_id": r["post_id"], "emoji_name": r["emoji_name"],
        "create_at": r["create_at"], "update_at": r["update_at"], "delete_at": 0, "remote_id": "",
    }


def file_info_json(f: dict) -> dict:
    out = {"id": f["id"], "user_id": f["user_id"]}
    if f.get("post_id"):
        out["post_id"] = f["post_id"]
    out.update({
        "channel_id": "", "create_at": f["create_at"], "update_at": f["create_at"], "delete_at": 0,
        "name": f["name"], "extension": f["extension"], "size": f["size"],
        "mime_type": f["mime_type"], "mini_preview": None, "remote_id": "",
    })
    return out


COMMAND_FIELDS = ("id", "token", "create_at", "update_at", "delete_at", "creator_id", "team_id",
                  "trigger", "method", "username", "icon_url", "auto_complete",
                  "auto_complete_desc", "auto_complete_hint", "display_name", "description",
                  "url", "plugin_id")


def command_json(c: dict, *, sanitize: bool = False) -> dict:
    out = {k: c.get(k) for k in COMMAND_FIELDS}
    if sanitize:
        for key in ("token", "creator_id", "method", "url", "username", "icon_url"):
            out[key] = ""
    return out


def command_response_json(r: dict, client_trigger_id: str) -> dict:
    atts = r.get("attachments")
    return {
        "response_type": str(r.get("response_type") or ""), "text": str(r.get("text") or ""),
        "username": str(r.get("username") or ""), "channel_id": str(r.get("channel_id") or ""),
        "icon_url": str(r.get("icon_url") or ""), "type": str(r.get("type") or ""),
        "props": r.get("props") or None, "goto_location": str(r.get("goto_location") or ""),
        "trigger_id": client_trigger_id, "skip_slack_parsing": bool(r.get("skip_slack_parsing")),
        "attachments": public_props({"attachments": normalize_attachments(atts)})["attachments"] if atts else None,
        "extra_responses": r.get("extra_responses") or None,
    }


_ELEMENT_DEFAULTS = (("display_name", ""), ("name", ""), ("type", ""), ("subtype", ""),
                     ("default", ""), ("placeholder", ""), ("help_text", ""), ("optional", False),
                     ("min_length", 0), ("max_length", 0), ("data_source", ""), ("options", None))


def dialog_json(d: dict) -> dict:
    elements = []
    for el in d.get("elements") or []:
        elements.append({k: (el.get(k) if el.get(k) is not None else dflt) for k, dflt in _ELEMENT_DEFAULTS})
    out = {
        "callback_id": d.get("callback_id", ""), "title": d.get("title", ""),
        "introduction_text": d.get("introduction_text", ""), "icon_url": d.get("icon_url", ""),
        "elements": elements,
    }
    out["submit_label"] = d.get("submit_label") or ""
    out["notify_on_cancel"] = bool(d.get("notify_on_cancel", False))
    out["state"] = d.get("state", "")
    return out
