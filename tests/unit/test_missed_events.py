"""While the websocket was down people DMed the bot and reacted to posts: after the reconnect the
bot finds what they did, and only that (flows/missed_events.py, against the chat port in memory)."""

from __future__ import annotations

from flows import missed_events
from flows.missed_events import MAX_WINDOW_MS, SLACK_MS, MissedPost, MissedReaction, find_missed
from flows.port import ChatError
from tests.unit.fake_chat import BOT

EMOJIS = {"rotating_light", "pushpin"}
HEARD = 1_000_000_000_000  # the last event the bot heard, ms
NOW = HEARD + 60_000  # a minute later it is back


def channel(chat, id_, kind="O", team="team-a", **extra):
    chat.channels[id_] = {"id": id_, "team_id": "" if kind == "D" else team, "name": id_, "display_name": id_,
                          "type": kind, "delete_at": 0, **extra}
    chat.members.add((id_, BOT))
    return chat.channels[id_]


def said(chat, channel_id, user_id, message, at, **extra):
    post = {"id": f"post-{len(chat.posts) + 1}", "channel_id": channel_id, "user_id": user_id, "message": message,
            "create_at": at, "update_at": at, "delete_at": 0, "type": "", "props": {}, "metadata": {}, **extra}
    chat.posts[post["id"]] = post
    return post


def reacted(post, user_id, emoji, at):
    """As Mattermost stores it: the post moves (`update_at`) and lists the reaction in its metadata."""
    reaction = {"user_id": user_id, "post_id": post["id"], "emoji_name": emoji, "create_at": at, "update_at": at,
                "delete_at": 0}
    post["update_at"] = max(post["update_at"], at)
    post["has_reactions"] = True
    post["metadata"].setdefault("reactions", []).append(reaction)
    return reaction


def test_a_dm_sent_while_the_bot_was_away_is_found(chat):
    channel(chat, "dm-alice", kind="D")
    before = said(chat, "dm-alice", "alice", "help", HEARD - SLACK_MS - 1)  # heard (and answered) before the gap
    question = said(chat, "dm-alice", "alice", "start Disk full", HEARD + 5_000)
    said(chat, "dm-alice", BOT, "Incident started", HEARD + 6_000)  # the bot's own answer

    missed = find_missed(chat, HEARD, NOW, EMOJIS)

    assert [(type(item), item.post["id"], item.sender) for item in missed.found] == [(MissedPost, question["id"], "alice")]
    assert before["id"] not in [item.post["id"] for item in missed.found if isinstance(item, MissedPost)]
    assert missed.skipped == []


def test_an_old_dm_edited_in_the_gap_is_not_asked_again(chat):
    channel(chat, "dm-alice", kind="D")
    old = said(chat, "dm-alice", "alice", "help", HEARD - 3_600_000)
    old["update_at"] = old["edit_at"] = HEARD + 1_000

    assert find_missed(chat, HEARD, NOW, EMOJIS).found == []


def test_deleted_and_system_posts_in_a_dm_are_not_answered(chat):
    channel(chat, "dm-alice", kind="D")
    said(chat, "dm-alice", "alice", "", HEARD + 1_000, delete_at=HEARD + 2_000)
    said(chat, "dm-alice", "alice", "alice joined", HEARD + 1_000, type="system_join_channel")

    assert find_missed(chat, HEARD, NOW, EMOJIS).found == []


def test_the_trigger_and_timeline_emojis_on_any_post_are_found_others_not(chat):
    channel(chat, "town-square")
    channel(chat, "incident-db")
    old = said(chat, "town-square", "bob", "Disk full on db-3", HEARD - 3_600_000)  # an hour old, reacted to now
    pin_me = said(chat, "incident-db", "bob", "Failover done", HEARD + 2_000)
    trigger = reacted(old, "alice", "rotating_light", HEARD + 3_000)
    reacted(old, "carol", "+1", HEARD + 3_500)  # does nothing: not looked at
    reacted(old, BOT, "rotating_light", HEARD + 3_600)  # the bot's own
    reacted(pin_me, "bob", "pushpin", HEARD - SLACK_MS - 10)  # before the gap: heard live
    timeline = reacted(pin_me, "alice", "pushpin", HEARD + 4_000)

    missed = find_missed(chat, HEARD, NOW, EMOJIS)

    assert [(type(item), item.reaction, item.channel_id) for item in missed.found] == [
        (MissedReaction, trigger, "town-square"), (MissedReaction, timeline, "incident-db")]


def test_reactions_the_metadata_leaves_out_are_asked_for(chat):
    channel(chat, "town-square")
    post = said(chat, "town-square", "bob", "Disk full", HEARD + 1_000)
    reaction = reacted(post, "alice", "rotating_light", HEARD + 2_000)
    del post["metadata"]["reactions"]
    chat.reactions[post["id"]] = [reaction]

    assert [item.reaction for item in find_missed(chat, HEARD, NOW, EMOJIS).found] == [reaction]


def test_everything_found_comes_oldest_first_dms_and_reactions_together(chat):
    channel(chat, "dm-alice", kind="D")
    channel(chat, "town-square")
    post = said(chat, "town-square", "bob", "Disk full", HEARD + 1_000)
    reacted(post, "alice", "rotating_light", HEARD + 3_000)
    said(chat, "dm-alice", "alice", "help", HEARD + 2_000)
    said(chat, "dm-alice", "alice", "todo", HEARD + 4_000)

    assert [item.at - HEARD for item in find_missed(chat, HEARD, NOW, EMOJIS).found] == [2_000, 3_000, 4_000]


def test_archived_channels_are_not_read(chat):
    channel(chat, "old-incident", delete_at=HEARD - 1)
    find_missed(chat, HEARD, NOW, EMOJIS)
    assert "posts_since" not in chat.calls


def test_a_long_gap_is_caught_up_only_for_the_last_minutes_and_says_so(chat):
    channel(chat, "dm-alice", kind="D")
    heard = NOW - 3 * MAX_WINDOW_MS
    said(chat, "dm-alice", "alice", "help", NOW - MAX_WINDOW_MS - 1_000)  # too old to answer now
    recent = said(chat, "dm-alice", "alice", "todo", NOW - 60_000)

    missed = find_missed(chat, heard, NOW, EMOJIS)

    assert missed.since_ms == NOW - MAX_WINDOW_MS
    assert [item.post["id"] for item in missed.found] == [recent["id"]]
    assert len(missed.skipped) == 1 and "minutes" in missed.skipped[0]


def test_the_posts_read_are_bounded_and_the_newest_kept(chat, monkeypatch):
    monkeypatch.setattr(missed_events, "MAX_POSTS", 3)
    channel(chat, "dm-alice", kind="D", last_post_at=HEARD + 5_000)
    channel(chat, "town-square", last_post_at=HEARD + 9_000)
    posts = [said(chat, "dm-alice", "alice", f"help {n}", HEARD + 1_000 * n) for n in range(1, 6)]

    missed = find_missed(chat, HEARD, NOW, EMOJIS)

    assert [item.post["id"] for item in missed.found] == [p["id"] for p in posts[-3:]]
    assert any("2 oldest" in note for note in missed.skipped)
    assert any("1 channels after 3 posts" in note for note in missed.skipped)  # town-square was not read


def test_the_channels_read_are_bounded_dms_first(chat, monkeypatch):
    monkeypatch.setattr(missed_events, "MAX_CHANNELS", 1)
    channel(chat, "town-square", last_post_at=NOW)
    channel(chat, "dm-alice", kind="D", last_post_at=HEARD)
    question = said(chat, "dm-alice", "alice", "help", HEARD + 1_000)

    missed = find_missed(chat, HEARD, NOW, EMOJIS)

    assert [item.post["id"] for item in missed.found] == [question["id"]]
    assert missed.skipped == ["1 of 2 channels (at most 1 are read)"]


def test_a_channel_that_refuses_does_not_stop_the_others(chat):
    channel(chat, "left-meanwhile", last_post_at=NOW)
    channel(chat, "dm-alice", kind="D")
    question = said(chat, "dm-alice", "alice", "help", HEARD + 1_000)
    real = chat.posts_since

    def posts_since(channel_id, since_ms):
        if channel_id == "left-meanwhile":
            raise ChatError(403, "api.context.permissions.app_error", "no")
        return real(channel_id, since_ms)

    chat.posts_since = posts_since
    missed = find_missed(chat, HEARD, NOW, EMOJIS)

    assert [item.post["id"] for item in missed.found] == [question["id"]]
    assert missed.skipped == ["channel left-meanwhile (403 api.context.permissions.app_error)"]


def test_the_time_last_heard_is_kept_across_restarts(db):
    assert missed_events.remembered_heard_at() is None  # a first start: nothing to catch up
    missed_events.remember_heard_at(HEARD)
    missed_events.remember_heard_at(HEARD + 10_000)
    assert missed_events.remembered_heard_at() == HEARD + 10_000
