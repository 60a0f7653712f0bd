"""Posts, threads, channel history, ephemeral posts and reactions."""
import bisect
import copy
import re
import secrets
import base64

from aiohttp import web

from .. import shapes
from ..app import STATE, current_user, json_response, ok, path_id, read_json
from ..errors import AppError, bad_body_param, forbidden
from ..ids import is_valid_id, new_id, now_ms

_EMOJI_RE = re.compile(r"^[a-zA-Z0-9\-\+_]+$")
_STRIPPED_PROPS = ("add_channel_member", "force_notification")


def _mint_cookies(state, post) -> dict:
    """Opaque per-action cookies for an ephemeral post; the server keeps what they stand for."""
    cookies = {}
    for att in (post.get("props") or {}).get("attachments") or []:
        for act in att.get("actions") or []:
            if not act.get("integration"):
                continue
            cookie = base64.b64encode(secrets.token_bytes(180)).decode()
            state.cookies[cookie] = {"post_id": post["id"], "channel_id": post["channel_id"],
                                     "root_id": post.get("root_id", ""), "action": copy.deepcopy(act)}
            cookies[act["id"]] = cookie
    return cookies


def send_ephemeral(state, post: dict, target_user_id: str) -> dict:
    """Deliver a post to one user only (never stored), as SendEphemeralPost does."""
    post = dict(post)
    post.setdefault("id", new_id())
    post["create_at"] = post.get("create_at") or now_ms()
    post["update_at"] = 0
    post["type"] = "system_ephemeral"
    post.setdefault("root_id", "")
    post["props"] = shapes.normalize_props(post.get("props"))
    event_post = shapes.post_json(post, cookies=_mint_cookies(state, post))
    state.publish("ephemeral_message", {"post": shapes.dumps(event_post)},
                  user_id=target_user_id, channel_id=post["channel_id"])
    return shapes.post_json(post, cookies=_mint_cookies(state, post))


def new_post(state, me, body, *, from_webhook_props=None) -> dict:
    """Validate and store a post by `me`; used by POST /posts and command responses."""
    cid = body.get("channel_id") or ""
    chan = state.channels.get(cid)
    if chan is None:
        raise forbidden(me["id"], "create_post")
    if not (state.is_member(cid, me["id"]) or state.is_sysadmin(me["id"])
            or (chan["type"] == "O" and state.is_team_member(chan["team_id"], me["id"]))):
        raise forbidden(me["id"], "create_post")
    if chan.get("delete_at"):
        raise AppError(400, "api.post.create_post.can_not_post_to_deleted.error")
    ptype = body.get("type") or ""
    if ptype.startswith("system_"):
        raise AppError(400, "api.context.invalid_param.app_error", name="post.type")
    root_id = body.get("root_id") or ""
    if root_id:
        root = state.posts.get(root_id)
        if root is None or root.get("delete_at") or root.get("root_id"):
            raise AppError(400, "api.post.create_post.root_id.app_error")
        if root["channel_id"] != cid:
            raise AppError(400, "api.post.create_post.channel_root_id.app_error")
    message = body.get("message") or ""
    if not isinstance(message, str) or len(message) > int(state.config["MaxPostSize"]):
        raise AppError(400, "model.post.is_valid.msg.app_error", f"id={new_id()}")
    props = shapes.normalize_props(body.get("props"))
    for key in _STRIPPED_PROPS:
        props.pop(key, None)
    if from_webhook_props:
        props.update(from_webhook_props)
    elif me.get("is_bot"):
        props["from_bot"] = "true"
    file_ids = [f for f in body.get("file_ids") or [] if f in state.files]
    post = {"user_id": me["id"], "channel_id": cid, "root_id": root_id, "message": message,
            "type": ptype, "props": props, "file_ids": file_ids,
            "pending_post_id": body.get("pending_post_id") or ""}
    return state.store_post(post)


async def create_post(request):
    me = current_user(request)
    state = request.app[STATE]
    body = await read_json(request, "post")
    if not isinstance(body, dict):
        raise bad_body_param("post")
    with state.lock:
        post = new_post(state, me, body)
        return json_response(state.post_out(post), status=201)


async def create_ephemeral(request):
    me = current_user(request)
    state = request.app[STATE]
    body = await read_json(request, "ephemeral_post")
    with state.lock:
        if not state.is_sysadmin(me["id"]):
            raise forbidden(me["id"], "create_post_ephemeral")
        if not isinstance(body, dict) or not is_valid_id(body.get("user_id") or ""):
            raise bad_body_param("user_id")
        post = body.get("post")
        if not isinstance(post, dict) or not post.get("channel_id"):
            raise bad_body_param("post")
        state.channel(post["channel_id"])
        out = send_ephemeral(state, {"user_id": me["id"], "channel_id": post["channel_id"],
                                     "root_id": post.get("root_id") or "",
                                     "message": post.get("message") or "",
                                     "props": post.get("props") or {}}, body["user_id"])
        return json_response(out, status=201)


def _readable_post(state, post_id, me_id):
    post = state.post(post_id)
    chan = state.channels[post["channel_id"]]
    if not state.can_view_channel(chan, me_id):
        raise forbidden(me_id, "read_channel")
    return post


async def get_post(request):
    me = current_user(request)
    state = request.app[STATE]
    pid = path_id(request, "post_id")
    with state.lock:
        return json_response(state.post_out(_readable_post(state, pid, me["id"])))


async def get_thread(request):
    me = current_user(request)
    state = request.app[STATE]
    pid = path_id(request, "post_id")
    with state.lock:
        post = _readable_post(state, pid, me["id"])
        root = state.posts[post.get("root_id") or post["id"]]
        replies = [state.posts[r] for r in state.replies.get(root["id"], [])
                   if not state.posts[r].get("delete_at")]
        # 5.37 lists the root first and then the whole thread newest first (root again last).
        order = [root["id"]] + [r["id"] for r in reversed(replies)] + [root["id"]]
        posts = {p["id"]: state.post_out(p) for p in [root] + replies}
        return json_response({"order": order, "posts": posts, "next_post_id": "", "prev_post_id": ""})


def _int_param(request, name, default):
    try:
        return int(request.query.get(name, default))
    except ValueError:
        return default


async def channel_posts(request):
    me = current_user(request)
    state = request.app[STATE]
    cid = path_id(request, "channel_id")
    page = max(0, _int_param(request, "page", 0))
    per_page = _int_param(request, "per_page", 60)
    per_page = 60 if per_page <= 0 else min(per_page, 200)
    since = _int_param(request, "since", 0)
    before, after = request.query.get("before", ""), request.query.get("after", "")
    with state.lock:
        chan = state.channels.get(cid)
        if chan is None or not state.can_view_channel(chan, me["id"]):
            raise forbidden(me["id"], "read_channel")
        times, ids = state.channel_times[cid], state.channel_ids[cid]
        prev_id = next_id = ""
        if since:
            changed = [state.posts[p] for p in state.channel_history[cid] if state.posts[p]["update_at"] >= since]
            changed.sort(key=lambda p: p["create_at"], reverse=True)
            page_ids = [p["id"] for p in changed[:1000]]
        else:
            lo, hi = 0, len(ids)
            anchor = before or after
            if anchor:
                ap = state.posts.get(anchor)
                idx = bisect.bisect_left(times, ap["create_at"]) if ap and ap["channel_id"] == cid else -1
                if idx < 0 or idx >= len(ids) or ids[idx] != anchor:
                    lo = hi = 0
                elif before:
                    hi = idx
                else:
                    lo = idx + 1
            if after and lo < hi:
                start = lo + page * per_page
                end = min(hi, start + per_page)
            else:
                end = hi - page * per_page
                start = max(lo, end - per_page)
            start, end = max(start, 0), max(end, 0)
            page_ids = list(reversed(ids[start:end])) if start < end else []
            if page_ids:
                prev_id = ids[start - 1] if start > 0 else ""
                next_id = ids[end] if end < len(ids) else ""
        posts = {p: state.post_out(state.posts[p]) for p in page_ids}
        return json_response({"order": page_ids, "posts": posts, "next_post_id": next_id,
                              "prev_post_id": prev_id})


def _editable_post(state, post_id, me_id):
    post = state.posts.get(post_id)
    if post is None:
        raise forbidden(me_id, "edit_post")
    if post["user_id"] != me_id and not state.is_sysadmin(me_id):
        raise forbidden(me_id, "edit_others_posts")
    if post.get("delete_at"):
        raise AppError(400, "api.post.update_post.permissions_details.app_error", id=post_id)
    if post.get("type", "").startswith("system_"):
        raise AppError(400, "api.post.update_post.system_message.app_error")
    if state.channels[post["channel_id"]].get("delete_at"):
        raise AppError(400, "api.post.update_post.can_not_update_post_in_deleted.error")
    return post


def apply_update(state, post, changes: dict):
    """Apply a (partial) update and broadcast post_edited."""
    if "message" in changes:
        new_message = changes["message"] or ""
        if len(new_message) > int(state.config["MaxPostSize"]):
            raise AppError(400, "model.post.is_valid.msg.app_error", f"id={post['id']}")
        if new_message != post.get("message"):
            post["edit_at"] = now_ms()
        post["message"] = new_message
    if "props" in changes:
        post["props"] = shapes.normalize_props(changes["props"])
    if "file_ids" in changes:
        post["file_ids"] = [f for f in changes["file_ids"] or [] if f in state.files]
    if "is_pinned" in changes:
        post["is_pinned"] = bool(changes["is_pinned"])
    post["update_at"] = now_ms()
    state.publish("post_edited", {"post": shapes.dumps(state.post_out(post))}, channel_id=post["channel_id"])


async def update_post(request):
    me = current_user(request)
    state = request.app[STATE]
    pid = path_id(request, "post_id")
    body = await read_json(request, "post")
    if not isinstance(body, dict) or body.get("id") != pid:
        raise bad_body_param("id")
    with state.lock:
        post = _editable_post(state, pid, me["id"])
        apply_update(state, post, {"message": body.get("message") or "", "props": body.get("props") or {},
                                   "file_ids": body.get("file_ids") or []})
        return json_response(state.post_out(post))


async def patch_post(request):
    me = current_user(request)
    state = request.app[STATE]
    pid = path_id(request, "post_id")
    body = await read_json(request, "post")
    if not isinstance(body, dict):
        raise bad_body_param("post")
    with state.lock:
        post = _editable_post(state, pid, me["id"])
        apply_update(state, post, {k: body[k] for k in ("message", "props", "file_ids", "is_pinned") if k in body})
        return json_response(state.post_out(post))


async def delete_post(request):
    me = current_user(request)
    state = request.app[STATE]
    pid = path_id(request, "post_id")
    with state.lock:
        post = state.posts.get(pid)
        if post is None or post.get("delete_at"):
            raise AppError(404, "app.post.get.app_error", f"resource: Post id: {pid}")
        if post["user_id"] != me["id"] and not state.is_sysadmin(me["id"]):
            raise forbidden(me["id"], "delete_others_posts")
        post["update_at"] = now_ms()
        snapshot = state.post_out(post)
        doomed = [post] + [state.posts[r] for r in state.replies.get(pid, [])]
        for p in doomed:
            if not p.get("delete_at"):
                p["delete_at"] = post["update_at"]
                state.remove_from_index(p)
        state.publish("post_deleted", {"post": shapes.dumps(snapshot)}, channel_id=post["channel_id"])
    return ok()


async def save_reaction(request):
    me = current_user(request)
    state = request.app[STATE]
    body = await read_json(request, "reaction")
    if not isinstance(body, dict) or not is_valid_id(body.get("post_id") or "") \
            or not _EMOJI_RE.match(body.get("emoji_name") or "") or len(body["emoji_name"]) > 64:
        raise AppError(400, "api.reaction.save_reaction.invalid.app_error")
    if body.get("user_id") != me["id"]:
        raise AppError(403, "api.reaction.save_reaction.user_id.app_error")
    with state.lock:
        post = state.posts.get(body["post_id"])
        if post is None or post.get("delete_at") or not (
                state.is_member(post["channel_id"], me["id"]) or state.is_sysadmin(me["id"])):
            raise forbidden(me["id"], "add_reaction")
        chan = state.channels[post["channel_id"]]
        if chan.get("delete_at"):
            raise AppError(403, "api.reaction.save.archived_channel.app_error")
        existing = [r for r in state.reactions.get(post["id"], [])
                    if r["user_id"] == me["id"] and r["emoji_name"] == body["emoji_name"]]
        if existing:
            return json_response(shapes.reaction_json(existing[0]))
        t = now_ms()
        reaction = {"user_id": me["id"], "post_id": post["id"], "emoji_name": body["emoji_name"],
                    "create_at": t, "update_at": t}
        state.reactions.setdefault(post["id"], []).append(reaction)
        post["update_at"] = t
        state.publish("reaction_added", {"reaction": shapes.dumps(shapes.reaction_json(reaction))},
                      channel_id=chan["id"])
        return json_response(shapes.reaction_json(reaction))


async def delete_reaction(request):
    me = current_user(request)
    state = request.app[STATE]
    uid = path_id(request, "user_id")
    pid = path_id(request, "post_id")
    emoji = request.match_info["emoji_name"]
    with state.lock:
        if uid != me["id"] and not state.is_sysadmin(me["id"]):
            raise forbidden(me["id"], "remove_others_reactions")
        post = state.posts.get(pid)
        if post is None or not (state.is_member(post["channel_id"], me["id"]) or state.is_sysadmin(me["id"])):
            raise forbidden(me["id"], "remove_reaction")
        if state.channels[post["channel_id"]].get("delete_at"):
            raise AppError(403, "api.reaction.save.archived_channel.app_error")
        kept, removed = [], None
        for r in state.reactions.get(pid, []):
            if removed is None and r["user_id"] == uid and r["emoji_name"] == emoji:
                removed = r
            else:
                kept.append(r)
        state.reactions[pid] = kept
        if removed:
            t = now_ms()
            post["update_at"] = t
            gone = dict(shapes.reaction_json(removed), create_at=0, update_at=t)
            state.publish("reaction_removed", {"reaction": shapes.dumps(gone)}, channel_id=post["channel_id"])
    return ok()


async def list_reactions(request):
    me = current_user(request)
    state = request.app[STATE]
    pid = path_id(request, "post_id")
    with state.lock:
        _readable_post(state, pid, me["id"])
        return json_response([shapes.reaction_json(r) for r in state.reactions.get(pid, [])])


def register(router: web.UrlDispatcher):
    router.add_post("/api/v4/posts", create_post)
    router.add_post("/api/v4/posts/ephemeral", create_ephemeral)
    router.add_get("/api/v4/posts/{post_id}", get_post)
    router.add_put("/api/v4/posts/{post_id}", update_post)
    router.add_delete("/api/v4/posts/{post_id}", delete_post)
    router.add_put("/api/v4/posts/{post_id}/patch", patch_post)
    router.add_get("/api/v4/posts/{post_id}/thread", get_thread)
    router.add_get("/api/v4/posts/{post_id}/reactions", list_reactions)
    router.add_get("/api/v4/channels/{channel_id}/posts", channel_posts)
    router.add_post("/api/v4/reactions", save_reaction)
    router.add_delete("/api/v4/users/{user_id}/posts/{post_id}/reactions/{emoji_name}", delete_reaction)
