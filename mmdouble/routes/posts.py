"""Posts, threads, channel history, ephemeral posts and reactions."""
import re

from aiohttp import web

from ..errors import AppError, bad_body_param
from ..ids import is_valid_id
from ..transport import RULES, current_user, int_param, json_response, ok, paging, path_id, read_json

_EMOJI_RE = re.compile(r"^[a-zA-Z0-9\-\+_]+$")


async def create_post(request):
    me = current_user(request)
    body = await read_json(request, "post")
    if not isinstance(body, dict):
        raise bad_body_param("post")
    return json_response(request.app[RULES].create_post(me["id"], body), status=201)


async def create_ephemeral(request):
    me = current_user(request)
    body = await read_json(request, "ephemeral_post")
    return json_response(request.app[RULES].create_ephemeral(me["id"], body), status=201)


async def get_post(request):
    me = current_user(request)
    pid = path_id(request, "post_id")
    return json_response(request.app[RULES].get_post(me["id"], pid))


async def get_thread(request):
    me = current_user(request)
    pid = path_id(request, "post_id")
    return json_response(request.app[RULES].get_thread(me["id"], pid))


async def channel_posts(request):
    me = current_user(request)
    cid = path_id(request, "channel_id")
    page, per_page = paging(request)
    return json_response(request.app[RULES].channel_posts(
        me["id"], cid, page=page, per_page=per_page, since=int_param(request, "since", 0),
        before=request.query.get("before", ""), after=request.query.get("after", "")))


async def update_post(request):
    me = current_user(request)
    pid = path_id(request, "post_id")
    body = await read_json(request, "post")
    if not isinstance(body, dict) or body.get("id") != pid:
        raise bad_body_param("id")
    # A whole-post update: omitted fields become blank; file_ids are ignored (api4/post.go updatePost).
    changes = {"message": body.get("message") or "", "props": body.get("props") or {},
               "is_pinned": bool(body.get("is_pinned"))}
    return json_response(request.app[RULES].update_post(me["id"], pid, changes))


async def patch_post(request):
    me = current_user(request)
    pid = path_id(request, "post_id")
    body = await read_json(request, "post")
    if not isinstance(body, dict):
        raise bad_body_param("post")
    # model.PostPatch: absent or null fields stay as they are; file_ids are ignored (api4/post.go patchPost).
    changes = {k: body[k] for k in ("message", "props", "is_pinned") if body.get(k) is not None}
    if not (isinstance(changes.get("message", ""), str) and isinstance(changes.get("props", {}), dict)
            and isinstance(changes.get("is_pinned", False), bool)):
        raise bad_body_param("post")  # the body does not decode into a PostPatch
    return json_response(request.app[RULES].patch_post(me["id"], pid, changes))


async def delete_post(request):
    me = current_user(request)
    pid = path_id(request, "post_id")
    request.app[RULES].delete_post(me["id"], pid)
    return ok()


async def save_reaction(request):
    me = current_user(request)
    body = await read_json(request, "reaction")
    if not isinstance(body, dict) or not is_valid_id(body.get("post_id") or "") \
            or not _EMOJI_RE.match(body.get("emoji_name") or "") or len(body["emoji_name"]) > 64:
        raise AppError(400, "api.reaction.save_reaction.invalid.app_error")
    if body.get("user_id") != me["id"]:
        raise AppError(403, "api.reaction.save_reaction.user_id.app_error")
    return json_response(request.app[RULES].save_reaction(me["id"], body["post_id"], body["emoji_name"]))


async def delete_reaction(request):
    me = current_user(request)
    uid = path_id(request, "user_id")
    pid = path_id(request, "post_id")
    request.app[RULES].delete_reaction(me["id"], uid, pid, request.match_info["emoji_name"])
    return ok()


async def list_reactions(request):
    me = current_user(request)
    pid = path_id(request, "post_id")
    return json_response(request.app[RULES].post_reactions(me["id"], pid))


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
