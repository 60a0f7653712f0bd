"""Team metrics and the weekly digest, end to end: numbers worked out by hand, the chart a person
opens, who counts what, and a digest that comes on a shortened week."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from models import StatusUpdate, TimelineEvent
from models.clock import now_ms
from tests.e2e.harness import running_bot, wait_until
from tests.e2e.seeding import add_incident, bot_database
from tests.e2e.steps import bot_posts, command
from tests.e2e.test_stats import png_size

MIN = 60_000
HOUR = 60 * MIN
WEEK_SECONDS = 7 * 24 * 3600


def seed_three_incidents(world, folder) -> None:
    """Two public ones that ended, and a private one of alice's still open (times by hand)."""
    now = now_ms()
    with bot_database(folder):
        checkout = add_incident(world, "Checkout down", commander="alice", created_at=now - 3 * HOUR, ended_at=now - HOUR)
        StatusUpdate.create(incident=checkout.id, author_id=checkout.commander_id, message="looking", severity=2,
                            posted_at=checkout.created_at + 10 * MIN)  # MTTA 10m; MTTR 2h
        cache = add_incident(world, "Cache cold", commander="bob", created_at=now - 2 * HOUR, ended_at=now - 90 * MIN)
        TimelineEvent.create(incident=cache.id, at=cache.created_at + 4 * MIN, actor_id=cache.commander_id,
                             kind="item_checked", data={})  # no update: MTTA by the tick, 4m; MTTR 30m
        payroll = add_incident(world, "Payroll leak", commander="alice", created_at=now - HOUR, private=True,
                               members=("alice",))
        StatusUpdate.create(incident=payroll.id, author_id=payroll.commander_id, message="contained", severity=1,
                            posted_at=payroll.created_at + MIN)  # MTTA 1m; still open
        # with what the services store on the incident when they record an update or a tick
        type(checkout).update(severity=2, first_update_at=checkout.created_at + 10 * MIN).where(
            type(checkout).id == checkout.id).execute()
        type(cache).update(first_tick_at=cache.created_at + 4 * MIN).where(type(cache).id == cache.id).execute()
        type(payroll).update(severity=1, first_update_at=payroll.created_at + MIN).where(
            type(payroll).id == payroll.id).execute()


def test_each_person_gets_the_numbers_over_what_they_may_see_and_the_chart_by_dm(world, bot, alice, bob, tmp_path):
    seed_three_incidents(world, tmp_path)

    # bob is in no incident channel: the two public incidents. MTTA 4m, 10m: median 4m (rank 1 of 2),
    # p90 10m; MTTR 30m, 2h: median 30m, p90 2h
    bobs = command(bob, world, "/incident metrics")
    assert "| **All** | 2 | 2 | 0 | 4m (p90 10m) | 30m (p90 2h) |" in bobs, bobs
    assert "SEV1" not in bobs and "the private ones whose channel you are in" in bobs

    # alice is in the private incident's channel: three, one open; MTTA 1m, 4m, 10m: median 4m, p90 10m
    alices = command(alice, world, "/incident metrics --since 7d")
    assert "| **All** | 3 | 2 | 1 | 4m (p90 10m) | 30m (p90 2h) |" in alices, alices
    assert "| SEV1 | 1 | 0 | 1 | 1m (p90 1m) | – |" in alices
    assert "| SEV2 | 1 | 1 | 0 | 10m (p90 10m) | 2h (p90 2h) |" in alices
    assert "weekly chart is on its way" in alices

    dm = alice.wait_event("posted", lambda ev: ev["data"]["post"]["user_id"] == world.bot_user["id"]
                          and ev["data"]["post"].get("file_ids") and "Incidents per week" in ev["data"]["post"]["message"])
    assert "private ones whose channel you are in" in dm["data"]["post"]["message"]
    png = alice.driver.files.get_file(dm["data"]["post"]["file_ids"][0]).content
    width, height = png_size(png)
    assert width >= 500 and height >= 300
    image = Image.open(io.BytesIO(png))
    image.verify()
    assert image.format == "PNG"

    # carol is a team admin: every incident, and she is told so
    carols = command(world.person("carol"), world, "/incident metrics --severity 1")
    assert "| **All** | 1 | 0 | 1 | 1m (p90 1m) | – |" in carols and "private ones included (you are an admin)" in carols


def test_what_people_mistype_gets_a_sentence(world, bot, alice):
    assert "--since is a number of days (30d) or a date" in command(alice, world, "/incident metrics --since last-week")
    assert "--severity is 1 (most severe), 2, 3 or 4." in command(alice, world, "/incident metrics --severity 7")
    assert "no playbook titled 'Nope'" in command(alice, world, "/incident metrics --playbook Nope")
    assert "I don't know the option --sinse" in command(alice, world, "/incident metrics --sinse 3d")
    assert "No incidents started in this time that you can see." in command(alice, world, "/incident metrics")
    assert "Only team and system admins" in command(alice, world, "/incident settings digest ~town-square weekly")
    assert "not a timezone I know" in command(world.person("carol"), world, "/incident settings timezone Mars/Base")


# a "week" of 4 seconds (UPDATES_TIME_SCALE shortens it like every cadence), swept every half second
@pytest.fixture
def short_week_bot(world, tmp_path):
    yield from running_bot(world, tmp_path, extra_env={"UPDATES_TIME_SCALE": repr(4 / WEEK_SECONDS),
                                                       "UPDATES_SWEEP_SECONDS": "0.5"})


def test_the_weekly_digest_comes_to_the_channel_with_public_incidents_only(world, short_week_bot, tmp_path):
    now = now_ms()
    with bot_database(tmp_path):
        add_incident(world, "Disk full", commander="bob", created_at=now - HOUR)
        add_incident(world, "Payroll leak", commander="alice", created_at=now - HOUR, private=True, members=("alice",))
    carol = world.person("carol")
    assert "now Europe/Berlin" in command(carol, world, "/incident settings timezone Europe/Berlin")
    reply = command(carol, world, "/incident settings digest ~town-square weekly")
    assert "The weekly digest goes to ~town-square every 4 s" in reply and "public incidents only" in reply, reply
    assert "Monday" not in reply, reply  # the shortened week does not come on Mondays

    def digests() -> list[str]:
        return [p["message"] for p in bot_posts(world, world.town_square["id"]) if "Weekly incident digest" in p["message"]]

    wait_until(lambda: digests(), 30, lambda: short_week_bot.log())
    digest = digests()[0]
    assert "(Europe/Berlin)" in digest
    assert "Open incidents now: 1" in digest and "**Disk full** ~" in digest and "commander @bob" in digest
    assert "Payroll" not in digest and "Only public incidents are counted and listed here" in digest

    assert "no weekly digest now" in command(carol, world, "/incident settings digest off")
