"""Who may call the bot's callback port (issue 13, parts 3 and 4), end to end.

- A team admin regenerates /incident's token in Mattermost, or deletes the command: /incident keeps
  working without a restart (the double implements `PUT /commands/{id}/regen_token` as the server
  does: tests/double/test_regen_token.py names the sources).
- Clicks are bound: to the action URL's secret (`BOT_CALLBACK_SECRET`, which clients never see), to
  an age (`BOT_CALLBACK_MAX_AGE_DAYS`), and to the people who can read the incident's channel.

One double and one bot serve the module; the bot's signing secret is fixed so the tests can sign
buttons as an attacker holding an old one would have them.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest

from chat.signing import Signer
from mmdouble.seeding import add_person
from render.callbacks import ConfirmEnd, TickItem, UpdateDialog

from tests.e2e.harness import build_world, running_bot, serving_double, wait_until
from tests.e2e.steps import button, checklist_post, checklist_text, command, start, wait_for_checklist

pytestmark = pytest.mark.e2e

SIGNING_SECRET = "e2e-signing-secret-" + "s" * 20
CALLBACK_SECRET = "e2e-callback-secret-" + uuid.uuid4().hex
SETTINGS = {"BOT_SIGNING_SECRET": SIGNING_SECRET, "BOT_CALLBACK_SECRET": CALLBACK_SECRET}
DAY = 86_400
signer = Signer(SIGNING_SECRET)


@pytest.fixture(scope="module")
def double():
    yield from serving_double()


@pytest.fixture(scope="module")
def world(double):
    world = build_world(double)
    # a second team, with its own /incident, for the deleted command (the first one's token is rotated)
    world.second = double.create_team("dev", "Dev")
    world.second_square = double.create_channel(world.second["id"], "town-square", "Town Square", type="O")
    double.add_team_member(world.second["id"], world.bot_user["id"])
    double.add_channel_member(world.second_square["id"], world.bot_user["id"])
    world.users["dana"], world.tokens["dana"] = add_person(double, world.second["id"], "dana", roles="system_user",
                                                           team_admin=True, channels=(world.second_square["id"],))
    return world


@pytest.fixture(scope="module")
def bot(world, tmp_path_factory):
    yield from running_bot(world, tmp_path_factory.mktemp("callback-security"), extra_env=SETTINGS)


@pytest.fixture(scope="module")
def people(world, bot):
    users = {name: world.person(name) for name in ("alice", "bob", "carol", "dana")}
    yield users
    for user in users.values():
        user.close()


def name() -> str:
    return f"Bound {uuid.uuid4().hex[:6]}"


def incident_command(person, team_id: str) -> dict:
    commands = person.driver.client.get("/commands", params={"team_id": team_id, "custom_only": "true"})
    return next(c for c in commands if c["trigger"] == "incident")


# ---- part 3: the slash command's token ------------------------------------------------------------
def test_a_team_admin_regenerates_the_token_and_incident_still_works(world, bot, people):
    carol = people["carol"]  # a team admin, not a system admin
    assert "/incident start" in command(carol, world, "/incident help")
    before = incident_command(carol, world.team["id"])
    regenerated = carol.driver.client.put(f"/commands/{before['id']}/regen_token")["token"]
    assert regenerated != before["token"]

    answer = command(carol, world, "/incident help")  # no restart
    assert "/incident start" in answer and "went wrong" not in answer
    assert "/incident start" in command(people["alice"], world, "/incident help")
    log = bot.log()
    assert "/incident token of team ops was changed in Mattermost" in log
    assert regenerated not in log and before["token"] not in log, "tokens never reach the log"
    assert bot.log().count("was changed in Mattermost") == 1, "Mattermost was asked once, then the new token was known"


def test_the_old_token_is_refused_after_the_rotation(world, bot, people):
    form = {"team_id": world.team["id"], "user_id": people["alice"].id, "channel_id": world.town_square["id"],
            "command": "/incident", "text": "help", "token": "stolen-before-the-rotation"}
    answer = bot.post_raw("/hooks/command", data=form, headers={"Authorization": "Token stolen-before-the-rotation"})
    assert answer.status_code == 401


def test_a_deleted_command_is_registered_again(world, bot, people):
    dana = people["dana"]
    gone = incident_command(dana, world.second["id"])
    dana.driver.client.delete(f"/commands/{gone['id']}")
    status, _ = dana._raw("POST", "/commands/execute", {"channel_id": world.second_square["id"], "team_id": world.second["id"],
                                                       "command": "/incident help"})
    assert status == 404, "Mattermost no longer knows /incident there"

    # the next request that reaches the bot with a token it does not know makes it look, and put it back
    form = {"team_id": world.second["id"], "user_id": dana.id, "channel_id": world.second_square["id"], "command": "/incident",
            "text": "help", "token": gone["token"] + "x"}
    assert bot.post_raw("/hooks/command", data=form, headers={"Authorization": f"Token {gone['token']}x"}).status_code == 401
    wait_until(lambda: any(c["trigger"] == "incident" for c in dana.driver.client.get(
        "/commands", params={"team_id": world.second["id"], "custom_only": "true"})), 10, bot.log)
    assert "/incident start" in command(dana, world, "/incident help", world.second_square["id"])
    assert "registered /incident in team dev" in bot.log()


# ---- part 4a: the callback secret ------------------------------------------------------------------
def forged_click(bot, world, channel_id: str, user_id: str, context: dict, secret: str | None = CALLBACK_SECRET):
    path = "/hooks/action" + (f"?secret={secret}" if secret is not None else "")
    return bot.post_raw(path, json={"user_id": user_id, "channel_id": channel_id, "team_id": world.team["id"], "post_id": "",
                                    "type": "button", "trigger_id": "", "context": context})


def test_buttons_carry_the_secret_only_in_what_mattermost_keeps(world, bot, people):
    alice = people["alice"]
    alice.clear_events()
    channel = start(alice, world, name())
    command(alice, world, "/incident checkadd Page the DBA", channel["id"])
    post = checklist_post(world, channel["id"])
    stored = world.double.get_post(post["id"], include_integration=True)
    assert button(stored, "Page the DBA")["integration"]["url"].endswith(f"/hooks/action?secret={CALLBACK_SECRET}")
    # what people's clients get: no integration at all (contract recordings: posts.json, message_actions.json)
    assert CALLBACK_SECRET not in json.dumps(world.double.get_post(post["id"]))
    assert CALLBACK_SECRET not in json.dumps(alice.driver.posts.get_post(post["id"]))
    alice.wait_event("post_edited", lambda ev: ev["data"]["post"]["id"] == post["id"])
    assert CALLBACK_SECRET not in json.dumps(alice.events)
    # a click through Mattermost works
    current = world.double.get_post(post["id"])
    status, _ = alice.click(post["id"], button(current, "Page the DBA")["id"])
    assert status == 200
    wait_for_checklist(world, channel["id"], "(1/1)")


def test_a_click_without_the_secret_is_not_run(world, bot, people):
    alice = people["alice"]
    channel = start(alice, world, name())
    command(alice, world, "/incident checkadd Restart the pool", channel["id"])
    stored = world.double.get_post(checklist_post(world, channel["id"])["id"], include_integration=True)
    context = button(stored, "Restart the pool")["integration"]["context"]

    without = forged_click(bot, world, channel["id"], alice.id, context, secret=None)
    assert without.status_code == 200 and "comes from before the bot's callback address changed" in without.json()["ephemeral_text"]
    assert forged_click(bot, world, channel["id"], alice.id, context, secret="guessed-" + "g" * 20).status_code == 401
    assert "(0/1)" in checklist_text(world, channel["id"]), "neither was applied"


# ---- part 4b: contexts age out ----------------------------------------------------------------------
def test_a_button_older_than_the_maximum_age_is_refused_in_words(world, bot, people):
    alice = people["alice"]
    channel = start(alice, world, name())
    command(alice, world, "/incident checkadd Drain the queue", channel["id"])
    incident_id = button(world.double.get_post(checklist_post(world, channel["id"])["id"], include_integration=True),
                         "Drain")["integration"]["context"]["incident_id"]
    item_id = button(world.double.get_post(checklist_post(world, channel["id"])["id"], include_integration=True),
                     "Drain")["integration"]["context"]["item_id"]
    old = signer.sign_context(TickItem(incident_id=incident_id, item_id=item_id, checked=True, issued_at=int(time.time()) - 31 * DAY).payload())
    answer = forged_click(bot, world, channel["id"], alice.id, old)
    assert answer.status_code == 200
    assert answer.json()["ephemeral_text"].startswith("This button is too old to trust (buttons work for 30 days)")
    assert "(0/1)" in checklist_text(world, channel["id"])

    recent = signer.sign_context(TickItem(incident_id=incident_id, item_id=item_id, checked=True, issued_at=int(time.time()) - 29 * DAY).payload())
    assert "update" in forged_click(bot, world, channel["id"], alice.id, recent).json()
    wait_for_checklist(world, channel["id"], "(1/1)")


def test_a_button_from_before_issue_times_ages_from_this_versions_first_start(world, bot, people):
    alice = people["alice"]
    channel = start(alice, world, name())
    command(alice, world, "/incident checkadd Legacy button", channel["id"])
    stored = button(world.double.get_post(checklist_post(world, channel["id"])["id"], include_integration=True), "Legacy")
    context = stored["integration"]["context"]
    # the one-letter payload of older messages, with no issue time: accepted while younger than the maximum age
    legacy = signer.sign_context({"a": "tick", "i": context["incident_id"], "it": context["item_id"], "c": True})
    assert "update" in forged_click(bot, world, channel["id"], alice.id, legacy).json()
    wait_for_checklist(world, channel["id"], "(1/1)")


def test_a_dialog_opened_too_long_ago(world, bot, people):
    alice = people["alice"]
    channel = start(alice, world, name())
    incident_id = button(world.double.get_post(checklist_post(world, channel["id"])["id"], include_integration=True),
                         "End incident")["integration"]["context"]["incident_id"]
    state = signer.sign_state(UpdateDialog(for_user=alice.id, incident_id=incident_id, issued_at=int(time.time()) - 40 * DAY).payload())
    answer = bot.post_raw("/hooks/dialog", json={"type": "dialog_submission", "callback_id": "", "state": state, "user_id": alice.id,
                                                 "channel_id": channel["id"], "team_id": world.team["id"],
                                                 "submission": {"message": "All good"}, "cancelled": False})
    assert answer.status_code == 200
    assert answer.json() == {"error": "This dialog was opened too long ago (over 30 days); open it again."}


# ---- part 4c: the person a click names must read the channel ---------------------------------------
def test_a_click_naming_someone_outside_the_channel_is_refused(world, bot, people):
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    channel = start(alice, world, name())
    command(alice, world, "/incident checkadd Rotate keys", channel["id"])
    stored = world.double.get_post(checklist_post(world, channel["id"])["id"], include_integration=True)
    tick = button(stored, "Rotate keys")["integration"]["context"]
    end = button(stored, "End incident")["integration"]["context"]

    # lifted from the posts table, sent with the id of a team member who is not in the channel
    for outsider in (bob.id, carol.id, "x" * 26, "../../users/me", ""):  # carol is a team admin, not a channel member
        for context in (tick, end):
            answer = forged_click(bot, world, channel["id"], outsider, context)
            assert answer.status_code == 200, answer.text
            assert answer.json()["ephemeral_text"] == "Only members of the incident's channel can use its buttons."
    assert "(0/1)" in checklist_text(world, channel["id"])

    # a system admin may read every channel, so Mattermost forwards their clicks: so does the bot
    admin = world.users["admin"]
    assert "update" in forged_click(bot, world, channel["id"], admin["id"], tick).json()
    wait_for_checklist(world, channel["id"], "(1/1)")
    # and once bob joins, his clicks count
    world.double.add_channel_member(channel["id"], bob.id)
    assert forged_click(bot, world, channel["id"], bob.id, {**end}).json().get("ephemeral_text") is None


def test_a_confirmation_made_for_one_person_is_refused_to_another(world, bot, people):
    alice, bob = people["alice"], people["bob"]
    incident = name()
    channel = start(alice, world, incident)
    world.double.add_channel_member(channel["id"], bob.id)
    confirm = signer.sign_context(ConfirmEnd(for_user=alice.id, incident_id=_incident_id(world, channel), run=0).payload())
    answer = forged_click(bot, world, channel["id"], bob.id, confirm)
    assert answer.json()["ephemeral_text"] == "This confirmation was for someone else."
    assert incident in command(alice, world, "/incident list"), "still active"


def test_the_log_has_no_error(bot):
    lines = [line for line in bot.log().splitlines() if " ERROR " in line or "Traceback" in line]
    assert not lines, "\n".join(lines)


def _incident_id(world, channel) -> int:
    stored = world.double.get_post(checklist_post(world, channel["id"])["id"], include_integration=True)
    return button(stored, "End incident")["integration"]["context"]["incident_id"]
