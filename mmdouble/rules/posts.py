"""Posts, threads, channel history, ephemeral posts and reactions."""
import base64
import bisect
import copy
import secrets

from .. import shapes
from ..errors import AppError, bad_body_param, forbidden
from ..ids import is_valid_id, new_id, now_ms
from .base import locked
from .records import RecordRules

_STRIPPED_PROPS = ("add_channel_member", "force_notification")


class PostRules(RecordRules):
    # ------------------------------------------------------------------ create
    def _new_post(self, me_id, body, *, from_webhook_props=None) -> dict:
        """Validate and store a post by `me_id`; used by POST /posts and command responses."""
        store = self._store
        cid = body.get("channel_id") or ""
        chan = store.channels.get(cid)
        if chan is None:
            raise forbidden(me_id, "create_post")
        if not (self._is_member(cid, me_id) or self._is_sysadmin(me_id)
                or (chan["type"] == "O" and self._is_team_member(chan["team_id"], me_id))):
            raise forbidden(me_id, "create_post")
        if chan.get("delete_at"):
            raise AppError(400, "api.post.create_post.can_not_post_to_deleted.error")
        ptype = body.get("type") or ""
        if ptype.startswith("system_"):
            raise AppError(400, "api.context.invalid_param.app_error", name="post.type")
        root_id = body.get("root_id") or ""
        if root_id:
            root = store.posts.get(root_id)
            if root is None or root.get("delete_at") or root.get("root_id"):
                raise AppError(400, "api.post.create_post.root_id.app_error")
            if root["channel_id"] != cid:
                raise AppError(400, "api.post.create_post.channel_root_id.app_error")
        message = body.get("message") or ""
        if not isinstance(message, str) or len(message) > int(store.config["MaxPostSize"]):
            raise AppError(400, "model.post.is_valid.msg.app_error", f"id={new_id()}")
        props = shapes.normalize_props(body.get("props"))
        for key in _STRIPPED_PROPS:
            props.pop(key, None)
        if from_webhook_props:
            props.update(from_webhook_props)
        elif store.users[me_id].get("is_bot"):
            props["from_bot"] = "true"
        file_ids = [f for f in body.get("file_ids") or [] if f in store.files]
        post = {"user_id": me_id, "channel_id": cid, "root_id": root_id, "message": message,
                "type": ptype, "props": props, "file_ids": file_ids,
                "pending_post_id": body.get("pending_post_id") or ""}
        return self._store_post(post)

    @locked
    def create_post(self, me_id, body: dict) -> dict:
        """POST /posts. api4/post.go createPost checks create_post on the channel before anything else;
        its fallback for public channels needs create_post_public, which no default role below
        system_admin holds, so a non-member gets 403 even in a public channel (command answers go
        through _new_post alone)."""
        chan = self._store.channels.get(body.get("channel_id") or "")
        if chan is None or not self._has_post_permission(chan, me_id, "create_post"):
            raise forbidden(me_id, "create_post")
        return self._post_out(self._new_post(me_id, body))

    def _mint_cookies(self, post) -> dict:
        """Opaque per-action cookies for an ephemeral post; the server keeps what they stand for."""
        cookies = {}
        for att in (post.get("props") or {}).get("attachments") or []:
            for act in att.get("actions") or []:
                if not act.get("integration"):
                    continue
                cookie = base64.b64encode(secrets.token_bytes(180)).decode()
                self._store.cookies[cookie] = {"post_id": post["id"], "channel_id": post["channel_id"],
                                               "root_id": post.get("root_id", ""), "action": copy.deepcopy(act)}
                cookies[act["id"]] = cookie
        return cookies

    def _send_ephemeral(self, post: dict, target_user_id: str) -> dict:
        """Deliver a post to one user only (never stored), as SendEphemeralPost does."""
        post = dict(post)
        post.setdefault("id", new_id())
        post["create_at"] = post.get("create_at") or now_ms()
        post["update_at"] = 0
        post["type"] = "system_ephemeral"
        post.setdefault("root_id", "")
        post["props"] = shapes.normalize_props(post.get("props"))
        event_post = shapes.post_json(post, cookies=self._mint_cookies(post))
        self._publish("ephemeral_message", {"post": shapes.dumps(event_post)},
                      user_id=target_user_id, channel_id=post["channel_id"])
        return shapes.post_json(post, cookies=self._mint_cookies(post))

    @locked
    def create_ephemeral(self, me_id, body) -> dict:
        if not self._is_sysadmin(me_id):
            raise forbidden(me_id, "create_post_ephemeral")
        if not isinstance(body, dict) or not is_valid_id(body.get("user_id") or ""):
            raise bad_body_param("user_id")
        post = body.get("post")
        if not isinstance(post, dict) or not post.get("channel_id"):
            raise bad_body_param("post")
        self._channel(post["channel_id"])
        return self._send_ephemeral({"user_id": me_id, "channel_id": post["channel_id"],
                                     "root_id": post.get("root_id") or "", "message": post.get("message") or "",
                                     "props": post.get("props") or {}}, body["user_id"])

    # ------------------------------------------------------------------ read
    def _readable_post(self, post_id, me_id) -> dict:
        post = self._post(post_id)
        if not self._can_view_channel(self._store.channels[post["channel_id"]], me_id):
            raise forbidden(me_id, "read_channel")
        return post

    @locked
    def get_post(self, me_id, post_id) -> dict:
        return self._post_out(self._readable_post(post_id, me_id))

    @locked
    def get_thread(self, me_id, post_id) -> dict:
        posts = self._store.posts
        post = self._readable_post(post_id, me_id)
        root = posts[post.get("root_id") or post["id"]]
        replies = [posts[r] for r in self._store.replies.get(root["id"], []) if not posts[r].get("delete_at")]
        # 5.37 lists the root first and then the whole thread newest first (root again last).
        order = [root["id"]] + [r["id"] for r in reversed(replies)] + [root["id"]]
        return {"order": order, "posts": {p["id"]: self._post_out(p) for p in [root] + replies},
                "next_post_id": "", "prev_post_id": ""}

    @locked
    def channel_posts(self, me_id, channel_id, *, page, per_page, since, before, after) -> dict:
        store = self._store
        chan = store.channels.get(channel_id)
        if chan is None or not self._can_view_channel(chan, me_id):
            raise forbidden(me_id, "read_channel")
        times, ids = store.channel_times[channel_id], store.channel_ids[channel_id]
        prev_id = next_id = ""
        if since:
            changed = [store.posts[p] for p in store.channel_history[channel_id] if store.posts[p]["update_at"] >= since]
            changed.sort(key=lambda p: p["create_at"], reverse=True)
            page_ids = [p["id"] for p in changed[:1000]]
        else:
            lo, hi = 0, len(ids)
            anchor = before or after
            if anchor:
                ap = store.posts.get(anchor)
                idx = bisect.bisect_left(times, ap["create_at"]) if ap and ap["channel_id"] == channel_id else -1
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
        return {"order": page_ids, "posts": {p: self._post_out(store.posts[p]) for p in page_ids},
                "next_post_id": next_id, "prev_post_id": prev_id}

    # ------------------------------------------------------------------ change
    def _live_post_or_refuse(self, post_id, me_id, permission) -> dict:
        """api4/post.go looks the post up first (GetSinglePost, which skips deleted posts) and answers
        a missing or deleted post with a permission error, not 404."""
        post = self._store.posts.get(post_id)
        if post is None or post.get("delete_at"):
            raise forbidden(me_id, permission)
        return post

    def _require_post_permission(self, post, me_id, own_permission, others_permission) -> dict:
        """The author needs `own_permission` in the post's channel, anyone else `others_permission`."""
        chan = self._store.channels[post["channel_id"]]
        permission = own_permission if post["user_id"] == me_id else others_permission
        if not self._has_post_permission(chan, me_id, permission):
            raise forbidden(me_id, permission)
        return chan

    def _require_not_system_message(self, post):
        if post.get("type", "").startswith("system_"):
            raise AppError(400, "api.post.update_post.system_message.app_error", f"id={post['id']}")

    def _apply_update(self, post, changes: dict):
        """Apply a (partial) update and broadcast post_edited, as app/post.go UpdatePost does."""
        new_message = post.get("message", "")
        if "message" in changes:
            new_message = changes["message"] or ""
            # model/post.go IsValid (run by the store's Update): at most MaxPostSize runes.
            if len(new_message) > int(self._store.config["MaxPostSize"]):
                raise AppError(400, "model.post.is_valid.msg.app_error", f"id={post['id']}")
        new_props = shapes.normalize_props(changes["props"]) if "props" in changes else None
        t = now_ms()
        edited = new_message != post.get("message", "")
        if new_props is not None:
            # UpdatePost also marks the post edited when only its attachments changed (AttachmentsEqual).
            old_attachments = (post.get("props") or {}).get("attachments") or []
            edited = edited or (new_props.get("attachments") or []) != old_attachments
            post["props"] = new_props
        post["message"] = new_message
        if edited:
            post["edit_at"] = t
        if "file_ids" in changes:
            post["file_ids"] = [f for f in changes["file_ids"] or [] if f in self._store.files]
        if "is_pinned" in changes:
            post["is_pinned"] = bool(changes["is_pinned"])
        post["update_at"] = t
        self._publish("post_edited", {"post": shapes.dumps(self._post_out(post))}, channel_id=post["channel_id"])

    @locked
    def update_post(self, me_id, post_id, changes: dict) -> dict:
        """PUT /posts/{id}: replaces message, props and is_pinned (file_ids cannot be changed).

        api4/post.go updatePost: edit_post on the post's channel, then the post must exist and be
        live (both 403 edit_post), then edit_others_posts for someone else's post; app/post.go
        UpdatePost: 400 for a system message, then 400 update_post...in_deleted in an archived channel.
        """
        post = self._store.posts.get(post_id)  # deleted ones too: the first check finds the channel by post
        if post is None or not self._has_post_permission(self._store.channels[post["channel_id"]], me_id,
                                                         "edit_post"):
            raise forbidden(me_id, "edit_post")
        post = self._live_post_or_refuse(post_id, me_id, "edit_post")
        chan = self._require_post_permission(post, me_id, "edit_post", "edit_others_posts")
        self._require_not_system_message(post)
        if chan.get("delete_at"):
            raise AppError(400, "api.post.update_post.can_not_update_post_in_deleted.error")
        self._apply_update(post, changes)
        return self._post_out(post)

    @locked
    def patch_post(self, me_id, post_id, changes: dict) -> dict:
        """PUT /posts/{id}/patch: changes only the fields given (message, props, is_pinned).

        api4/post.go patchPost: the post must exist and be live (else 403 edit_post), then edit_post
        (own post) or edit_others_posts; app/post.go PatchPost refuses an archived channel with its
        own error id before UpdatePost's checks (system message) run.
        """
        post = self._live_post_or_refuse(post_id, me_id, "edit_post")
        chan = self._require_post_permission(post, me_id, "edit_post", "edit_others_posts")
        if chan.get("delete_at"):
            raise AppError(400, "api.post.patch_post.can_not_update_post_in_deleted.error")
        self._require_not_system_message(post)
        self._apply_update(post, changes)
        return self._post_out(post)

    @locked
    def delete_post(self, me_id, post_id) -> None:
        """DELETE /posts/{id}, as api4/post.go deletePost and app/post.go DeletePost do it.

        A missing or already deleted post is 403 delete_post; the author needs delete_post, anyone
        else delete_others_posts; an archived channel is 400. The post and its replies are marked
        deleted; post_deleted carries the post as it was before, and admins (manage_system) get it
        with `delete_by` instead of the plain one (ContainsSensitiveData / ContainsSanitizedData).
        """
        store = self._store
        post = self._live_post_or_refuse(post_id, me_id, "delete_post")
        chan = self._require_post_permission(post, me_id, "delete_post", "delete_others_posts")
        if chan.get("delete_at"):
            raise AppError(400, "api.post.delete_post.can_not_delete_post_in_deleted.error")
        snapshot = shapes.dumps(self._post_out(post))
        t = now_ms()
        for p in [post] + [store.posts[r] for r in store.replies.get(post_id, [])]:
            if not p.get("delete_at"):
                p["delete_at"] = p["update_at"] = t
                store.unlist_post(p)
        self._publish("post_deleted", {"post": snapshot}, channel_id=chan["id"], admins=False)
        self._publish("post_deleted", {"delete_by": me_id, "post": snapshot}, channel_id=chan["id"], admins=True)

    # ------------------------------------------------------------------ reactions
    @locked
    def save_reaction(self, me_id, post_id, emoji_name) -> dict:
        store = self._store
        post = store.posts.get(post_id)
        if post is None or post.get("delete_at") or not (
                self._is_member(post["channel_id"], me_id) or self._is_sysadmin(me_id)):
            raise forbidden(me_id, "add_reaction")
        chan = store.channels[post["channel_id"]]
        if chan.get("delete_at"):
            raise AppError(403, "api.reaction.save.archived_channel.app_error")
        existing = [r for r in store.reactions.get(post["id"], [])
                    if r["user_id"] == me_id and r["emoji_name"] == emoji_name]
        if existing:
            return shapes.reaction_json(existing[0])
        t = now_ms()
        reaction = {"user_id": me_id, "post_id": post["id"], "emoji_name": emoji_name, "create_at": t, "update_at": t}
        store.reactions.setdefault(post["id"], []).append(reaction)
        post["update_at"] = t
        self._publish("reaction_added", {"reaction": shapes.dumps(shapes.reaction_json(reaction))},
                      channel_id=chan["id"])
        return shapes.reaction_json(reaction)

    @locked
    def delete_reaction(self, me_id, user_id, post_id, emoji_name) -> None:
        store = self._store
        if user_id != me_id and not self._is_sysadmin(me_id):
            raise forbidden(me_id, "remove_others_reactions")
        post = store.posts.get(post_id)
        if post is None or not (self._is_member(post["channel_id"], me_id) or self._is_sysadmin(me_id)):
            raise forbidden(me_id, "remove_reaction")
        if store.channels[post["channel_id"]].get("delete_at"):
            raise AppError(403, "api.reaction.save.archived_channel.app_error")
        kept, removed = [], None
        for r in store.reactions.get(post_id, []):
            if removed is None and r["user_id"] == user_id and r["emoji_name"] == emoji_name:
                removed = r
            else:
                kept.append(r)
        store.reactions[post_id] = kept
        if removed:
            t = now_ms()
            post["update_at"] = t
            gone = dict(shapes.reaction_json(removed), create_at=0, update_at=t)
            self._publish("reaction_removed", {"reaction": shapes.dumps(gone)}, channel_id=post["channel_id"])

    @locked
    def post_reactions(self, me_id, post_id) -> list[dict]:
        self._readable_post(post_id, me_id)
        return [shapes.reaction_json(r) for r in self._store.reactions.get(post_id, [])]
