"""The record of an incident, end to end: posts pinned to the timeline by reaction and by command,
follow-ups that outlive the incident, the timeline of a scripted incident, the retrospective draft.

One double and one bot serve the module; each test names its incident apart.
"""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.e2e.harness import build_world, running_bot, serving_double, wait_until
from tests.e2e.steps import bot_posts, command, start

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def double():
    yield from serving_double()


@pytest.fixture(scope="module")
def world(double):
    world = build_world(double)
    other = double.create_team("elsewhere", "Elsewhere")
    world.other_square = double.create_channel(other["id"], "town-square", "Town Square", type="O")
    double.add_team_member(other["id"], world.users["alice"]["id"])
    double.add_channel_member(world.other_square["id"], world.users["alice"]["id"])
    return world


@pytest.fixture(scope="module")
def bot(world, tmp_path_factory):
    yield from running_bot(world, tmp_path_factory.mktemp("record"))


@pytest.fixture(scope="module")
def people(world, bot):
    users = {name: world.person(name) for name in ("admin", "alice", "bob", "carol")}
    yield users
    for user in users.values():
        user.close()


def name() -> str:
    return f"Outage {uuid.uuid4().hex[:6]}"


def told(person, text: str) -> dict:
    return person.wait_event("ephemeral_message", lambda ev: text in ev["data"]["post"]["message"])


def timeline_rows(text: str) -> list[str]:
    """The 'What happened' column of the timeline table."""
    return [row.split(" | ")[-1].rstrip(" |") for row in text.splitlines()[3:] if row.startswith("| ")]


def download(person, file_id: str) -> str:
    response = requests.get(f"{person.url}/api/v4/files/{file_id}", headers=person.driver.client.auth_header(), timeout=10)
    assert response.status_code == 200, response.text
    return response.content.decode("utf-8")


def sections(markdown: str) -> dict[str, str]:
    return {block.split("\n", 1)[0]: block.split("\n", 1)[1] if "\n" in block else "" for block in markdown.split("\n## ")[1:]}


# ---- pinning ------------------------------------------------------------------------------------------
def test_a_post_is_pinned_by_reaction_and_taken_off_by_removing_it(world, people):
    alice = people["alice"]
    channel = start(alice, world, name())
    post = alice.post(channel["id"], "p99 latency is 4 s since 10:02")
    alice.clear_events()
    alice.react(post["id"], "pushpin")
    told(alice, "Pinned to the timeline of")
    assert "p99 latency is 4 s since 10:02" in command(alice, world, "/incident timeline", channel["id"])
    alice.clear_events()
    alice.unreact(post["id"], "pushpin")
    told(alice, "Taken off the timeline of")
    assert timeline_rows(command(alice, world, "/incident timeline", channel["id"]))[-1] == "@alice unpinned a post"


def test_a_post_is_pinned_by_its_link_and_shows_as_it_reads_now(world, people):
    alice = people["alice"]
    channel = start(alice, world, name())
    post = alice.post(channel["id"], "the first error")
    link = f"{world.double.url}/ops/pl/{post['id']}"
    assert "is on the timeline" in command(alice, world, f"/incident timeline add {link} where it began", channel["id"])
    alice.driver.posts.patch_post(post["id"], options={"message": "the first error, at 10:02"})
    assert "the first error, at 10:02" in command(alice, world, "/incident timeline", channel["id"])
    alice.driver.posts.delete_post(post["id"])
    assert "(deleted)" in command(alice, world, "/incident timeline", channel["id"])


def test_pins_that_cannot_be_made_get_a_clear_answer(world, people):
    alice = people["alice"]
    channel = start(alice, world, name())
    outside = alice.post(world.town_square["id"], "a post outside any incident")
    other_team = alice.post(world.other_square["id"], "another team's post")
    gone = alice.post(channel["id"], "soon gone")
    alice.driver.posts.delete_post(gone["id"])
    for reference, answer in ((outside["id"], "Only posts of ~"), (other_team["id"], "Only posts of ~"),
                              (gone["id"], "cannot find that post"), ("not-a-link", "post's link")):
        assert answer in command(alice, world, f"/incident timeline add {reference}", channel["id"]), reference
    alice.clear_events()
    alice.react(outside["id"], "pushpin")
    told(alice, "Only posts in an incident channel go on a timeline")


# ---- the timeline of a scripted incident ------------------------------------------------------------
def test_the_timeline_tells_the_incident_in_order(world, people):
    alice, bob = people["alice"], people["bob"]
    incident = name()
    channel = start(alice, world, f"{incident} --severity 2")
    alice.driver.channels.add_user(channel["id"], options={"user_id": world.users["bob"]["id"]})  # /invite @bob
    wait_until(lambda: "@bob joined the channel" in command(alice, world, "/incident timeline", channel["id"]))
    command(alice, world, "/incident checkadd Page the database team", channel["id"])
    command(alice, world, "/incident check 1", channel["id"])
    command(alice, world, "/incident severity 1", channel["id"])
    command(alice, world, "/incident update Failing over the primary. --next off", channel["id"])
    command(alice, world, "/incident commander @bob", channel["id"])
    command(bob, world, "/incident followup Alert on replication lag @alice", channel["id"])
    command(bob, world, "/incident end", channel["id"])
    command(alice, world, f"/incident restart {incident}")
    wait_until(lambda: "restarted" in command(alice, world, f"/incident timeline {incident}"))
    assert timeline_rows(command(alice, world, f"/incident timeline {incident}")) == [
        "@alice started the incident (SEV2)",
        "@bob joined the channel",
        "@alice added item “Page the database team”",
        "@alice changed the severity from SEV2 to SEV1",
        "@alice posted a status update (SEV1)",
        "@alice handed command to @bob",
        "@bob recorded follow-up 1 for @alice",
        "@bob ended the incident",
        "@alice restarted the incident",
    ]
    everything = timeline_rows(command(alice, world, f"/incident timeline {incident} --all"))
    assert "@alice ticked item “Page the database team”" in everything


# ---- follow-ups -----------------------------------------------------------------------------------------
def test_follow_ups_outlive_the_incident_and_their_owner_is_told(world, people):
    alice, bob = people["alice"], people["bob"]
    incident = name()
    channel = start(alice, world, incident)
    bob.clear_events()
    assert "Follow-up 1 for @bob recorded" in command(alice, world, "/incident followup Add a disk alert @bob", channel["id"])
    bob.wait_event("posted", lambda ev: "gave you follow-up 1" in ev["data"]["post"]["message"])
    command(alice, world, "/incident followup Write the runbook", channel["id"])
    command(alice, world, "/incident end", channel["id"])
    listed = command(alice, world, f"/incident followups {incident}")
    assert "1. Add a disk alert → @bob" in listed and "2. Write the runbook" in listed
    assert "Open follow-ups: 2" in command(alice, world, f"/incident info {incident}")
    command(alice, world, f"/incident restart {incident}")
    assert "Follow-up 2 is done" in command(alice, world, "/incident followup done 2", channel["id"])
    assert "Open follow-ups: 1" in command(alice, world, f"/incident info {incident}")


@pytest.mark.parametrize("typed, answer", [
    ("", "Say what has to be done"),
    ("@bob", "Say what has to be done"),
    ("Fix it @nobody", "There is no user called @\u2060nobody"),  # the name made inert: nobody is pinged
    ("done 99", "has no follow-up 99"),
    ("done x", "Say which follow-up by its number"),
    ("done " + "9" * 5000, "Say which follow-up by its number"),
])
def test_follow_ups_that_cannot_be_recorded_get_a_clear_answer(world, people, typed, answer):
    channel = start(people["alice"], world, name())
    assert answer in command(people["alice"], world, f"/incident followup {typed}", channel["id"])


def test_a_follow_up_owner_must_be_in_the_team(world, people, double):
    stranger = double.create_user("stranger")
    channel = start(people["alice"], world, name())
    assert "not in this team" in command(people["alice"], world, "/incident followup Fix it @stranger", channel["id"])
    assert stranger


# ---- the retrospective ------------------------------------------------------------------------------------
def test_the_end_leaves_a_retrospective_draft_in_the_channel_and_with_the_commander(world, people):
    alice = people["alice"]
    incident = name()
    channel = start(alice, world, incident)
    command(alice, world, "/incident update Rolled back. --next off", channel["id"])
    pinned = alice.post(channel["id"], "rollback finished at 10:40")
    command(alice, world, f"/incident timeline add {pinned['id']} the fix", channel["id"])
    command(alice, world, "/incident followup Canary deploys", channel["id"])
    command(alice, world, "/incident end", channel["id"])
    [post] = [p for p in bot_posts(world, channel["id"]) if p.get("file_ids")]
    draft = download(alice, post["file_ids"][0])
    info = alice.driver.files.get_file_metadata(post["file_ids"][0])
    assert info["name"] == f"retrospective-{channel['name']}.md"
    parts = sections(draft)
    assert draft.startswith(f"# Retrospective: {incident}\n")
    assert "- Commander: @alice" in parts["Summary"] and "- Time to resolution:" in parts["Summary"]
    assert "(SEV3): Rolled back." in parts["Status updates"]
    assert "> rollback finished at 10:40" in parts["Pinned posts"] and "pinned by @alice: the fix" in parts["Pinned posts"]
    assert "1. Canary deploys" in parts["Follow-ups"]
    for to_write in ("Impact", "Root cause", "What went well", "What to improve"):
        assert parts[to_write].strip() == "_To be written by the team._"
    # and the commander has it in a DM, like `/incident retro` gives it again
    dm = alice.driver.channels.create_direct_message_channel([alice.me["id"], world.bot_user["id"]])
    wait_until(lambda: [p for p in world.double.posts_in(dm["id"]) if p.get("file_ids")])


def test_a_private_incidents_record_stays_with_its_members(world, people):
    alice, bob = people["alice"], people["bob"]
    incident = name()
    start(alice, world, f"{incident} --private")
    for typed in (f"/incident retro {incident}", f"/incident timeline {incident}", f"/incident followups {incident}"):
        assert "no incident called" in command(bob, world, typed), typed
    assert "on its way to you" in command(alice, world, f"/incident retro {incident}")
