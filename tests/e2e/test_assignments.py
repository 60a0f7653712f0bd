"""Who does what by when, end to end: items given by command and by the *Assign…* dialog (with
Mattermost's user picker), the owner's DM and ticking from it, deadlines and their reminder, the
overdue mark, a person's to-do across incidents, roles from a playbook, and the bad inputs.

One double and one bot serve the module (each test names its incidents apart). Deadlines are
shortened with the documented setting `UPDATES_TIME_SCALE` (0.004: a minute lasts 0.24 s).
"""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.harness import one_bot_per_module, wait_until
from tests.e2e.steps import button, checklist_post, checklist_text, command, start, wait_for_checklist

pytestmark = pytest.mark.e2e

FAST = {"UPDATES_TIME_SCALE": "0.004", "UPDATES_SWEEP_SECONDS": "0.5"}


double, world, bot = one_bot_per_module("assignments", extra_env=FAST)


@pytest.fixture(scope="module")
def people(world, bot):
    users = {name: world.person(name) for name in ("admin", "alice", "bob", "carol")}
    yield users
    for user in users.values():
        user.close()


def name() -> str:
    return f"Outage {uuid.uuid4().hex[:6]}"


def incident_with_items(world, people, *items: str, args: str = "") -> dict:
    """An incident of alice's with these items and bob and carol in its channel."""
    incident_name = name()
    channel = start(people["alice"], world, f"{incident_name} {args}".strip())
    for text in items:
        assert "Added item" in command(people["alice"], world, f"/incident checkadd {text}", channel["id"])
    for who in ("bob", "carol"):
        world.double.add_channel_member(channel["id"], world.users[who]["id"])
    channel["incident_name"] = incident_name
    return channel


def dms_to(world, username: str, about: str) -> list[dict]:
    """The bot's DMs to `username` that mention `about`, oldest first, as stored now."""
    user_id = world.users[username]["id"]
    found = []
    for channel in list(world.double.state.channels.values()):
        if channel.get("type") != "D" or user_id not in world.double.channel_members(channel["id"]):
            continue
        for post in world.double.posts_in(channel["id"]):
            if post["user_id"] == world.bot_user["id"] and about in str(post.get("props")) + post.get("message", ""):
                found.append(world.double.get_post(post["id"]))
    return sorted(found, key=lambda p: p["create_at"])


def one_dm(world, username: str, about: str) -> dict:
    wait_until(lambda: dms_to(world, username, about), 10, lambda: f"no DM to @{username} about {about!r}")
    return dms_to(world, username, about)[0]


def actions(post: dict) -> list[str]:
    return [a["name"] for att in post["props"]["attachments"] for a in att.get("actions") or []]


# ---- by command, and the DM ---------------------------------------------------------------------
def test_assign_by_command_the_dm_and_done_from_the_dm(world, people):
    alice, bob = people["alice"], people["bob"]
    channel = incident_with_items(world, people, "Page the on-call DBA", "Call the vendor")
    reply = command(alice, world, "/incident assign 1 @bob", channel["id"])
    assert reply == "Item 1.1 (Page the on-call DBA) is @bob's now; I sent them a DM.", reply
    wait_for_checklist(world, channel["id"], "1.1 Page the on-call DBA → @bob")
    dm = one_dm(world, "bob", "Page the on-call DBA")
    text = dm["props"]["attachments"][0]["text"]
    assert "@alice gave you **1.1 Page the on-call DBA**" in text and channel["incident_name"] in text
    assert f"/channels/{channel['name']})" in text  # a link to the incident
    assert actions(dm) == ["☑ Done"]

    status, _ = bob.click(dm["id"], button(dm, "Done")["id"])
    assert status == 200
    wait_for_checklist(world, channel["id"], "~~Page the on-call DBA~~ — @bob at")
    wait_until(lambda: actions(world.double.get_post(dm["id"])) == [])
    assert "ticked by @bob" in str(world.double.get_post(dm["id"])["props"])


def test_unassigning_and_reassigning_retire_the_first_dms_button(world, people):
    alice = people["alice"]
    channel = incident_with_items(world, people, "Restart the workers")
    command(alice, world, "/incident assign 1 @bob", channel["id"])
    to_bob = one_dm(world, "bob", "Restart the workers")
    assert "(it was @bob's)" in command(alice, world, "/incident assign 1.1 @carol", channel["id"])
    wait_until(lambda: "No longer yours: @carol has it now." in str(world.double.get_post(to_bob["id"])["props"]))
    assert actions(world.double.get_post(to_bob["id"])) == []
    to_carol = one_dm(world, "carol", "Restart the workers")
    assert "is nobody's now (it was @carol's)" in command(alice, world, "/incident unassign 1", channel["id"])
    wait_until(lambda: actions(world.double.get_post(to_carol["id"])) == [])
    assert "→ @" not in checklist_text(world, channel["id"])


def test_a_tick_on_the_checklist_message_retires_the_dm_too(world, people):
    alice, carol = people["alice"], people["carol"]
    channel = incident_with_items(world, people, "Flush the cache")
    command(alice, world, "/incident assign 1 @bob", channel["id"])
    dm = one_dm(world, "bob", "Flush the cache")
    post = checklist_post(world, channel["id"])
    status, _ = carol.click(post["id"], button(world.double.get_post(post["id"]), "Flush the cache")["id"])
    assert status == 200
    wait_until(lambda: "ticked by @carol" in str(world.double.get_post(dm["id"])["props"]))
    assert actions(world.double.get_post(dm["id"])) == []


# ---- by the dialog ---------------------------------------------------------------------------------
def test_assign_with_the_dialog_and_mattermosts_user_picker(world, people):
    alice = people["alice"]
    channel = incident_with_items(world, people, "Rotate the keys", "Tell support")
    post = world.double.get_post(checklist_post(world, channel["id"])["id"])
    alice.clear_events()
    status, _ = alice.click(post["id"], button(post, "Assign…")["id"])
    assert status == 200
    opened = alice.wait_event("open_dialog")
    elements = {e["name"]: e for e in opened["data"]["dialog"]["dialog"]["elements"]}
    assert elements["person"]["data_source"] == "users" and elements["person"]["options"] is None
    item = next(o["value"] for o in elements["item"]["options"] if "Tell support" in o["text"])

    # a person not in the channel, then a deadline that is not one: the dialog says so where it matters
    status, answer = alice.submit_dialog(opened, {"item": item, "person": alice.pick_user("admin"), "due": ""}, channel_id=channel["id"])
    assert "admin is not in ~" in answer["errors"]["person"] and "invite them there first" in answer["errors"]["person"]
    status, answer = alice.submit_dialog(opened, {"item": item, "person": alice.pick_user("bob"), "due": "tomorrow"},
                                         channel_id=channel["id"])
    assert "write 30m, 2h or 1d from now" in answer["errors"]["due"]
    assert "→" not in checklist_text(world, channel["id"])

    status, answer = alice.submit_dialog(opened, {"item": item, "person": alice.pick_user("bob"), "due": "1d"},
                                         channel_id=channel["id"])
    assert status == 200 and answer == {}, answer
    wait_for_checklist(world, channel["id"], "1.2 Tell support → @bob · due ")
    dm = one_dm(world, "bob", "Tell support")
    assert "Due " in dm["props"]["attachments"][0]["text"]


# ---- deadlines ----------------------------------------------------------------------------------------
def test_a_short_deadline_reminds_the_owner_once_and_the_checklist_marks_it_overdue(world, people):
    alice = people["alice"]
    channel = incident_with_items(world, people, "Check the replicas", "Write it down")
    command(alice, world, "/incident assign 1 @bob", channel["id"])
    reply = command(alice, world, "/incident due 1 1m", channel["id"])  # 0.24 s here
    assert "is due " in reply and "@bob will be reminded by DM then" in reply, reply
    wait_until(lambda: any("⏰" in str(p["props"]) for p in dms_to(world, "bob", "Check the replicas")), 10)
    wait_for_checklist(world, channel["id"], "⚠️ **overdue** since")
    assert "⚠️ 1 overdue" in checklist_text(world, channel["id"])
    # nobody has item 2: its deadline reminds the commander
    command(alice, world, "/incident due 2 1m", channel["id"])
    wait_until(lambda: any("Nobody has it" in str(p["props"]) for p in dms_to(world, "alice", "Write it down")), 10)
    reminders = [p for p in dms_to(world, "bob", "Check the replicas") if "⏰" in str(p["props"])]
    assert len(reminders) == 1  # several sweeps later, still one
    assert "has no deadline now" in command(alice, world, "/incident due 1 off", channel["id"])


# ---- to-do ----------------------------------------------------------------------------------------------
def test_todo_across_incidents_leaves_out_a_private_one_the_person_is_not_in(world, people):
    alice, bob = people["alice"], people["bob"]
    public = incident_with_items(world, people, "Drain the queue")
    private = incident_with_items(world, people, "Audit the logins", args="--private")
    command(alice, world, "/incident assign 1 @bob", public["id"])
    command(alice, world, "/incident assign 1 @bob", private["id"])
    command(alice, world, "/incident due 1 2026-12-31 23:00", private["id"])
    listed = bob.run_command(world.town_square["id"], "/incident todo")
    assert public["incident_name"] in str(listed) and private["incident_name"] in str(listed)

    bob.driver.channels.remove_channel_member(private["id"], bob.id)  # he leaves the private incident
    wait_for_checklist(world, private["id"], "→ @bob _(left the channel)_")  # he keeps the item, marked
    listed = bob.run_command(world.town_square["id"], "/incident todo")
    assert listed["text"].startswith("#### Your open items")
    assert public["incident_name"] in str(listed["attachments"]) and private["incident_name"] not in str(listed)

    # the same in a DM to the bot, and Done there ticks the item
    dm = bob.driver.channels.create_direct_message_channel([bob.id, world.bot_user["id"]])
    bob.clear_events()
    bob.post(dm["id"], "todo")
    answer = bob.wait_event("posted", lambda ev: ev["data"]["post"]["user_id"] == world.bot_user["id"]
                            and ev["data"]["post"]["channel_id"] == dm["id"])["data"]["post"]
    assert public["incident_name"] in str(answer["props"]) and private["incident_name"] not in str(answer["props"])
    done = next(a for att in answer["props"]["attachments"] for a in att["actions"] if public["incident_name"] in att["text"])
    status, _ = bob.click(answer["id"], done["id"])
    assert status == 200
    wait_for_checklist(world, public["id"], "~~Drain the queue~~ — @bob at")
    assert public["incident_name"] not in str(world.double.get_post(answer["id"])["props"])


def test_todo_with_nothing_to_do(world, people):
    assert command(people["admin"], world, "/incident todo").startswith("You have no open items")


# ---- roles -------------------------------------------------------------------------------------------------
def test_roles_from_a_playbook_give_their_items_to_whoever_holds_them(world, people):
    alice = people["alice"]
    title = f"Outage book {uuid.uuid4().hex[:6]}"
    alice.clear_events()
    alice.run_command(world.town_square["id"], "/incident playbook create")
    opened = alice.wait_event("open_dialog")
    status, answer = alice.submit_dialog(opened, {
        "title": title, "visibility": "public", "public_incidents": "true",
        "checklists": "[commander] Declare the severity +15m\n[comms] Update the status page +30m\nPage the DBA"},
        channel_id=world.town_square["id"])
    assert status == 200 and answer == {}, answer
    assert r"\[comms\] Update the status page +30m" in command(alice, world, f'/incident playbook show "{title}"')  # as written, escaped

    incident_name = name()
    channel = start(alice, world, f'{incident_name} --playbook "{title}"')
    wait_for_checklist(world, channel["id"], "1.1 Declare the severity → @alice · due ")
    assert "1.2 Update the status page → _comms_ (nobody holds it yet) · due " in checklist_text(world, channel["id"])
    one_dm(world, "alice", "Declare the severity")  # the commander's item is theirs at start

    roles = command(alice, world, "/incident roles", channel["id"])
    assert "| commander | @alice |" in roles and "| comms | _nobody yet_ |" in roles
    world.double.add_channel_member(channel["id"], world.users["bob"]["id"])
    reply = command(alice, world, "/incident role comms @bob", channel["id"])
    assert reply == f"@bob is the comms of **{incident_name}** now and has item 1.2.", reply
    wait_for_checklist(world, channel["id"], "1.2 Update the status page → @bob · due ")
    assert any("made @bob the **comms**" in p["message"] for p in world.double.posts_in(channel["id"]))
    assert "**1.2 Update the status page**" in one_dm(world, "bob", "Update the status page")["props"]["attachments"][0]["text"]
    assert "| comms | @bob |" in command(alice, world, "/incident roles", channel["id"])
    info = command(alice, world, "/incident info", channel["id"])  # the incident at a glance says the same
    assert "Roles: comms @bob" in info
    assert "1.1 ☐ Declare the severity → @alice · due " in info and "1.2 ☐ Update the status page → @bob · due " in info
    assert "@bob is now the commander." == command(alice, world, "/incident role commander @bob", channel["id"])


# ---- bad input -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("typed, answer", [
    ("assign 9 @bob", "Item 9 does not exist: checklist 1 has 1 item."),
    ("assign x @bob", "'x' is not an item number"),
    ("assign 1 @nobody", "There is no user called @nobody"),
    ("assign 1 @admin", "@admin is not in ~"),
    ("assign 1", "Usage: `/incident assign <item> @user`"),
    ("unassign 1", "Nobody has item 1.1."),
    ("due 1 2020-01-01 09:00", "is in the past"),
    ("due 1 25:00", "25:00 is not a time of day: hours go from 00 to 23."),
    ("due 1 tomorrow", "write 30m, 2h or 1d from now, 14:00 today, or 2026-12-03 09:00 (in your Mattermost timezone); or off"),
    ("due 1 off", "Item 1.1 has no deadline."),
    ("role on call @bob", "'on call' is not a role name: a role is one word"),
    ("role **comms** @bob", "is not a role name"),
    ("role pilot @bob", "has no role 'pilot'; its roles are commander, scribe, comms"),
    ("role comms @admin", "@admin is not in ~"),
    ("todo now", "It takes no arguments."),
])
def test_bad_input_gets_a_clear_answer_and_changes_nothing(world, people, typed, answer):
    channel = incident_with_items(world, people, "Only item")
    before = checklist_text(world, channel["id"])
    reply = command(people["alice"], world, f"/incident {typed}", channel["id"]).replace("\u2060", "")  # mentions made inert
    assert answer in reply, reply
    assert checklist_text(world, channel["id"]) == before
    assert "Sorry" not in reply

