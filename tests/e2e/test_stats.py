"""Stats end to end: a scripted incident whose numbers are worked out by hand, and its chart."""

from __future__ import annotations

import io
import struct

from PIL import Image

from models import ChecklistItem, Incident
from tests.e2e.harness import wait_until
from tests.e2e.seeding import bot_database
from tests.e2e.steps import command, start

MIN = 60_000
STARTED = 1_709_287_200_000  # 2024-03-01 10:00 UTC = 15:30 in Kolkata (UTC+5:30)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:16]
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_a_scripted_incident_gives_the_numbers_worked_out_by_hand(world, bot, alice, bob, tmp_path):
    double = world.double
    with double.state.lock:  # alice reads times in Kolkata, set in her profile
        double.state.users[alice.id]["timezone"] = {"useAutomaticTimezone": "false", "manualTimezone": "Asia/Kolkata",
                                                    "automaticTimezone": ""}
    helper = double.create_user("deploybot", is_bot=True)

    channel = start(alice, world, "Checkout down")                               # bot posts: intro + checklist (2)
    for item in ("Page on-call", "Roll back", "Write status page"):
        command(alice, world, f"/incident checkadd {item}", channel["id"])
    alice.post(channel["id"], "Seeing 500s on /pay, with \"quotes\", commas")   # alice: 1
    alice.driver.channels.add_user(channel["id"], options={"user_id": bob.id})  # system post: not a message
    bob.post(channel["id"], "On it")                                             # bob: 1
    command(bob, world, "/incident check 1", channel["id"])
    command(alice, world, "/incident check 2", channel["id"])
    double.add_channel_member(channel["id"], world.users["carol"]["id"])         # joins, never takes part
    double.add_channel_member(channel["id"], helper["id"])
    double.create_post(channel["id"], helper["id"], "deploy 1234 rolled back")   # a bot: a message, not a member

    # the bot is offline for a while; what is said meanwhile still counts
    double.drop_websockets(world.bot_user["id"])
    double.block_websockets(1.0)
    alice.post(channel["id"], "Rollback done")                                   # alice: 2
    alice.post(channel["id"], "Watching graphs")                                 # alice: 3
    bob.driver.channels.remove_channel_member(channel["id"], bob.id)            # bob leaves: still involved
    wait_until(lambda: bot.log().count("websocket connected") >= 2, 20, bot.log)

    command(alice, world, "/incident end", channel["id"])                        # bot posts: ended, retrospective (4)

    # the incident ran 2h 45m; item 1 was ticked 5 minutes in, item 2 at 1h 30m (times travelled)
    with bot_database(tmp_path):
        incident = Incident.get(Incident.channel_id == channel["id"])
        Incident.update(created_at=STARTED, ended_at=STARTED + 165 * MIN).where(Incident.id == incident.id).execute()
        items = {i.title: i for i in ChecklistItem.select()
                 if i.checklist.incident_id == incident.id}
        ChecklistItem.update(checked_at=STARTED + 5 * MIN).where(ChecklistItem.id == items["Page on-call"].id).execute()
        ChecklistItem.update(checked_at=STARTED + 90 * MIN).where(ChecklistItem.id == items["Roll back"].id).execute()

    text = command(alice, world, "/incident stats Checkout down")
    # messages: 4 by the incident bot + 3 by alice + 1 by bob + 1 by deploybot = 9 (joins, leaves: system)
    # members involved: alice (commander, posted, ticked) + bob (posted, ticked, left) = 2;
    #   carol only joined; the incident bot and deploybot are bots
    assert "Members involved: **2** · Messages: **9**" in text, text
    assert "Duration: **2h 45m** · 2024-03-01 15:30 IST – 2024-03-01 18:15 IST" in text, text
    assert "Status: **Ended** · Commander: @alice" in text
    assert "Channel: ~checkout-down" in text
    assert "Checklist: 2 of 3 items done" in text

    dm = alice.wait_event("posted", lambda ev: ev["data"]["post"]["user_id"] == world.bot_user["id"]
                          and ev["data"]["post"].get("file_ids") and "Members involved" in ev["data"]["post"]["message"])
    assert "Members involved: **2**" in dm["data"]["post"]["message"]
    png = alice.driver.files.get_file(dm["data"]["post"]["file_ids"][0]).content
    width, height = png_size(png)
    assert width >= 600 and height >= 150
    image = Image.open(io.BytesIO(png))
    image.verify()
    assert image.format == "PNG"

    # bob left the channel: he may still see the public incident's numbers, but no channel link
    bob_view = command(bob, world, "/incident stats checkout-down")
    assert "Members involved: **2**" in bob_view and "Channel: ~" not in bob_view


def test_an_ongoing_incident_says_so_and_a_private_one_stays_hidden(world, bot, alice, bob):
    channel = start(alice, world, "Cache cold --private")
    text = command(alice, world, "/incident stats", channel["id"])
    assert "Duration: **Ongoing** (so far < 1m)" in text, text
    assert "Members involved: **1** · Messages: **2**" in text
    assert "no incident called" in command(bob, world, "/incident stats Cache cold")
    assert "not an incident channel" in command(bob, world, "/incident stats")
