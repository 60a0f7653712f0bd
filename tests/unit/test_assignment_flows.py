"""Owners, deadlines and roles against a chat port in memory: the DMs and their buttons, what the
checklist message shows, reminders once, a playbook's roles, and a person's to-do."""

from __future__ import annotations

import time

import pytest

from flows import assignments as flow
from flows import checklists as checklist_flow
from flows import incidents as incidents_flow
from flows.port import ChatError
from services import assignments, checklists, incidents, playbooks
from services.assignments import Deadline
from tests.unit.conftest import TEAM, person
from tests.unit.fake_chat import flow_context


@pytest.fixture
def ctx(chat):  # the flows' context, watching the services' change notices as the bot does
    context = flow_context(chat)
    unwatch = flow.watch(context)
    yield context
    unwatch()
    context.stop()


def member(chat, user_id):
    """The person as the chat layer sees them: in the channels the fake says."""
    return person(user_id, channels=[c for (c, u) in chat.members if u == user_id])


def start(ctx, chat, name="Database down", items=("Page the on-call", "Call the vendor"), **options):
    incident = incidents_flow.start_incident(ctx, person("alice"), TEAM, name, **options).incident
    for text in items if "playbook" not in options else ():
        checklists.add_item(member(chat, "alice"), incident, text)
    for who in ("bob", "carol"):
        chat.members.add((incident.channel_id, who))
    ctx.checklists.changed(incident.id, wait=True)
    return incidents.reload(incident)


def checklist(chat, incident) -> str:
    post = chat.posts[incidents.by_id(incident.id).checklist_post_id]
    return "\n".join(f"{a.get('title', '')}\n{a.get('text', '')}" for a in post["props"]["attachments"])


def dms(chat, user_id) -> list[dict]:
    return [p for p in chat.posts.values() if p["channel_id"] == f"dm-{user_id}"]


def text_of(post) -> str:
    return post["props"]["attachments"][0]["text"]


def buttons(post) -> list[str]:
    return [a["name"] for a in post["props"]["attachments"][0]["actions"]]


def eventually(condition, timeout: float = 5.0):
    """Wait for the DM worker (its own thread) to have drawn what is expected."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the DMs were not redrawn"
        time.sleep(0.01)


# ---- owners and their DMs -------------------------------------------------------------------------
def test_assigning_sends_one_dm_with_a_done_button_and_marks_the_checklist(db, chat, ctx):
    incident = start(ctx, chat)
    change = flow.assign(ctx, member(chat, "alice"), incident, "1", {"id": "bob", "username": "bob"})
    assert change.number == "1.1"
    [dm] = dms(chat, "bob")
    assert "@alice gave you **1.1 Page the on-call** in [Database down](http://mm/team-a/channels/database-down)" in text_of(dm)
    assert "No deadline." in text_of(dm) and buttons(dm) == ["☑ Done"]
    assert "1.1 Page the on-call → @bob" in checklist(chat, incident)
    assert "Assign…" in str(chat.posts[incidents.by_id(incident.id).checklist_post_id]["props"])


def test_done_in_the_dm_ticks_the_item_on_the_checklist_and_retires_the_button(db, chat, ctx):
    incident = start(ctx, chat)
    flow.assign(ctx, member(chat, "alice"), incident, "1", {"id": "bob", "username": "bob"})
    [dm] = dms(chat, "bob")
    flow.tick(ctx, member(chat, "bob"), incident, checklists.checklists_of(incident)[0][1][0].id)
    assert "~~Page the on-call~~ — @bob at" in checklist(chat, incident)
    answer = flow.dm_for_post(ctx, incident, dm["id"])  # what the click answers with
    assert answer is not None and answer["props"]["attachments"][0]["actions"] == []
    assert "ticked by @bob" in answer["props"]["attachments"][0]["text"]


def test_a_tick_on_the_checklist_message_retires_the_dm_too(db, chat, ctx):
    incident = start(ctx, chat)
    flow.assign(ctx, member(chat, "alice"), incident, "2", {"id": "bob", "username": "bob"})
    item = checklists.checklists_of(incident)[0][1][1]
    checklist_flow.click_item(ctx, member(chat, "carol"), incident.id, item.id, True)
    eventually(lambda: "ticked by @carol" in text_of(dms(chat, "bob")[0]))
    assert buttons(dms(chat, "bob")[0]) == []
    checklist_flow.tick(ctx, member(chat, "carol"), incident, "2", False)  # unticked: the button is back
    eventually(lambda: buttons(dms(chat, "bob")[0]) == ["☑ Done"])


def test_giving_an_item_to_someone_else_or_taking_it_back_updates_the_first_dm(db, chat, ctx):
    incident = start(ctx, chat)
    alice = member(chat, "alice")
    flow.assign(ctx, alice, incident, "1", {"id": "bob", "username": "bob"})
    flow.assign(ctx, alice, incident, "1", {"id": "carol", "username": "carol"})
    eventually(lambda: "No longer yours: @carol has it now." in text_of(dms(chat, "bob")[0]))
    [to_bob] = dms(chat, "bob")
    assert buttons(to_bob) == []
    [to_carol] = dms(chat, "carol")
    assert buttons(to_carol) == ["☑ Done"]
    flow.unassign(ctx, alice, incident, "1")
    eventually(lambda: "No longer yours: nobody has it now." in text_of(dms(chat, "carol")[0]))
    assert "→ @" not in checklist(chat, incident)


def test_a_removed_item_and_an_ended_incident_retire_the_buttons(db, chat, ctx):
    incident = start(ctx, chat)
    alice = member(chat, "alice")
    flow.assign(ctx, alice, incident, "1", {"id": "bob", "username": "bob"})
    flow.assign(ctx, alice, incident, "2", {"id": "carol", "username": "carol"})
    checklist_flow.remove_item(ctx, alice, incident, "1")
    eventually(lambda: "This item was removed from the checklist." in text_of(dms(chat, "bob")[0]))
    incidents_flow.end_incident(ctx, alice, incident)
    eventually(lambda: "The incident has ended." in text_of(dms(chat, "carol")[0]))
    assert buttons(dms(chat, "carol")[0]) == []


def test_an_owner_who_cannot_be_messaged_still_has_the_item(db, chat, ctx):
    incident = start(ctx, chat)
    chat.refuse("direct_message", ChatError(403, "api.context.permissions.app_error", "no"))
    flow.assign(ctx, member(chat, "alice"), incident, "1", {"id": "bob", "username": "bob"})
    assert dms(chat, "bob") == [] and "→ @bob" in checklist(chat, incident)


def test_an_owner_who_left_the_channel_keeps_the_item_marked(db, chat, ctx):
    incident = start(ctx, chat)
    flow.assign(ctx, member(chat, "alice"), incident, "1", {"id": "bob", "username": "bob"})
    chat.members.discard((incident.channel_id, "bob"))
    ctx.checklists.changed(incident.id, wait=True)
    assert "→ @bob _(left the channel)_" in checklist(chat, incident)


def test_only_channel_members_get_items_and_nothing_is_sent_otherwise(db, chat, ctx):
    incident = start(ctx, chat)
    with pytest.raises(Exception, match="@dave is not in ~database-down: invite them"):
        flow.assign(ctx, member(chat, "alice"), incident, "1", {"id": "dave", "username": "dave"})
    assert dms(chat, "dave") == [] and "→" not in checklist(chat, incident)


# ---- deadlines ---------------------------------------------------------------------------------------
def test_a_deadline_as_a_duration_follows_the_time_scale(db, chat, ctx):
    ctx.time_scale = 0.001
    incident = start(ctx, chat)
    before = ctx.now()
    change = flow.set_due(ctx, member(chat, "alice"), incident, "1", Deadline(after_seconds=3600))
    assert before + 3600 <= change.assignment.due_at <= ctx.now() + 3600  # an hour is 3.6 s here


def test_the_owner_is_reminded_once_when_due_and_the_checklist_marks_it_overdue(db, chat, ctx):
    incident = start(ctx, chat)
    alice = member(chat, "alice")
    flow.assign(ctx, alice, incident, "1", {"id": "bob", "username": "bob"})
    assignments.set_due(alice, incident, "1", ctx.now() - 1, now=ctx.now())  # due a moment ago
    assert flow.send_due_reminders(ctx) == 1
    assert flow.send_due_reminders(ctx) == 0
    reminder = dms(chat, "bob")[-1]
    assert "⏰ **1.1 Page the on-call**" in text_of(reminder) and buttons(reminder) == ["☑ Done"]
    ctx.checklists.changed(incident.id, wait=True)
    assert "⚠️ **overdue** since" in checklist(chat, incident) and "⚠️ 1 overdue" in checklist(chat, incident)


def test_an_item_nobody_has_reminds_the_commander(db, chat, ctx):
    incident = start(ctx, chat)
    assignments.set_due(member(chat, "alice"), incident, "2", ctx.now() - 1, now=ctx.now())
    assert flow.send_due_reminders(ctx) == 1
    [reminder] = dms(chat, "alice")
    assert "Nobody has it: give it to someone with `/incident assign 1.2 @user`" in text_of(reminder)


def test_a_dm_reads_the_deadline_in_the_owners_timezone(db, chat, ctx):
    chat.users["bob"] = {"id": "bob", "username": "bob",
                         "timezone": {"useAutomaticTimezone": "false", "manualTimezone": "Asia/Tokyo"}}
    incident = start(ctx, chat)
    flow.assign(ctx, member(chat, "alice"), incident, "1", {"id": "bob", "username": "bob"},
                Deadline(at=4_102_444_800_000))  # 2100-01-01 00:00 UTC
    assert "Due 2100-01-01 09:00 JST." in text_of(dms(chat, "bob")[0])
    assert "due 00:00 UTC" in checklist(chat, incident)


# ---- roles and playbooks -------------------------------------------------------------------------------
def test_a_playbooks_roles_and_deadlines_at_start_and_when_the_role_is_filled(db, chat, ctx):
    alice = person("alice")
    playbook = playbooks.create_playbook(alice, TEAM, "Outage", checklists_text=(
        "[commander] Declare the severity +15m\n[comms] Update the status page +30m\nPage the DBA"))
    incident = start(ctx, chat, playbook=playbook)
    [declare] = dms(chat, "alice")  # the commander's item is theirs at once
    assert "**1.1 Declare the severity**" in text_of(declare) and "Due " in text_of(declare)
    shown = checklist(chat, incident)
    assert "1.1 Declare the severity → @alice · due" in shown
    assert "1.2 Update the status page → _comms_ (nobody holds it yet) · due" in shown
    given = flow.give_role(ctx, member(chat, "alice"), incident, "comms", {"id": "bob", "username": "bob"})
    assert [number for _, number in given.items] == ["1.2"]
    assert "@alice made @bob the **comms** of this incident. Their items:\n- 1.2" in chat.messages(incident.channel_id)
    [update] = dms(chat, "bob")
    assert "**1.2 Update the status page**" in text_of(update)
    assert "1.2 Update the status page → @bob · due" in checklist(chat, incident)
    assert flow.roles(ctx, incident) == [("commander", "alice"), ("scribe", None), ("comms", "bob")]


def test_the_sweep_tells_owners_a_stopped_replica_did_not(db, chat, ctx):
    alice = person("alice")
    playbook = playbooks.create_playbook(alice, TEAM, "Outage", checklists_text="[commander] Declare the severity +15m")
    incident = incidents.start_incident(alice, TEAM, "Checkout down", "c9", playbook=playbook)  # recorded, nobody told
    assert flow.send_due_reminders(ctx) == 0
    [told] = dms(chat, "alice")
    assert "Declare the severity" in text_of(told)
    assert assignments.assignment_of(checklists.checklists_of(incident)[0][1][0].id).due_at is not None
    flow.send_due_reminders(ctx)
    assert len(dms(chat, "alice")) == 1


# ---- to-do ------------------------------------------------------------------------------------------------
def test_a_todo_shows_only_incidents_the_person_can_see(db, chat, ctx):
    public = start(ctx, chat, "Public one")
    private = start(ctx, chat, "Private one", is_private=True)
    alice = member(chat, "alice")
    flow.assign(ctx, alice, public, "1", {"id": "bob", "username": "bob"})
    flow.assign(ctx, alice, private, "1", {"id": "bob", "username": "bob"})
    assert len(flow.todo(ctx, "bob", lambda team: member(chat, "bob"))) == 2
    chat.members.discard((private.channel_id, "bob"))  # bob left the private incident: it is not his to see
    entries = flow.todo(ctx, "bob", lambda team: member(chat, "bob"))
    assert [e.incident.name for e in entries] == ["Public one"]
    text, attachments = flow.todo_message(ctx, "bob", entries, "todo")
    assert text == "#### Your open items (1)" and [a["actions"][0]["name"] for a in attachments] == ["☑ Done 1.1"]
    assert flow.todo_message(ctx, "carol", [], "todo")[0].startswith("You have no open items")
