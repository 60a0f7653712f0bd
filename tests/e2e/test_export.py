"""Export end to end: the incident channel as CSV in a DM, exactly, completely, only for participants."""

from __future__ import annotations

import csv
import io
import os

import pytest

from render.backstage import spreadsheet_safe

from tests.e2e.harness import BotProcess
from tests.e2e.seeding import add_incident, bot_database
from tests.e2e.steps import command, start

COLUMNS = ["Post Creation Time", "User Id", "User Email", "User Type", "User Name", "Post Id", "Parent Post Id",
           "Post Message", "Post Type"]
BIG = 20_000


def exported_csv(person, world, timeout: float = 60) -> tuple[dict, list[list[str]]]:
    dm = person.wait_event("posted", lambda ev: ev["data"]["post"]["user_id"] == world.bot_user["id"]
                           and ev["data"]["post"].get("file_ids"), timeout=timeout)
    raw = person.driver.files.get_file(dm["data"]["post"]["file_ids"][0]).content
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    return dm["data"]["post"], rows


def test_the_csv_round_trips_every_post_exactly(world, bot, alice, bob):
    channel = start(alice, world, "Payments flapping")
    tricky = ['Comma, separated, "quoted" words', "Line one\nline two\r\nline three", "Ünïcödé ✓ 🚨",
              '"', "=SUM(A1:A2)", ""]
    root = alice.post(channel["id"], "Thread root")
    for text in tricky[:-1]:
        alice.post(channel["id"], text)
    upload = alice.driver.files.upload_file(channel["id"], files={"files": ("secret.txt", b"FILE CONTENTS SECRET")})
    alice.post(channel["id"], "", file_ids=[upload["file_infos"][0]["id"]])
    alice.post(channel["id"], "a reply", root_id=root["id"])
    alice.driver.channels.add_user(channel["id"], options={"user_id": bob.id})  # a system message, exported too

    reply = command(alice, world, "/incident export", channel["id"])
    assert "I'll send you the CSV file in a direct message" in reply
    dm, rows = exported_csv(alice, world)

    assert rows[0] == COLUMNS
    expected = world.double.posts_in(channel["id"])  # oldest first, system messages included
    assert [r[5] for r in rows[1:]] == [p["id"] for p in expected]
    # as typed, except that a cell a spreadsheet would run as a formula starts with a ' (OWASP CSV injection)
    assert [r[7] for r in rows[1:]] == [spreadsheet_safe(p["message"]) for p in expected]
    assert [r[8] for r in rows[1:]] == [p.get("type", "") for p in expected]
    assert any(r[8] == "system_add_to_channel" for r in rows[1:])
    for text in tricky:
        assert any(r[7] == spreadsheet_safe(text) for r in rows[1:] if r[1] == alice.id), text
    assert any(r[7] == "'=SUM(A1:A2)" for r in rows[1:]), "a formula is shown as text, not run"
    reply_row = next(r for r in rows if r[7] == "a reply")
    assert reply_row[6] == root["id"]
    alice_row = next(r for r in rows if r[7] == "Thread root")
    assert alice_row[1:5] == [alice.id, "alice@example.com", "user", "alice"]
    bot_row = next(r for r in rows[1:] if r[1] == world.bot_user["id"])
    assert bot_row[3:5] == ["bot", "incident"]
    assert "FILE CONTENTS SECRET" not in "".join(",".join(r) for r in rows)
    assert all(len(r) == len(COLUMNS) for r in rows)
    assert dm["message"].startswith("The export of **Payments flapping**")


def test_only_participants_and_admins_may_export(world, bot, alice, bob):
    channel = start(alice, world, "Login errors")
    refused = command(bob, world, "/incident export Login errors")
    assert "Only members of ~login-errors and admins can export it" in refused
    assert not [ev for ev in bob.events if ev["event"] == "posted" and ev["data"]["post"].get("file_ids")]

    admin = world.person("admin")
    try:
        assert "I'll send you the CSV file" in command(admin, world, "/incident export login-errors")
        _, rows = exported_csv(admin, world)
        assert len(rows) == 1 + len(world.double.posts_in(channel["id"]))
    finally:
        admin.close()

    start(alice, world, "Hidden matter --private")
    assert "no incident called" in command(bob, world, "/incident export Hidden matter")


def peak_rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.fixture
def long_history_bot(world, tmp_path):
    with bot_database(tmp_path):
        incident = add_incident(world, "Long night", commander="alice", created_at=1_700_000_000_000,
                                members=("alice",))
    body = "x" * 990
    for n in range(BIG):
        world.double.create_post(incident.channel_id, world.users["alice"]["id"], f"{n:05d} {body}")
    process = BotProcess(world, tmp_path, database_url=os.environ.get("TEST_DATABASE_URL")).start().wait_ready()
    yield process, incident.channel_id
    assert process.stop() == 0
    assert "Traceback" not in process.log(), process.log()


def test_tens_of_thousands_of_posts_are_exported_completely_in_bounded_memory(world, long_history_bot, alice):
    bot, channel_id = long_history_bot
    channel = world.double.state.channels[channel_id]["name"]
    before = peak_rss_kb(bot.process.pid)
    assert "I'll send you the CSV file" in command(alice, world, "/incident export Long night")
    assert command(alice, world, "/incident export Long night") == (
        f"Your export of ~{channel} is still running; the CSV file will come in a direct message.")
    _, rows = exported_csv(alice, world, timeout=120)
    grown_mb = (peak_rss_kb(bot.process.pid) - before) / 1024

    assert len(rows) == 1 + BIG
    assert [int(r[7][:5]) for r in rows[1:]] == list(range(BIG))  # complete, oldest first, no duplicates
    # about 20 MB of messages went through (over 40 MB as Python objects); one page at a time is a few MB
    assert grown_mb < 16, f"the bot's peak memory grew by {grown_mb:.1f} MB"
    # while it ran, one direct message said how far it got, and made way for the file
    note = alice.wait_event("posted", lambda ev: ev["data"]["post"]["user_id"] == world.bot_user["id"]
                            and "posts read so far" in ev["data"]["post"]["message"])["data"]["post"]
    assert note["message"].startswith(f"Exporting ~{channel}: ")
    assert alice.wait_event("post_deleted", lambda ev: ev["data"]["post"]["id"] == note["id"])
    assert not [post for post in world.double.state.posts.values()  # the one export ran, once
                if post.get("file_ids") and post["user_id"] == world.bot_user["id"]][1:]


def test_the_numbers_of_a_long_channel_come_by_direct_message(world, long_history_bot, alice):
    _, channel_id = long_history_bot
    answer = command(alice, world, "/incident stats Long night")

    assert answer.startswith(f"~{world.double.state.channels[channel_id]['name']} has a long history (")
    numbers = alice.wait_event("posted", lambda ev: ev["data"]["post"]["user_id"] == world.bot_user["id"]
                               and ev["data"]["post"].get("file_ids"), timeout=120)["data"]["post"]
    assert f"Messages: **{BIG}**" in numbers["message"]


def test_addresses_stay_hidden_where_mattermost_hides_them(world, bot, alice):
    world.double.set_config(ShowEmailAddress=False)
    channel = start(alice, world, "Private addresses")
    alice.post(channel["id"], "hello")
    command(alice, world, "/incident export", channel["id"])
    _, rows = exported_csv(alice, world)
    email = rows[0].index("User Email")
    assert len(rows) > 1 and all(row[email] == "" for row in rows[1:])


def test_the_incidents_follow_ups_come_after_its_posts(world, bot, alice, bob):
    channel = start(alice, world, "Queue stuck")
    command(alice, world, "/incident followup Alert on queue age @bob", channel["id"])
    command(alice, world, "/incident followup =cmd|' /C calc'!A0", channel["id"])
    command(alice, world, "/incident followup done 1", channel["id"])
    command(alice, world, "/incident export", channel["id"])
    dm, rows = exported_csv(alice, world)
    followups = [r for r in rows[1:] if r[8] == "incident_followup"]
    assert rows[-2:] == followups  # after every post
    assert [(r[5], r[7]) for r in followups] == [("followup-1", "[done @bob] Alert on queue age"),
                                                  ("followup-2", "[open] =cmd|' /C calc'!A0")]
    assert "then its 2 follow-ups" in dm["message"]
