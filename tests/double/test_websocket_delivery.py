"""Who receives which event, reconnect helpers, heartbeat."""
import asyncio
import json

import aiohttp
import pytest
from websockets.exceptions import InvalidStatus

from mmdouble.testing import SimUser


def _barrier(world, alice, bob):
    """A post both see; events are delivered in order per connection, so it fences earlier ones."""
    p = alice.post(world.town["id"], "barrier")
    for u in (alice, bob):
        u.wait_event("posted", lambda e: e["data"]["post"]["id"] == p["id"])


def test_channel_user_and_team_scoping(world):
    alice, bob, bot = world.sim("alice"), world.sim("bob"), world.sim("incident")
    secret = bot.driver.channels.create_channel(options={
        "team_id": world.team["id"], "name": "secret-room", "display_name": "Secret", "type": "P"})
    bot.driver.channels.add_user(secret["id"], options={"user_id": alice.id})
    post = bot.post(secret["id"], "private hello @alice")
    ev = alice.wait_event("posted", lambda e: e["data"]["post"]["id"] == post["id"])
    assert ev["data"]["mentions"] == [alice.id] and ev["data"]["channel_type"] == "P"
    assert ev["data"]["sender_name"] == "@incident" and ev["data"]["post"]["props"]["from_bot"] == "true"
    bot.driver.client.post("/posts/ephemeral", options={
        "user_id": alice.id, "post": {"channel_id": secret["id"], "message": "only alice"}})
    alice.wait_event("ephemeral_message")
    bot.driver.client.put(f"/channels/{secret['id']}/privacy", options={"privacy": "O"})
    for u in (alice, bob):
        u.wait_event("channel_converted", lambda e: e["data"]["channel_id"] == secret["id"])
    bot.wait_event("channel_created")
    _barrier(world, alice, bob)
    names = bob.event_names()
    assert "ephemeral_message" not in names and "user_added" not in names and "channel_created" not in names
    assert not any(e["event"] == "posted" and e["data"]["post"]["channel_id"] == secret["id"]
                   for e in bob.events if e["data"].get("post", {}).get("message") == "private hello @alice")


def test_seq_counts_per_connection(world):
    alice = world.sim("alice")
    for i in range(5):
        alice.post(world.town["id"], f"n{i}")
    for _ in range(5):
        alice.wait_event("posted")
    seqs = [f["seq"] for f in alice.frames if "event" in f]
    assert seqs == list(range(len(seqs)))
    assert alice.frames[1] == {"status": "OK", "seq_reply": 1}


def test_drop_and_block_websockets(world):
    d = world.d
    alice = world.sim("alice")
    bob = world.sim("bob")
    d.drop_websockets(user_id=alice.id)
    alice._reader.join(5)
    assert not alice.connected and bob.connected
    d.block_websockets(30)
    with pytest.raises(InvalidStatus):
        SimUser(d.url, world.tokens["alice"])
    d.block_websockets(0)
    again = world.sim("alice")
    assert again.connected
    d.drop_websockets()
    bob._reader.join(5)
    again._reader.join(5)
    assert not bob.connected and not again.connected


def test_bad_token_closes_and_unauthenticated_actions_fail(world):
    async def scenario():
        async with aiohttp.ClientSession() as s:
            async with s.ws_connect(world.d.url + "/api/v4/websocket") as ws:
                await ws.send_str(json.dumps({"seq": 1, "action": "ping"}))
                reply = json.loads((await ws.receive()).data)
                assert reply["status"] == "FAIL"
                assert reply["error"]["id"] == "api.web_socket_router.not_authenticated.app_error"
                await ws.send_str(json.dumps({"seq": 2, "action": "authentication_challenge",
                                              "data": {"token": "nope"}}))
                msg = await ws.receive()
                assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
    asyncio.run(scenario())


def test_aiohttp_client_with_heartbeat_and_header_auth(world):
    """mmpy-bot's driver uses aiohttp ws_connect(heartbeat=...); pings must be answered."""
    async def scenario():
        headers = {"Authorization": f"Bearer {world.tokens['bob']}"}
        async with aiohttp.ClientSession() as s:
            async with s.ws_connect(world.d.url + "/api/v4/websocket", heartbeat=0.1, headers=headers) as ws:
                hello = json.loads((await ws.receive()).data)
                assert hello["event"] == "hello" and hello["seq"] == 0
                await asyncio.sleep(0.5)  # several heartbeat rounds
                await asyncio.get_running_loop().run_in_executor(
                    None, world.d.create_post, world.town["id"], world.users["alice"]["id"], "ping me")
                while True:
                    frame = json.loads((await ws.receive(timeout=5)).data)
                    if frame.get("event") == "posted":
                        assert isinstance(frame["data"]["post"], str)
                        return
    asyncio.run(scenario())
