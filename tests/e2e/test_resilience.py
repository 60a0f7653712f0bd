"""The network and the server misbehave; the bot notices, comes back, and answers again."""

import os
from urllib.parse import urlsplit

import pytest

from models.db import make_database

from tests.e2e.blackhole import BlackHoleProxy
from tests.e2e.harness import BotProcess, wait_until
from tests.e2e.steps import command, start, wait_for_checklist


@pytest.fixture
def proxy(double):
    hole = BlackHoleProxy(urlsplit(double.url).port)
    yield hole
    hole.close()


def dm_help_answered(world, alice) -> bool:
    channel = alice.driver.channels.create_direct_message_channel([alice.me["id"], world.bot_user["id"]])
    alice.clear_events()
    alice.post(channel["id"], "help")
    try:
        alice.wait_event("posted", lambda ev: ev["data"]["post"]["user_id"] == world.bot_user["id"], timeout=5)
        return True
    except TimeoutError:
        return False


def test_a_silently_dead_connection_is_detected_and_replaced(world, proxy, alice, tmp_path):
    bot = BotProcess(world, tmp_path, extra_env={"MATTERMOST_URL": f"http://127.0.0.1:{proxy.port}",
                                                 "BOT_HEARTBEAT_SECONDS": "1"}).start().wait_ready()
    try:
        proxy.go_silent()
        # no FIN, no RST: only the heartbeat can tell the connection is gone
        wait_until(lambda: "missed heartbeat" in bot.log() or "websocket lost" in bot.log(), 20, bot.log)
        proxy.recover()
        wait_until(lambda: bot.log().count("websocket connected") >= 2, 60, bot.log)
        assert dm_help_answered(world, alice)
    finally:
        assert bot.stop() == 0


def test_the_server_refusing_websockets_for_a_while(world, bot, alice):
    world.double.block_websockets(3)
    world.double.drop_websockets(user_id=world.bot_user["id"])
    wait_until(lambda: bot.log().count("websocket connected") >= 2, 60, bot.log)
    assert dm_help_answered(world, alice)
    assert "Traceback" not in bot.log()


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL (TEST_DATABASE_URL)")
def test_the_database_dropping_every_connection(world, bot, alice):
    """As after a PostgreSQL restart: every connection the bot held is gone."""
    channel = start(alice, world, "Database blip")
    command(alice, world, "/incident checkadd Fail over", channel["id"])

    database = make_database(os.environ["TEST_DATABASE_URL"], "")
    killed = database.execute_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchall()
    database.close()
    assert killed, "the bot held no connection to drop"

    # the worker threads' connections are dead: they are reopened, nothing is lost
    assert "Item 1 ticked" in command(alice, world, "/incident check 1", channel["id"])
    assert "Added item 1.2" in command(alice, world, "/incident checkadd Tell the team", channel["id"])
    wait_for_checklist(world, channel["id"], "(1/2)")


def test_what_happened_while_the_bot_was_away_is_caught_up(world, bot, alice, bob):
    converted = start(alice, world, "Leaky while away")
    archived = start(alice, world, "Archived while away")
    admin = world.person("admin")
    world.double.block_websockets(3)
    world.double.drop_websockets(user_id=world.bot_user["id"])
    admin.driver.client.make_request("put", f"/channels/{converted['id']}/privacy", options={"privacy": "P"})
    admin.driver.channels.delete_channel(archived["id"])
    admin.close()

    wait_until(lambda: bot.log().count("websocket connected") >= 2, 60, bot.log)
    wait_until(lambda: "Leaky while away" not in command(bob, world, "/incident list"), 10)
    assert "Archived while away" not in command(alice, world, "/incident list")
    assert "Ended" in command(alice, world, "/incident info Archived while away")


def test_two_replicas_answer_each_person_once(world, alice, tmp_path):
    """Both replicas receive every event; the one that records it first acts on it."""
    database = os.environ.get("TEST_DATABASE_URL")
    shared = tmp_path / "shared"
    shared.mkdir()
    first = BotProcess(world, shared, database_url=database).start().wait_ready()
    second = BotProcess(world, shared, database_url=database).start().wait_ready()
    try:
        post = alice.post(world.town_square["id"], "Disk full on db-3")
        alice.react(post["id"], "rotating_light")
        alice.wait_event("ephemeral_message", lambda ev: "Start an incident" in str(ev["data"]["post"].get("props")))

        dm = alice.driver.channels.create_direct_message_channel([alice.me["id"], world.bot_user["id"]])
        question = alice.post(dm["id"], "help")
        alice.wait_event("posted", lambda ev: ev["data"]["post"]["user_id"] == world.bot_user["id"]
                         and ev["data"]["post"]["channel_id"] == dm["id"])

        def passed_on(key: str) -> bool:
            lines = (first.log() + second.log()).splitlines()
            return any(key in line and "is handled by another replica" in line for line in lines)

        # the replica that lost each event says so: only then is a duplicate answer ruled out
        wait_until(lambda: passed_on(f"posted:{question['id']}"), 10)
        wait_until(lambda: passed_on(f"reaction_added:{alice.me['id']}:{post['id']}:rotating_light"), 10)

        prompts = [ev for ev in alice.events if ev["event"] == "ephemeral_message"
                   and "Start an incident" in str(ev["data"]["post"].get("props"))]
        replies = [ev for ev in alice.events if ev["event"] == "posted"
                   and ev["data"]["post"]["user_id"] == world.bot_user["id"] and ev["data"]["post"]["channel_id"] == dm["id"]]
        assert len(prompts) == 1 and len(replies) == 1
    finally:
        assert first.stop() == 0 and second.stop() == 0
