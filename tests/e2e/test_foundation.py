"""The bot on Mattermost: it answers /incident help, refuses forged callbacks, survives a
dropped websocket, and stops cleanly."""

import signal

from tests.e2e.harness import BotProcess, wait_until


def ephemeral_text(event) -> str:
    return event["data"]["post"]["message"]


def test_help_in_any_channel_answers_only_the_person_who_asked(world, bot, alice, bob):
    answer = alice.run_command(world.town_square["id"], "/incident help")

    assert answer["response_type"] == "ephemeral"
    assert "/incident start" in answer["text"]
    event = alice.wait_event("ephemeral_message", lambda ev: "/incident start" in ephemeral_text(ev))
    assert event["broadcast"]["user_id"] == alice.me["id"]
    assert not any(ev["event"] == "ephemeral_message" for ev in bob.events)
    assert not [p for p in world.double.posts_in(world.town_square["id"]) if "/incident start" in p["message"]]


def test_bare_command_and_unknown_subcommand_point_to_help(world, bot, alice):
    assert "/incident start" in alice.run_command(world.town_square["id"], "/incident")["text"]
    answer = alice.run_command(world.town_square["id"], "/incident frobnicate now")
    assert "frobnicate" in answer["text"] and "/incident help" in answer["text"]


def test_help_by_direct_message(world, bot, alice):
    channel = alice.driver.channels.create_direct_message_channel([alice.me["id"], world.bot_user["id"]])
    alice.post(channel["id"], "help")

    reply = alice.wait_event("posted", lambda ev: ev["data"]["post"]["user_id"] == world.bot_user["id"]
                             and ev["data"]["post"]["channel_id"] == channel["id"])
    assert "/incident start" in reply["data"]["post"]["message"]


def test_the_command_is_registered_once_across_restarts(world, tmp_path):
    for _ in range(2):
        process = BotProcess(world, tmp_path).start().wait_ready()
        assert process.stop() == 0
    commands = [c for c in world.double.commands(world.team["id"]) if c["trigger"] == "incident"]
    assert len(commands) == 1
    assert commands[0]["url"].startswith("http://127.0.0.1:")


def test_forged_callbacks_are_refused(world, bot):
    command = {"token": "not-the-token", "team_id": world.team["id"], "user_id": world.users["alice"]["id"],
               "channel_id": world.town_square["id"], "command": "/incident", "text": "help"}
    assert bot.post_raw("/hooks/command", data=command, headers={"Authorization": "Token not-the-token"}).status_code == 401
    assert bot.post_raw("/hooks/command", data={**command, "token": ""}).status_code == 401

    click = {"user_id": world.users["alice"]["id"], "channel_id": world.town_square["id"], "post_id": "x" * 26,
             "context": {"a": "tick", "incident": 1, "sig": "0" * 64}}
    assert bot.post_raw("/hooks/action", json=click).status_code == 401
    assert bot.post_raw("/hooks/action", json={**click, "context": {"a": "tick"}}).status_code == 401

    submission = {"type": "dialog_submission", "callback_id": "start", "state": "e30.forged",
                  "user_id": world.users["alice"]["id"], "submission": {"name": "x"}}
    assert bot.post_raw("/hooks/dialog", json=submission).status_code == 401

    junk = {**click, "context": {"a": "tick", "sig": "\udcff" * 64}}  # a lone surrogate: junk, not a crash
    assert bot.post_raw("/hooks/action", json=junk).status_code == 400  # no exact JSON (chat/json_codec.py)
    assert bot.post_raw("/hooks/dialog", json={**submission, "state": "e30.\udcff"}).status_code == 400
    assert bot.post_raw("/hooks/action", content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 400
    assert "Traceback" not in bot.log()


def test_the_bot_survives_a_dropped_websocket(world, bot, alice):
    channel = alice.driver.channels.create_direct_message_channel([alice.me["id"], world.bot_user["id"]])
    world.double.drop_websockets(user_id=world.bot_user["id"])

    wait_until(lambda: bot.log().count("websocket connected") >= 2, timeout=30, what=bot.log)
    assert "websocket lost; reconnecting" in bot.log()

    alice.clear_events()
    alice.post(channel["id"], "help")
    reply = alice.wait_event("posted", lambda ev: ev["data"]["post"]["user_id"] == world.bot_user["id"])
    assert "/incident start" in reply["data"]["post"]["message"]


def test_sigint_stops_the_bot_cleanly(world, tmp_path):
    process = BotProcess(world, tmp_path).start().wait_ready()
    assert process.stop(signal.SIGINT) == 0
    assert "stopped" in process.log()


def test_a_team_the_bot_joins_while_running_gets_the_command(world, bot):
    team = world.double.create_team("support", "Support")
    admin = world.person("admin")
    world.double.add_team_member(team["id"], admin.me["id"], admin=True)
    admin.driver.teams.add_user_to_team(team["id"], options={"team_id": team["id"], "user_id": world.bot_user["id"]})
    admin.close()
    wait_until(lambda: any(c["trigger"] == "incident" for c in world.double.commands(team["id"])), 10, bot.log)
