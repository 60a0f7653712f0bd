"""The flows against a chat port in memory: what reaches Mattermost, in which order, and what is
left when Mattermost refuses part of a change."""

from __future__ import annotations

import pytest

from flows import backstage as backstage_flow
from flows import checklists as checklist_flow
from flows import incidents as flow
from flows import updates as updates_flow
from flows.port import ChatError
from plugins.incidents import ended_text
from services import incidents, updates
from services.actor import Actor
from services.backstage import Filters
from services.errors import Conflict, Invalid, NotFound
from tests.unit.conftest import TEAM, person

alice = person("alice")


def started(ctx, name="Database down", **options):
    return flow.start_incident(ctx, alice, TEAM, name, **options).incident


def as_member(chat, actor, channel_id):
    """The actor, asking the fake whether they are in a channel (as the chat layer does)."""
    return person(actor.user_id, channels=[c for (c, u) in chat.members if u == actor.user_id]) if channel_id else actor


# ---- start -----------------------------------------------------------------------------------
def test_starting_creates_the_channel_adds_the_starter_and_posts_the_announcement_then_the_checklist(db, chat, ctx):
    incident = started(ctx)
    assert chat.calls == ["create_channel", "add_member", "post", "post"]
    assert (incident.channel_id, "alice") in chat.members
    announcement, checklist = chat.messages(incident.channel_id)
    assert announcement == "@alice started the incident **Database down** and is its commander."
    assert checklist == "#### Checklist for Database down"
    assert incidents.by_id(incident.id).checklist_post_id is not None


def test_a_taken_channel_name_is_retried_once_with_a_suffix(db, chat, ctx):
    chat.channels["x"] = {"id": "x", "team_id": TEAM, "name": "database-down", "type": "O", "delete_at": 0}
    incident = started(ctx)
    assert incident.channel_name.startswith("database-down-") and incident.channel_name != "database-down"


def test_a_name_taken_twice_is_a_clear_answer_and_nothing_is_recorded(db, chat, ctx):
    chat.refuse("create_channel", ChatError(400, "store.sql_channel.save_channel.exists.app_error", "taken"), times=2)
    with pytest.raises(Invalid, match="A channel with that name already exists; choose another incident name."):
        started(ctx)
    assert incidents.active_incidents() == []


def test_when_mattermost_refuses_the_starter_the_new_channel_is_archived_and_nothing_recorded(db, chat, ctx):
    chat.refuse("add_member", ChatError(403, "api.context.permissions.app_error", "no"))
    with pytest.raises(ChatError):
        started(ctx)
    assert incidents.active_incidents() == []
    [channel] = chat.channels.values()
    assert channel["delete_at"]  # no orphan channel


def test_when_the_first_messages_are_refused_the_incident_still_exists_and_says_so(db, chat, ctx):
    chat.refuse("post", ChatError(500, "api.post.create_post.app_error", "down"))
    result = flow.start_incident(ctx, alice, TEAM, "Database down")
    assert result.announced is False
    assert incidents.by_id(result.incident.id).is_active


@pytest.mark.parametrize("name, answer", [
    ("", "name"),
    ("\x00\x00", "name"),
    ("9" * 5000, "64"),
    ("\u202e\u202c", "name"),
])
def test_a_name_that_cannot_be_used_is_refused_before_any_channel_exists(db, chat, ctx, name, answer):
    with pytest.raises(Invalid, match=answer):
        started(ctx, name)
    assert chat.calls == []


@pytest.mark.parametrize("name, channel_name", [
    ("@channel is down", "channel-is-down"),
    ("DB \u202edown\u202c", "db-down"),
    ("a\x00b", "a-b"),
])
def test_names_people_type_make_plain_channel_names_and_mention_nobody(db, chat, ctx, name, channel_name):
    incident = started(ctx, name)
    assert incident.channel_name == channel_name
    assert "@channel" not in chat.messages(incident.channel_id)[0].replace("@alice", "")


# ---- end and restart ---------------------------------------------------------------------------
def test_ending_shows_the_end_on_the_checklist_and_posts_the_retrospective_before_the_channel_is_archived(db, chat, ctx):
    incident = started(ctx)
    chat.calls.clear()
    flow.end_incident(ctx, as_member(chat, alice, incident.channel_id), incident)
    assert chat.calls[:2] == ["post", "patch_post"] and chat.calls[-1] == "archive_channel"
    assert chat.calls[2:4] == ["upload", "post"]  # the draft, in the channel while it still takes posts
    assert [f["name"] for f in chat.files.values()] == ["retrospective-database-down.md"] * 2  # and in the commander's DM
    assert chat.posts[incidents.by_id(incident.id).checklist_post_id]["message"].endswith("(ended)")
    assert chat.channels[incident.channel_id]["delete_at"]


def test_the_person_ending_an_incident_hears_what_became_of_its_channel(db, chat, ctx):
    quiet = started(ctx, "Disk full")
    chat.refuse("archive_channel", ChatError(0, "", "connection refused"))
    answer = ended_text(flow.end_incident(ctx, as_member(chat, alice, quiet.channel_id), quiet))
    assert "did not answer" in answer and "as soon as Mattermost answers" in answer and "is archived" not in answer
    refused = started(ctx, "Disk fuller")
    chat.refuse("archive_channel", ChatError(403, "api.context.permissions.app_error", "You do not have permission"))
    answer = ended_text(flow.end_incident(ctx, as_member(chat, alice, refused.channel_id), refused))
    assert "refused to archive ~disk-fuller (You do not have permission)" in answer and "stays open" in answer
    fine = started(ctx, "Disk fullest")
    answer = ended_text(flow.end_incident(ctx, as_member(chat, alice, fine.channel_id), fine))
    assert answer == "Incident **Disk fullest** ended; its channel is archived."


def test_a_restart_restores_the_channel_first_and_records_nothing_if_mattermost_refuses(db, chat, ctx):
    incident = started(ctx)
    member = as_member(chat, alice, incident.channel_id)
    ended = flow.end_incident(ctx, member, incident).incident
    chat.refuse("restore_channel", ChatError(500, "app.channel.restore.app_error", "down"))
    with pytest.raises(Invalid, match="could not restore"):
        flow.restart_incident(ctx, member, ended)
    assert not incidents.by_id(incident.id).is_active
    restarted = flow.restart_incident(ctx, member, ended)
    assert restarted.is_active and not chat.channels[incident.channel_id]["delete_at"]


def test_restarting_an_active_incident_is_refused(db, chat, ctx):
    incident = started(ctx)
    with pytest.raises(Conflict, match="is still active"):
        flow.restart_incident(ctx, as_member(chat, alice, incident.channel_id), incident)


def test_an_end_confirmation_from_before_a_restart_does_not_end_the_new_run(db, chat, ctx):
    incident = started(ctx)
    member = as_member(chat, alice, incident.channel_id)
    flow.restart_incident(ctx, member, flow.end_incident(ctx, member, incident).incident)
    with pytest.raises(Conflict, match="restarted since you asked"):
        flow.end_confirmed(ctx, member, incidents.by_id(incident.id), run=0)
    assert incidents.by_id(incident.id).is_active


# ---- the channel changes under us ------------------------------------------------------------------
def test_a_channel_archived_in_mattermost_ends_its_incident(db, chat, ctx):
    incident = started(ctx)
    chat.channels[incident.channel_id]["delete_at"] = 1
    flow.follow_channel(ctx, incident)
    ended = incidents.by_id(incident.id)
    assert not ended.is_active and ended.ended_by == chat.bot_user_id


def test_a_channel_made_private_makes_the_incident_private_for_good(db, chat, ctx):
    incident = started(ctx)
    chat.channels[incident.channel_id]["type"] = "P"
    flow.catch_up(ctx)
    assert incidents.by_id(incident.id).is_private


@pytest.mark.parametrize("trouble", [ChatError(500, "app.channel.get.app_error", "down"), OSError("connection reset")])
def test_catching_up_goes_on_past_an_incident_whose_channel_cannot_be_read(db, chat, ctx, trouble):
    first, second = started(ctx, "First"), started(ctx, "Second")
    chat.channels[second.channel_id]["delete_at"] = 1
    chat.refuse("channel", trouble)  # the first one's check
    flow.catch_up(ctx)
    assert incidents.by_id(first.id).is_active and not incidents.by_id(second.id).is_active


# ---- commander and checklist ---------------------------------------------------------------------------
def test_command_goes_only_to_someone_in_the_channel(db, chat, ctx):
    incident = started(ctx)
    member = as_member(chat, alice, incident.channel_id)
    with pytest.raises(Invalid, match="not in ~database-down"):
        flow.hand_over(ctx, member, incident, {"id": "bob", "username": "bob"})
    chat.members.add((incident.channel_id, "bob"))
    flow.hand_over(ctx, member, incident, {"id": "bob", "username": "bob"})
    assert incidents.by_id(incident.id).commander_id == "bob"
    assert "Commander: @bob" in str(chat.posts[incidents.by_id(incident.id).checklist_post_id]["props"])


def test_a_ticked_item_shows_on_the_message_when_the_command_answers(db, chat, ctx):
    incident = started(ctx)
    member = as_member(chat, alice, incident.channel_id)
    checklist_flow.add_item(ctx, member, incident, "Page the on-call", 1)
    checklist_flow.tick(ctx, member, incidents.by_id(incident.id), "1", True)
    assert "~~Page the on-call~~" in str(chat.posts[incidents.by_id(incident.id).checklist_post_id]["props"])


def test_a_click_is_answered_with_the_new_message_and_costs_no_patch(db, chat, ctx):
    incident = started(ctx)
    member = as_member(chat, alice, incident.channel_id)
    item = checklist_flow.add_item(ctx, member, incident, "Page the on-call", 1)
    chat.calls.clear()
    answer = checklist_flow.click_item(ctx, member, incident.id, item.id, True)
    assert "~~Page the on-call~~" in str(answer.message["props"]) and answer.refused is None
    assert chat.calls == []


def test_a_click_by_an_outsider_changes_nothing_and_says_why(db, chat, ctx):
    incident = started(ctx)
    item = checklist_flow.add_item(ctx, as_member(chat, alice, incident.channel_id), incident, "Page the on-call", 1)
    answer = checklist_flow.click_item(ctx, person("mallory"), incident.id, item.id, True)
    assert answer.refused and "~~" not in str(answer.message["props"])


# ---- backstage ---------------------------------------------------------------------------------
def test_the_backstage_asks_mattermost_once_for_the_readers_channels(db, chat, ctx):
    secret = started(ctx, "Secret", is_private=True)
    started(ctx, "Public")
    chat.calls.clear()
    bob = person("bob")
    assert [i.name for i in backstage_flow.browse(ctx, bob, TEAM, Filters()).incidents] == ["Public"]
    chat.members.add((secret.channel_id, "bob"))
    assert [i.name for i in backstage_flow.browse(ctx, bob, TEAM, Filters()).incidents] == ["Public", "Secret"]
    assert chat.calls == ["member_channel_ids", "member_channel_ids"]


def test_admins_and_outsiders_need_no_channel_list(db, chat, ctx):
    started(ctx, "Secret", is_private=True)
    chat.calls.clear()
    assert [i.name for i in backstage_flow.browse(ctx, person("carol", team_admin=True), TEAM, Filters()).incidents] == ["Secret"]
    assert backstage_flow.browse(ctx, person("eve", team="elsewhere"), TEAM, Filters()).incidents == []
    assert chat.calls == []



def test_the_incident_list_asks_mattermost_once_however_many_private_incidents_there_are(db, chat, ctx):
    secrets = [started(ctx, f"Secret {n}", is_private=True) for n in range(5)]
    started(ctx, "Public")
    chat.members.add((secrets[2].channel_id, "bob"))
    asked = []  # what the chat layer would ask Mattermost, one channel at a time
    bob = Actor("bob", "bob", TEAM, is_channel_member=lambda channel_id: asked.append(channel_id) or False)
    chat.calls.clear()
    listing = backstage_flow.active_incidents(ctx, bob, TEAM)
    assert [i.name for i in listing.page.incidents] == ["Public", "Secret 2"]
    assert chat.calls == ["member_channel_ids"] and asked == []
    assert set(listing.next_due) == {i.id for i in listing.page.incidents}, "each has its next update due"


# ---- updates ------------------------------------------------------------------------------------
def test_only_people_who_may_change_the_incident_post_updates(db, chat, ctx):
    incident = started(ctx, "Secret", is_private=True)
    with pytest.raises(NotFound):
        updates_flow.post_update(ctx, person("mallory"), incident, "I was never in there")
    assert not any("never in there" in m for m in chat.messages(incident.channel_id))


def test_an_update_sets_the_next_due_time_from_its_cadence(db, chat, ctx):
    incident = started(ctx)
    member = as_member(chat, alice, incident.channel_id)
    posted = updates_flow.post_update(ctx, member, incident, "Looking", cadence=30 * 60)
    assert updates.next_due(posted.incident) == posted.update.posted_at + 30 * 60 * 1000
    off = updates_flow.post_update(ctx, member, posted.incident, "Done", cadence=None)
    assert updates.next_due(off.incident) is None


def test_one_reminder_per_due_time_however_many_sweeps(db, chat, ctx):
    incident = started(ctx)
    member = as_member(chat, alice, incident.channel_id)
    updates_flow.post_update(ctx, member, incident, "Looking", cadence=60)
    ctx.time_scale = 0  # due at once
    updates_flow.post_update(ctx, member, incidents.by_id(incident.id), "Still looking")
    assert updates_flow.send_due_reminders(ctx) == 1
    assert updates_flow.send_due_reminders(ctx) == 0
    assert sum("is due since" in str(p["props"]) for p in chat.posts.values()) == 1


def test_a_new_incident_owes_its_first_update_within_its_severitys_cadence(db, chat, ctx):
    incident = flow.start_incident(ctx, alice, TEAM, "Checkout down", severity=1).incident
    assert updates.next_due(incident) == incident.created_at + 15 * 60 * 1000
    assert incidents.by_id(incident.id).cadence_seconds == 15 * 60
