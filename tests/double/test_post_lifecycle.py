"""A bot post's life: create, patch, update, delete, in archived channels and after losing membership.

Where a real 5.37 recording (/work/shared/mattermost-contract) covers a case the test names it;
everything else follows the server source at release-5.37 (mattermost/mattermost-server):
- api4/post.go createPost, updatePost, patchPost, deletePost, getPost
- app/post.go CreatePostAsUser, UpdatePost, PatchPost, DeletePost, GetSinglePost
- app/authorization.go SessionHasPermissionToChannel(/ByPost); app/web_conn.go shouldSendEvent
- model/role.go MakeDefaultRoles + utils/authorization.go SetRolePermissionsFromConfig (default roles:
  channel_user has create_post/edit_post/delete_post, team_admin delete_post/delete_others_posts,
  system_admin everything; team_user/system_user none of them)
- model/post.go IsValid, PostPatch/Patch; store/sqlstore/post_store.go GetSingle, Update, Delete
- api4/channel.go removeChannelMember, app/channel.go removeUserFromChannel
and the API reference, https://docs.mattermost.com/api/reference/ (create-post, patch-post, update-post,
delete-post, get-post, remove-user-from-channel).

The bot here is "responder", a bot account with only system_user, as the incident bot normally runs
(the conftest world's "incident" bot is a system admin, which the server lets post and edit anywhere).
"""
import pytest
import requests

from mmdouble.ids import new_id
from mmdouble.seeding import add_person

MAX_RUNES = 16383  # model.POST_MESSAGE_MAX_RUNES_V2 = 65535 / 4; the recording refuses 16384 (posts.json #2)
CHECKLIST = {"attachments": [{"fallback": "Checklist", "title": "Checklist", "text": "0 of 2 done",
                              "actions": [{"id": "tick1", "name": "Item one", "type": "button",
                                           "integration": {"url": "http://127.0.0.1:1/hooks/action"}}]}]}


def call(world, who, method, path, **kw):
    headers = {"Authorization": f"Bearer {world.tokens[who]}"}
    return requests.request(method, world.d.url + "/api/v4" + path, headers=headers, timeout=10, **kw)


def assert_error(resp, status, err_id, permission=None):
    assert resp.status_code == status, resp.text[:300]
    body = resp.json()
    assert body["status_code"] == status and body["id"] == err_id, body
    if permission:
        # app/authorization.go MakePermissionError: detailed_error "userId=<id>, permission=<perm>,"
        assert body["detailed_error"].endswith(f"permission={permission},"), body


@pytest.fixture
def bot(world):
    """The incident bot as a plain bot account (system_user), in the team and town-square."""
    user, token = add_person(world.d, world.team["id"], "responder", roles="system_user", is_bot=True,
                             channels=[world.town["id"]])
    world.users["bot"], world.tokens["bot"] = user, token
    return user


@pytest.fixture
def lead(world):
    """A team admin who is not a system admin."""
    user, token = add_person(world.d, world.team["id"], "lead", team_admin=True, channels=[world.town["id"]])
    world.users["lead"], world.tokens["lead"] = user, token
    return user


def incident_channel(world, name="incident-1", type="O", members=("alice",)):
    """The bot creates the channel (so it is a member) and adds `members`."""
    resp = call(world, "bot", "POST", "/channels", json={"team_id": world.team["id"], "name": name,
                                                         "display_name": name, "type": type})
    assert resp.status_code == 201, resp.text
    chan = resp.json()
    for who in members:
        added = call(world, "bot", "POST", f"/channels/{chan['id']}/members", json={"user_id": world.users[who]["id"]})
        assert added.status_code == 201, added.text
    return chan


def post(world, who, channel_id, message="Incident started", **fields):
    resp = call(world, who, "POST", "/posts", json={"channel_id": channel_id, "message": message, **fields})
    assert resp.status_code == 201, resp.text
    return resp.json()


def archive(world, chan):
    assert call(world, "bot", "DELETE", f"/channels/{chan['id']}").status_code == 200


def barrier(world, chan, *sims):
    """A post every sim sees; events arrive in order per connection, so earlier ones are in."""
    p = post(world, "bot", chan["id"], "barrier")
    for s in sims:
        s.wait_event("posted", lambda e: e["data"]["post"]["id"] == p["id"])


# ---------------------------------------------------------------------------- 1. PUT /posts/{id}/patch

def test_patch_changes_only_the_fields_given(world, bot):
    # API reference patch-post: "Omitted fields will not be updated"; model/post.go Post.Patch only
    # copies non-nil PostPatch fields (a JSON null is nil too). Recorded: posts.json #6 (message only,
    # props kept, edit_at set).
    chan = incident_channel(world)
    p = post(world, "bot", chan["id"], props=CHECKLIST)
    resp = call(world, "bot", "PUT", f"/posts/{p['id']}/patch", json={"message": "Incident (SEV2)"})
    assert resp.status_code == 200, resp.text
    got = resp.json()
    assert got["message"] == "Incident (SEV2)" and got["props"]["attachments"][0]["text"] == "0 of 2 done"
    assert got["props"]["from_bot"] == "true"
    assert got["update_at"] >= got["edit_at"] > 0 and got["create_at"] == p["create_at"]
    assert "integration" not in got["props"]["attachments"][0]["actions"][0]

    nulls = call(world, "bot", "PUT", f"/posts/{p['id']}/patch", json={"message": None, "props": None,
                                                                       "is_pinned": True}).json()
    assert nulls["message"] == "Incident (SEV2)" and nulls["props"] == got["props"] and nulls["is_pinned"] is True
    assert nulls["edit_at"] == got["edit_at"]  # neither message nor attachments changed

    # Props are replaced as a whole (Post.Patch -> SetProps). Changed attachments alone mark the post
    # edited: app/post.go UpdatePost sets EditAt when !AttachmentsEqual.
    new_props = {"attachments": [dict(CHECKLIST["attachments"][0], text="1 of 2 done")]}
    patched = call(world, "bot", "PUT", f"/posts/{p['id']}/patch", json={"props": new_props}).json()
    assert patched["message"] == "Incident (SEV2)"
    assert patched["props"]["attachments"][0]["text"] == "1 of 2 done" and "from_bot" not in patched["props"]
    assert patched["edit_at"] > got["edit_at"]
    assert call(world, "alice", "GET", f"/posts/{p['id']}").json()["props"] == patched["props"]


def test_patch_and_update_ignore_file_ids(world, bot):
    # api4/post.go patchPost sets post.FileIds = nil and updatePost copies originalPost.FileIds:
    # "Updating the file_ids of a post is not a supported operation and will be ignored".
    chan = incident_channel(world)
    up = call(world, "bot", "POST", "/files", data={"channel_id": chan["id"]},
              files=[("files", ("timeline.csv", b"t,event\n1,start\n"))])
    assert up.status_code == 201, up.text
    fid = up.json()["file_infos"][0]["id"]
    p = post(world, "bot", chan["id"], "with file", file_ids=[fid])
    patched = call(world, "bot", "PUT", f"/posts/{p['id']}/patch", json={"message": "still", "file_ids": []})
    assert patched.status_code == 200 and patched.json()["file_ids"] == [fid]
    updated = call(world, "bot", "PUT", f"/posts/{p['id']}", json={"id": p["id"], "message": "whole"})
    assert updated.status_code == 200 and updated.json()["file_ids"] == [fid]


def test_patch_sends_post_edited_with_the_new_post(world, bot):
    # app/post.go UpdatePost publishes post_edited to the channel with data.post = the prepared post as a
    # JSON string (recorded: posts.json websocket #24/#25 for the bot and #38/#39 for alice).
    chan = incident_channel(world, type="P")
    alice, bob = world.sim("alice"), world.sim("bob")
    p = post(world, "bot", chan["id"], props=CHECKLIST)
    resp = call(world, "bot", "PUT", f"/posts/{p['id']}/patch", json={"message": "Patched"})
    ev = alice.wait_event("post_edited", lambda e: e["data"]["post"]["id"] == p["id"])
    raw = next(f for f in alice.frames if f.get("event") == "post_edited")
    assert isinstance(raw["data"]["post"], str)
    assert ev["broadcast"]["channel_id"] == chan["id"] and not ev["broadcast"]["user_id"]
    assert ev["data"]["post"] == resp.json()
    assert ev["data"]["post"]["message"] == "Patched" and ev["data"]["post"]["edit_at"] > 0
    # Only channel members get channel events (app/web_conn.go shouldSendEvent).
    bob_town = post(world, "alice", world.town["id"], "fence")
    bob.wait_event("posted", lambda e: e["data"]["post"]["id"] == bob_town["id"])
    assert "post_edited" not in bob.event_names()


def test_patch_in_archived_channel_is_refused(world, bot):
    # app/post.go PatchPost: channel.DeleteAt != 0 -> 400 api.post.patch_post.can_not_update_post_in_deleted.error
    # (its own id; PUT goes through UpdatePost, whose id is api.post.update_post.can_not_update_post_in_deleted.error).
    chan = incident_channel(world)
    p = post(world, "bot", chan["id"])
    archive(world, chan)
    assert_error(call(world, "bot", "PUT", f"/posts/{p['id']}/patch", json={"message": "late"}), 400,
                 "api.post.patch_post.can_not_update_post_in_deleted.error")
    assert_error(call(world, "bot", "PUT", f"/posts/{p['id']}", json={"id": p["id"], "message": "late"}), 400,
                 "api.post.update_post.can_not_update_post_in_deleted.error")
    # A system admin is refused the same way (the check is not a permission).
    assert_error(call(world, "admin", "PUT", f"/posts/{p['id']}/patch", json={"message": "late"}), 400,
                 "api.post.patch_post.can_not_update_post_in_deleted.error")
    assert call(world, "bot", "GET", f"/posts/{p['id']}").json()["message"] == "Incident started"


def test_patch_or_update_of_deleted_or_missing_post_is_forbidden(world, bot):
    # api4/post.go patchPost/updatePost: GetSinglePost (store GetSingle without deleted posts) failing ->
    # c.SetPermissionError(edit_post): 403, not 404.
    chan = incident_channel(world)
    p = post(world, "bot", chan["id"])
    assert call(world, "bot", "DELETE", f"/posts/{p['id']}").status_code == 200
    for pid in (p["id"], new_id()):
        assert_error(call(world, "bot", "PUT", f"/posts/{pid}/patch", json={"message": "x"}), 403,
                     "api.context.permissions.app_error", "edit_post")
        assert_error(call(world, "bot", "PUT", f"/posts/{pid}", json={"id": pid, "message": "x"}), 403,
                     "api.context.permissions.app_error", "edit_post")


def test_patch_of_someone_elses_post(world, bot):
    # api4/post.go patchPost: not the author -> edit_others_posts, held only by system_admin by default.
    chan = incident_channel(world, members=("alice", "admin"))
    p = post(world, "bot", chan["id"])
    assert_error(call(world, "alice", "PUT", f"/posts/{p['id']}/patch", json={"message": "hijack"}), 403,
                 "api.context.permissions.app_error", "edit_others_posts")
    resp = call(world, "admin", "PUT", f"/posts/{p['id']}/patch", json={"message": "fixed typo"})
    assert resp.status_code == 200 and resp.json()["message"] == "fixed typo"
    assert resp.json()["user_id"] == bot["id"]


def test_patch_of_a_system_message_is_refused(world, bot):
    # app/post.go UpdatePost: oldPost.IsSystemMessage() -> 400 api.post.update_post.system_message.app_error.
    chan = incident_channel(world)
    listed = call(world, "bot", "GET", f"/channels/{chan['id']}/posts").json()
    system = next(p for p in listed["posts"].values() if p["type"] == "system_add_to_channel")
    assert_error(call(world, "bot", "PUT", f"/posts/{system['id']}/patch", json={"message": "x"}), 400,
                 "api.post.update_post.system_message.app_error")


def test_patch_message_length_limit(world, bot):
    # store/sqlstore/post_store.go Update -> model/post.go IsValid: more than MaxPostSize runes (16383 on
    # PostgreSQL) -> 400 model.post.is_valid.msg.app_error; same limit as for new posts (posts.json #2).
    chan = incident_channel(world)
    p = post(world, "bot", chan["id"])
    assert_error(call(world, "bot", "PUT", f"/posts/{p['id']}/patch", json={"message": "x" * (MAX_RUNES + 1)}),
                 400, "model.post.is_valid.msg.app_error")
    assert call(world, "bot", "GET", f"/posts/{p['id']}").json()["message"] == "Incident started"
    ok = call(world, "bot", "PUT", f"/posts/{p['id']}/patch", json={"message": "x" * MAX_RUNES})
    assert ok.status_code == 200 and len(ok.json()["message"]) == MAX_RUNES


# ---------------------------------------------------------------------------- 2. DELETE /posts/{id}

def test_delete_own_post_and_post_deleted_event(world, bot):
    # Recorded: posts.json #15 (author deletes: 200 {"status": "OK"}) and websocket #30/#45 (post_deleted to
    # the channel, data.post a JSON string of the post as it was, delete_at 0).
    # app/post.go DeletePost publishes it twice: sanitized (no delete_by) to everyone but manage_system
    # holders, and with delete_by only to them (app/web_conn.go shouldSendEvent).
    chan = incident_channel(world, members=("alice", "admin"))
    alice, admin = world.sim("alice"), world.sim("admin")
    p = post(world, "bot", chan["id"])
    reply = post(world, "alice", chan["id"], "ack", root_id=p["id"])
    resp = call(world, "bot", "DELETE", f"/posts/{p['id']}")
    assert resp.status_code == 200 and resp.json() == {"status": "OK"}

    ev = alice.wait_event("post_deleted")
    assert ev["data"]["post"]["id"] == p["id"] and ev["data"]["post"]["delete_at"] == 0
    assert "delete_by" not in ev["data"] and ev["broadcast"]["channel_id"] == chan["id"]
    admin_ev = admin.wait_event("post_deleted")
    assert admin_ev["data"]["delete_by"] == bot["id"] and admin_ev["data"]["post"]["id"] == p["id"]
    barrier(world, chan, alice, admin)
    assert alice.event_names().count("post_deleted") == 1 and admin.event_names().count("post_deleted") == 1

    # api4/post.go getPost -> GetSinglePost: deleted posts are not found, for anyone (5.37 has no
    # include_deleted here): 404 app.post.get.app_error. The store's Delete also deletes the replies.
    for who in ("alice", "bot", "admin"):
        for pid in (p["id"], reply["id"]):
            assert_error(call(world, who, "GET", f"/posts/{pid}"), 404, "app.post.get.app_error")
    listed = call(world, "bot", "GET", f"/channels/{chan['id']}/posts").json()
    assert p["id"] not in listed["order"] and reply["id"] not in listed["order"]


def test_delete_in_archived_channel_is_refused(world, bot):
    # app/post.go DeletePost: channel.DeleteAt != 0 -> 400 api.post.delete_post.can_not_delete_post_in_deleted.error
    # (for system admins too); the post stays readable.
    chan = incident_channel(world)
    p = post(world, "bot", chan["id"])
    archive(world, chan)
    for who in ("bot", "admin"):
        assert_error(call(world, who, "DELETE", f"/posts/{p['id']}"), 400,
                     "api.post.delete_post.can_not_delete_post_in_deleted.error")
    assert call(world, "alice", "GET", f"/posts/{p['id']}").status_code == 200


def test_delete_of_deleted_or_missing_post_is_forbidden(world, bot):
    # api4/post.go deletePost: GetSinglePost failing (deleted or unknown) -> SetPermissionError(delete_post): 403.
    chan = incident_channel(world)
    p = post(world, "bot", chan["id"])
    assert call(world, "bot", "DELETE", f"/posts/{p['id']}").status_code == 200
    for who in ("bot", "admin"):
        for pid in (p["id"], new_id()):
            assert_error(call(world, who, "DELETE", f"/posts/{pid}"), 403, "api.context.permissions.app_error",
                         "delete_post")


def test_delete_of_someone_elses_post(world, bot, lead):
    # api4/post.go deletePost: not the author -> delete_others_posts: team_admin and system_admin have it,
    # channel_user does not.
    chan = incident_channel(world, members=("alice", "lead"))
    p1, p2 = post(world, "bot", chan["id"], "one"), post(world, "bot", chan["id"], "two")
    assert_error(call(world, "alice", "DELETE", f"/posts/{p1['id']}"), 403, "api.context.permissions.app_error",
                 "delete_others_posts")
    assert call(world, "lead", "DELETE", f"/posts/{p1['id']}").status_code == 200
    assert call(world, "admin", "DELETE", f"/posts/{p2['id']}").status_code == 200


# ---------------------------------------------------------------------------- 3. POST /posts refusals

def test_post_into_archived_channel(world, bot):
    # Recorded: archive.json #2 -> 400 api.post.create_post.can_not_post_to_deleted.error
    # (app/post.go CreatePostAsUser; the member keeps create_post in the archived channel).
    chan = incident_channel(world)
    archive(world, chan)
    assert_error(call(world, "bot", "POST", "/posts", json={"channel_id": chan["id"], "message": "after"}), 400,
                 "api.post.create_post.can_not_post_to_deleted.error")


def test_post_where_not_a_member(world, bot):
    # Recorded: posts.json #4 (non-member, private channel) -> 403 api.context.permissions.app_error,
    # permission=create_post. api4/post.go createPost: for a public channel the fallback needs
    # create_post_public on the team, which team_user/system_user do not hold by default, so a team
    # member who is not in a public channel is refused too.
    private = world.d.create_channel(world.team["id"], "private-ops", "Private", type="P",
                                     creator_id=world.users["alice"]["id"])
    public = world.d.create_channel(world.team["id"], "public-ops", "Public", type="O",
                                    creator_id=world.users["alice"]["id"])
    for chan in (private, public):
        assert_error(call(world, "bot", "POST", "/posts", json={"channel_id": chan["id"], "message": "hi"}), 403,
                     "api.context.permissions.app_error", "create_post")
        assert_error(call(world, "bob", "POST", "/posts", json={"channel_id": chan["id"], "message": "hi"}), 403,
                     "api.context.permissions.app_error", "create_post")
        # system_admin holds create_post everywhere (the conftest "incident" bot is one).
        assert call(world, "incident", "POST", "/posts", json={"channel_id": chan["id"], "message": "hi"}).status_code == 201
    # The permission check comes before the archived check: a non-member of an archived channel gets 403.
    archive_me = incident_channel(world, "incident-2", members=())
    archive(world, archive_me)
    assert_error(call(world, "bob", "POST", "/posts", json={"channel_id": archive_me["id"], "message": "hi"}), 403,
                 "api.context.permissions.app_error", "create_post")
    # An unknown channel is a permission error as well.
    assert_error(call(world, "bot", "POST", "/posts", json={"channel_id": new_id(), "message": "hi"}), 403,
                 "api.context.permissions.app_error", "create_post")


# ---------------------------------------------------------------------------- 4. message length

@pytest.mark.parametrize("char", ["x", "\N{FIRE}"])
def test_post_message_length_limit(world, bot, char):
    # Recorded: posts.json #2, 16384 characters -> 400 model.post.is_valid.msg.app_error.
    # model/post.go IsValid counts runes (utf8.RuneCountInString), so 16383 emoji are still fine.
    chan = incident_channel(world)
    assert_error(call(world, "bot", "POST", "/posts", json={"channel_id": chan["id"], "message": char * (MAX_RUNES + 1)}),
                 400, "model.post.is_valid.msg.app_error")
    ok = post(world, "bot", chan["id"], char * MAX_RUNES)
    assert ok["message"] == char * MAX_RUNES


# ---------------------------------------------------------------------------- 6. the bot loses membership

def test_bot_removed_from_channel_can_no_longer_post_edit_or_delete(world, bot):
    # Recorded: channels.json #17 (a member removes another: 200) and websocket #29/#39 (user_removed to the
    # channel). app/channel.go removeUserFromChannel also sends user_removed to the removed user alone.
    # Afterwards the bot has no channel role there: create_post, edit_post and delete_post all come from
    # channel_user, so api4/post.go answers 403 for each (model/role.go defaults).
    chan = incident_channel(world)
    p = post(world, "bot", chan["id"])
    bot_ws = world.sim("bot")
    resp = call(world, "alice", "DELETE", f"/channels/{chan['id']}/members/{bot['id']}")
    assert resp.status_code == 200 and resp.json() == {"status": "OK"}
    ev = bot_ws.wait_event("user_removed", lambda e: e["broadcast"]["user_id"] == bot["id"])
    assert ev["data"] == {"channel_id": chan["id"], "remover_id": world.users["alice"]["id"]}

    assert_error(call(world, "bot", "POST", "/posts", json={"channel_id": chan["id"], "message": "still here?"}),
                 403, "api.context.permissions.app_error", "create_post")
    assert_error(call(world, "bot", "PUT", f"/posts/{p['id']}/patch", json={"message": "x"}), 403,
                 "api.context.permissions.app_error", "edit_post")
    assert_error(call(world, "bot", "DELETE", f"/posts/{p['id']}"), 403, "api.context.permissions.app_error",
                 "delete_post")
    # Removing it again: removeUserFromChannel -> GetChannelMember -> 404.
    assert_error(call(world, "alice", "DELETE", f"/channels/{chan['id']}/members/{bot['id']}"), 404,
                 "app.channel.get_member.missing.app_error")


def test_bot_leaves_private_channel_then_cannot_post(world, bot):
    # api4/channel.go removeChannelMember: removing oneself needs no permission; app/channel.go
    # RemoveUserFromChannel then posts "<user> left the channel." (system_leave_channel).
    chan = incident_channel(world, type="P")
    assert call(world, "bot", "DELETE", f"/channels/{chan['id']}/members/{bot['id']}").status_code == 200
    listed = call(world, "alice", "GET", f"/channels/{chan['id']}/posts").json()
    assert any(p["type"] == "system_leave_channel" for p in listed["posts"].values())
    assert_error(call(world, "bot", "POST", "/posts", json={"channel_id": chan["id"], "message": "hi"}), 403,
                 "api.context.permissions.app_error", "create_post")


def test_remove_member_refusals(world, bot):
    # api4/channel.go removeChannelMember: GetUser -> 404 app.user.missing_account.const; only open and
    # private channels -> 400 api.channel.remove_channel_member.type.app_error; someone else needs
    # manage_public_channel_members (a channel_user permission) -> 403 for non-members.
    chan = incident_channel(world)
    assert_error(call(world, "bot", "DELETE", f"/channels/{chan['id']}/members/{new_id()}"), 404,
                 "app.user.missing_account.const")
    dm = call(world, "alice", "POST", "/channels/direct", json=[world.users["alice"]["id"], bot["id"]]).json()
    assert_error(call(world, "alice", "DELETE", f"/channels/{dm['id']}/members/{bot['id']}"), 400,
                 "api.channel.remove_channel_member.type.app_error")
    assert_error(call(world, "bob", "DELETE", f"/channels/{chan['id']}/members/{bot['id']}"), 403,
                 "api.context.permissions.app_error", "manage_public_channel_members")


def test_patch_body_that_is_not_a_post_patch(world, bot):
    # api4/post.go patchPost: model.PostPatchFromJson fails (wrong JSON types) -> c.SetInvalidParam("post"):
    # 400 api.context.invalid_body_param.app_error.
    chan = incident_channel(world)
    p = post(world, "bot", chan["id"])
    for body in ({"message": 5}, {"props": "x"}, {"is_pinned": "yes"}, ["message"]):
        assert_error(call(world, "bot", "PUT", f"/posts/{p['id']}/patch", json=body), 400,
                     "api.context.invalid_body_param.app_error")
