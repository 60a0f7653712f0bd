"""Keeping everyone informed, end to end: severity, status updates, the broadcast channel's one
live announcement, and reminders that an update is due, across restarts and replicas.

One double and one bot serve the module. Its cadences are shortened with the documented setting
`UPDATES_TIME_SCALE` (0.004: a minute lasts 0.24 s, SEV3's hour 14.4 s), not with a clock hack.
"""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.harness import build_world, running_bot, serving_double, wait_until
from tests.e2e.steps import bot_posts, button, checklist_text, command, start

pytestmark = pytest.mark.e2e

TIME_SCALE = "0.004"
FAST = {"UPDATES_TIME_SCALE": TIME_SCALE, "UPDATES_SWEEP_SECONDS": "0.5"}


@pytest.fixture(scope="module")
def double():
    yield from serving_double()


@pytest.fixture(scope="module")
def world(double):
    world = build_world(double)
    world.broadcast = double.create_channel(world.team["id"], "incident-news", "Incident news", type="O")
    for name in ("admin", "alice", "bob"):
        double.add_channel_member(world.broadcast["id"], world.users[name]["id"])
    return world


@pytest.fixture(scope="module")
def bot(world, tmp_path_factory):
    yield from running_bot(world, tmp_path_factory.mktemp("updates"), extra_env=FAST)


@pytest.fixture(scope="module")
def people(world, bot):
    users = {name: world.person(name) for name in ("admin", "alice", "bob", "carol")}
    yield users
    for user in users.values():
        user.close()


@pytest.fixture(scope="module")
def broadcast(world, people):
    reply = command(people["admin"], world, "/incident settings broadcast ~incident-news")
    assert "announced in ~incident-news" in reply, reply
    return world.broadcast


def name() -> str:
    return f"Outage {uuid.uuid4().hex[:6]}"


def posts_with(world, channel_id: str, text: str) -> list[dict]:
    return [p for p in bot_posts(world, channel_id) if text in str(p.get("message")) + str(p.get("props"))]


def announcement(world, incident_name: str) -> dict:
    found = posts_with(world, world.broadcast["id"], incident_name)
    assert found, f"no announcement of {incident_name}"
    return world.double.get_post(found[0]["id"])


# ---- severity ----------------------------------------------------------------------------------
def test_severity_by_flag_by_command_and_shown_on_the_checklist(world, people, broadcast):
    alice = people["alice"]
    channel = start(alice, world, f"{name()} --severity 2")
    assert "SEV2" in checklist_text(world, channel["id"])
    assert command(alice, world, "/incident severity", channel["id"]).endswith("is SEV2 (1 is the most severe).")
    assert "is now SEV1" in command(alice, world, "/incident severity 1", channel["id"])
    assert posts_with(world, channel["id"], "changed the severity from SEV2 to **SEV1**")
    assert "SEV1" in checklist_text(world, channel["id"])
    assert "already SEV1" in command(alice, world, "/incident severity sev1", channel["id"])
    listed = [row for row in command(alice, world, "/incident list").splitlines() if channel["name"] in row]
    assert listed and "| SEV1 |" in listed[0] and listed[0].endswith("UTC |")  # and when the next update is due


def test_the_start_dialog_has_a_severity(world, people):
    alice = people["alice"]
    alice.run_command(world.town_square["id"], "/incident start")
    opened = alice.wait_event("open_dialog")
    incident_name = name()
    status, answer = alice.submit_dialog(opened, {"name": incident_name, "visibility": "playbook", "severity": "4"})
    assert status == 200 and not answer.get("errors"), answer
    [channel] = [c for c in world.double.state.channels.values() if c.get("display_name") == incident_name]
    assert "SEV4" in checklist_text(world, channel["id"])


@pytest.mark.parametrize("typed, answer", [
    ("--severity 0", "--severity is 1 (most severe), 2, 3 or 4."),
    ("--severity 5", "--severity is 1 (most severe), 2, 3 or 4."),
    ("--severity high", "--severity is 1 (most severe), 2, 3 or 4."),
    ("--severity", "--severity needs a level"),
])
def test_a_severity_that_is_not_one_to_four_is_refused_before_anything_exists(world, people, typed, answer):
    before = len(world.double.state.channels)
    reply = command(people["alice"], world, f"/incident start {name()} {typed}")
    assert answer in reply and len(world.double.state.channels) == before


@pytest.mark.parametrize("typed", ["0", "5", "high", "1 2"])
def test_changing_to_a_severity_that_does_not_exist_is_refused(world, people, typed):
    channel = start(people["alice"], world, name())
    reply = command(people["alice"], world, f"/incident severity {typed}", channel["id"])
    assert "Severity is 1" in reply or "Usage" in reply
    assert "SEV3" in checklist_text(world, channel["id"])


# ---- updates and the broadcast channel --------------------------------------------------------------
def test_an_update_reaches_the_channel_and_the_broadcast_and_the_announcement_is_edited_in_place(world, people, broadcast):
    alice = people["alice"]
    incident_name = name()
    channel = start(alice, world, incident_name)
    first = announcement(world, incident_name)
    assert "Ongoing" in str(first["props"]) and "@alice" in str(first["props"])

    reply = command(alice, world, "/incident update Rolled back the deploy; errors falling. @all stay calm --next 2h", channel["id"])
    assert "Update posted" in reply and "broadcast channel too" in reply, reply
    [posted] = posts_with(world, channel["id"], "Rolled back the deploy")
    assert "@all" not in str(posted["props"])  # made inert: nobody is pinged by an update
    [copy] = [p for p in posts_with(world, broadcast["id"], "Rolled back the deploy") if p["id"] != first["id"]]
    assert f"/pl/{posted['id']}" in str(copy["props"])  # links back to the update
    wait_until(lambda: "Rolled back the deploy" in str(world.double.get_post(first["id"])["props"]))
    assert len(posts_with(world, broadcast["id"], incident_name)) == 2  # the announcement and one copy

    command(alice, world, "/incident severity 1", channel["id"])
    wait_until(lambda: "SEV1" in str(world.double.get_post(first["id"])["props"]))
    command(alice, world, "/incident end", channel["id"])
    wait_until(lambda: "Ended" in str(world.double.get_post(first["id"])["props"]))
    assert len(posts_with(world, broadcast["id"], incident_name)) == 2  # still the same post, edited


def test_the_update_dialog_starts_from_the_last_update_and_posts(world, people, broadcast):
    alice = people["alice"]
    channel = start(alice, world, name())
    command(alice, world, "/incident update First look: the database is slow.", channel["id"])
    alice.clear_events()
    alice.run_command(channel["id"], "/incident update")
    opened = alice.wait_event("open_dialog")
    elements = {e["name"]: e for e in opened["data"]["dialog"]["dialog"]["elements"]}
    assert elements["message"]["default"] == "First look: the database is slow."
    assert elements["severity"]["default"] == "3" and elements["next"]["default"] == "1h"
    status, answer = alice.submit_dialog(opened, {"message": "Found it: a missing index.", "severity": "2", "next": "30m"},
                                         channel_id=channel["id"])
    assert status == 200 and answer == {}, answer
    assert posts_with(world, channel["id"], "Found it: a missing index.")
    assert "SEV2" in checklist_text(world, channel["id"])


@pytest.mark.parametrize("typed, answer", [
    ("--next 2h", "Write what the update says."),
    ("Still looking --next 0", "as minutes, hours or days"),
    ("Still looking --next -5m", "as minutes, hours or days"),
    ("Still looking --next 10y", "as minutes, hours or days"),
    ("Still looking --next 1m30", "as minutes, hours or days"),
    ("Still looking --next 8d", "from 1m to 7d"),
    ("Still looking --next", "--next needs a time"),
    ("x" * 16001, "at most 16000 characters"),
])
def test_an_update_that_cannot_be_posted_gets_a_clear_answer_and_nothing_is_posted(world, people, typed, answer):
    channel = start(people["alice"], world, name())
    before = len(bot_posts(world, channel["id"]))
    reply = command(people["alice"], world, f"/incident update {typed}", channel["id"])
    assert answer in reply, reply
    assert len(bot_posts(world, channel["id"])) == before


def test_choosing_the_broadcast_channel_is_for_admins_and_must_be_a_channel_they_see(world, people, broadcast):
    assert "Only team and system admins" in command(people["alice"], world, "/incident settings broadcast ~incident-news")
    assert "no channel ~nowhere" in command(people["admin"], world, "/incident settings broadcast ~nowhere")
    secret = world.double.create_channel(world.team["id"], "secret-room", "Secret room", type="P")
    assert "no channel ~secret-room" in command(people["carol"], world, "/incident settings broadcast ~secret-room")
    world.double.add_channel_member(secret["id"], world.users["carol"]["id"])
    assert "invite me there first" in command(people["carol"], world, "/incident settings broadcast ~secret-room")
    # the team's channel is still the one set before
    assert "announced in ~incident-news" in command(people["admin"], world, "/incident settings broadcast ~incident-news")


def test_a_private_incident_is_not_announced_without_its_playbook_saying_so(world, people, broadcast):
    incident_name = name()
    start(people["alice"], world, f"{incident_name} --private")
    assert not posts_with(world, broadcast["id"], incident_name)


# ---- reminders ------------------------------------------------------------------------------------
def test_a_reminder_comes_when_an_update_is_due_and_the_update_closes_it(world, people):
    alice = people["alice"]
    channel = start(alice, world, name())
    command(alice, world, "/incident update Investigating. --next 1m", channel["id"])  # 0.24 s here
    wait_until(lambda: posts_with(world, channel["id"], "is due since"), 10)
    [reminder] = posts_with(world, channel["id"], "is due since")
    assert reminder["message"] == "@alice"  # the commander is mentioned
    command(alice, world, "/incident update Fixed. --next off", channel["id"])
    wait_until(lambda: "posted an update" in str(world.double.get_post(reminder["id"])["props"]))
    assert "actions" not in str(world.double.get_post(reminder["id"])["props"])


def test_snooze_puts_the_reminder_off_and_post_update_opens_the_dialog(world, people, bot):
    alice = people["alice"]
    channel = start(alice, world, name())
    command(alice, world, "/incident update Looking. --next 1m", channel["id"])
    wait_until(lambda: posts_with(world, channel["id"], "is due since"), 10)
    [reminder] = posts_with(world, channel["id"], "is due since")
    snooze = button(world.double.get_post(reminder["id"], include_integration=True), "Snooze")["integration"]
    alice.clear_events()
    status, _ = alice.click(reminder["id"], button(reminder, "Snooze")["id"])
    assert status == 200
    alice.wait_event("ephemeral_message", lambda ev: "Snoozed: the next reminder comes at" in ev["data"]["post"]["message"])
    assert "snoozed it until" in str(world.double.get_post(reminder["id"])["props"])
    # a second Snooze on that reminder, as Mattermost would deliver one clicked just before it changed
    again = bot.post_raw("/hooks/action", json={"user_id": alice.me["id"], "user_name": "alice", "channel_id": channel["id"],
                                                "team_id": world.team["id"], "post_id": reminder["id"], "type": "button",
                                                "trigger_id": "", "context": snooze["context"]})
    assert again.status_code == 200 and again.json()["ephemeral_text"] == "This reminder was answered already."
    # 15 minutes snoozed are 3.6 s here: the next reminder comes, and its Post update opens the dialog
    wait_until(lambda: [p for p in posts_with(world, channel["id"], "is due since") if p["id"] != reminder["id"]], 15)
    [second] = [p for p in posts_with(world, channel["id"], "is due since") if p["id"] != reminder["id"]]
    alice.clear_events()
    status, answer = alice.click(second["id"], button(second, "Post update")["id"])
    assert status == 200, answer
    assert alice.wait_event("open_dialog")["data"]["dialog"]["dialog"]["callback_id"] == "update"


def test_an_ended_incident_has_no_reminders_and_a_restart_brings_them_back(world, people):
    alice = people["alice"]
    incident_name = name()
    channel = start(alice, world, f"{incident_name} --severity 1")  # SEV1: 15m, here 3.6 s
    command(alice, world, "/incident end", channel["id"])
    assert "No update due" in command(alice, world, f"/incident info {incident_name}")
    command(alice, world, f"/incident restart {incident_name}")
    assert "Next update due" in command(alice, world, f"/incident info {incident_name}")
    wait_until(lambda: posts_with(world, channel["id"], "is due since"), 15)


# ---- a playbook's update settings ------------------------------------------------------------------
def create_playbook(world, person, title: str) -> None:
    person.clear_events()
    person.run_command(world.town_square["id"], "/incident playbook create")
    opened = person.wait_event("open_dialog")
    status, answer = person.submit_dialog(opened, {"title": title, "checklists": "Page the on-call", "visibility": "public",
                                                   "public_incidents": "true"}, channel_id=world.town_square["id"])
    assert status == 200 and answer == {}, answer


def test_a_playbook_sets_severity_cadence_template_and_its_own_broadcast_channel(world, people, broadcast):
    alice = people["alice"]
    title = f"Database {uuid.uuid4().hex[:6]}"
    create_playbook(world, alice, title)
    news = world.double.create_channel(world.team["id"], f"db-news-{uuid.uuid4().hex[:4]}", "DB news", type="O")
    world.double.add_channel_member(news["id"], world.users["alice"]["id"])
    for setting in ("severity 2", "cadence 2 2h", f"broadcast ~{news['name']}",
                    "template Impact: {severity} for {duration}; progress {progress}. Next:"):
        reply = command(alice, world, f'/incident playbook updates "{title}" {setting}')
        assert f"Updates of playbook {title}" in reply, reply
    assert "Default severity: SEV2" in reply and "SEV2 2h" in reply and f"~{news['name']}" in reply

    incident_name = name()
    channel = start(alice, world, f'{incident_name} --playbook "{title}"')
    assert "SEV2" in checklist_text(world, channel["id"])
    assert posts_with(world, news["id"], incident_name) and not posts_with(world, broadcast["id"], incident_name)
    alice.clear_events()
    alice.run_command(channel["id"], "/incident update")
    elements = {e["name"]: e for e in alice.wait_event("open_dialog")["data"]["dialog"]["dialog"]["elements"]}
    assert elements["message"]["default"].startswith("Impact: SEV2 for 0m; progress 0/1. Next:")
    assert elements["next"]["default"] == "2h"


@pytest.mark.parametrize("setting, answer", [
    ("severity 5", "Severity is 1"),
    ("cadence 2 10y", "as minutes, hours or days"),
    ("cadence 2 off", "cannot be off"),
    ("template {owner} is on it", "unknown placeholder {owner}"),
    ("broadcast ~nowhere", "no channel ~nowhere"),
    ("colour red", "update settings are"),
])
def test_a_playbook_setting_that_cannot_be_used_is_refused(world, people, setting, answer):
    title = f"Bad {uuid.uuid4().hex[:6]}"
    create_playbook(world, people["alice"], title)
    assert answer in command(people["alice"], world, f'/incident playbook updates "{title}" {setting}')
    assert "Default severity: SEV3" in command(people["alice"], world, f'/incident playbook updates "{title}"')


def test_only_editors_change_a_playbooks_update_settings(world, people):
    title = f"Guarded {uuid.uuid4().hex[:6]}"
    create_playbook(world, people["alice"], title)
    assert "Only editors" in command(people["bob"], world, f'/incident playbook updates "{title}" severity 1')


# ---- when the broadcast channel goes away ----------------------------------------------------------------
def test_an_archived_broadcast_channel_is_reported_once_and_the_incident_goes_on(world, people, broadcast):
    alice, admin = people["alice"], people["admin"]
    doomed = world.double.create_channel(world.team["id"], f"doomed-{uuid.uuid4().hex[:4]}", "Doomed", type="O")
    world.double.add_channel_member(doomed["id"], world.users["admin"]["id"])
    assert "announced in" in command(admin, world, f"/incident settings broadcast ~{doomed['name']}")
    try:
        incident_name = name()
        channel = start(alice, world, incident_name)
        assert posts_with(world, doomed["id"], incident_name)
        assert admin.driver.channels.delete_channel(doomed["id"])  # archived in Mattermost
        for text in ("First news", "Second news"):
            assert "Update posted" in command(alice, world, f"/incident update {text}", channel["id"])
        wait_until(lambda: posts_with(world, channel["id"], "I cannot post in the broadcast channel"))
        assert len(posts_with(world, channel["id"], "I cannot post in the broadcast channel")) == 1  # told once
        assert "Broadcast channel: I cannot post in the broadcast channel" in command(alice, world, f"/incident info {incident_name}")
    finally:
        command(admin, world, "/incident settings broadcast ~incident-news")
