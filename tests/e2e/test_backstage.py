"""Backstage end to end: a team of 300 incidents, browsed by people with filters, sorts and pages."""

from __future__ import annotations

import os
import re

import pytest

from models.incidents import search_key
from tests.e2e.harness import BotProcess, build_world, serving_double, wait_until
from tests.e2e.seeding import add_incident, bot_database
from tests.e2e.steps import button, command

HOUR = 3_600_000
BASE = 1_700_000_000_000
PER_PAGE = 20
ADMINS = ("admin", "carol")  # system admin, team admin


def incident_name(n: int) -> str:
    if n % 50 == 7:
        return f"Ziggürat outage {n}"
    if n % 50 == 8:
        return f"ZIGGURAT drill {n}"
    if n % 50 == 9:
        return f"Café queue {n}"
    return f"Incident {n:03d}"


def seed_plan():
    plan = []
    for n in range(300):
        commander = ("alice", "bob", "carol")[n % 3]
        private = n % 10 == 3
        members = (commander,) + (("alice",) if private and n % 20 == 3 and commander != "alice" else ())
        ended = None if n % 4 == 0 else BASE + n * HOUR + (n % 7 + 1) * 600_000
        plan.append(dict(n=n, name=incident_name(n), commander=commander, private=private, members=members,
                         created=BASE + n * HOUR, ended=ended))
    return plan


PLAN = seed_plan()


def visible_to(username: str) -> list[dict]:
    return [i for i in PLAN if not i["private"] or username in ADMINS or username in i["members"]]


def newest_first(incidents):
    return sorted(incidents, key=lambda i: -i["created"])


# The tests only read: one double, one seeded database and one bot serve the module.
@pytest.fixture(scope="module")
def double():
    yield from serving_double()


@pytest.fixture(scope="module")
def world(double):
    return build_world(double)


@pytest.fixture(scope="module")
def team_bot(world, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("backstage")
    with bot_database(tmp_path):
        for i in PLAN:
            add_incident(world, i["name"], commander=i["commander"], created_at=i["created"], ended_at=i["ended"],
                         private=i["private"], members=i["members"])
    process = BotProcess(world, tmp_path, database_url=os.environ.get("TEST_DATABASE_URL")).start().wait_ready()
    yield process
    assert process.stop() == 0
    assert "Traceback" not in process.log(), process.log()


@pytest.fixture
def carol(world):
    user = world.person("carol")
    yield user
    user.close()


@pytest.fixture
def admin(world):
    user = world.person("admin")
    yield user
    user.close()


def names(text: str) -> list[str]:
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith(("| Name", "| ---"))]
    return [row.split(" | ")[0][2:].replace(" :lock:", "") for row in rows]


def header(text: str) -> str:
    match = re.search(r"(\d+)–(\d+) of (\d+) · page (\d+) of (\d+)", text)
    return match.group(0) if match else ""


def ephemeral_page(person, after_clicking: str) -> dict:
    event = person.wait_event("ephemeral_message", lambda ev: "#### Incidents" in ev["data"]["post"]["message"]
                              and ev["data"]["post"]["id"] != after_clicking)
    return event["data"]["post"]


def test_newest_first_and_paging_with_previous_and_next(world, team_bot, bob):
    expected = [i["name"] for i in newest_first(visible_to("bob"))]
    answer = bob.run_command(world.town_square["id"], "/incident backstage")
    assert names(answer["text"]) == expected[:PER_PAGE]
    assert header(answer["text"]) == f"1–20 of {len(expected)} · page 1 of {-(-len(expected) // PER_PAGE)}"
    assert "| Name | Severity | Status | Start | End | Commander | Open follow-ups |" in answer["text"]

    first = ephemeral_page(bob, "")
    assert [a["name"] for a in first["props"]["attachments"][0]["actions"]] == ["Next ▶"]
    next_button = button(first, "Next")
    status, _ = bob.click(first["id"], next_button["id"], cookie=next_button.get("cookie"))
    assert status == 200
    second = ephemeral_page(bob, first["id"])
    assert names(second["message"]) == expected[PER_PAGE:2 * PER_PAGE]
    assert header(second["message"]).startswith(f"21–40 of {len(expected)} · page 2")

    previous = button(second, "Previous")
    status, _ = bob.click(second["id"], previous["id"], cookie=previous.get("cookie"))
    assert status == 200
    again = ephemeral_page(bob, second["id"])
    assert names(again["message"]) == expected[:PER_PAGE]


def test_the_last_page_and_a_page_past_the_end(world, team_bot, bob):
    expected = [i["name"] for i in newest_first(visible_to("bob"))]
    pages = -(-len(expected) // PER_PAGE)
    last = bob.run_command(world.town_square["id"], f"/incident backstage --page {pages}")
    assert names(last["text"]) == expected[(pages - 1) * PER_PAGE:]
    assert [a["name"] for a in last["attachments"][0]["actions"]] == ["◀ Previous"]

    beyond = command(bob, world, f"/incident backstage --page {pages + 5}")
    assert names(beyond) == []
    assert f"Page {pages + 5} is past the end" in beyond and f"there are {len(expected)} matching incidents" in beyond


def test_filters_combine_and_sort(world, team_bot, bob):
    ended_by_carol = [i for i in visible_to("bob") if i["ended"] and i["commander"] == "carol"]
    by_name = sorted(ended_by_carol, key=lambda i: (search_key(i["name"]), -i["created"]))
    text = command(bob, world, "/incident backstage --status ended --commander @carol --sort name --page 2")
    assert names(text) == [i["name"] for i in by_name[PER_PAGE:2 * PER_PAGE]]
    assert "ended, commanded by @carol" in text and f"of {len(by_name)}" in text

    ongoing = newest_first([i for i in visible_to("bob") if not i["ended"]])
    assert names(command(bob, world, "/incident backstage --status ongoing")) == [i["name"] for i in ongoing[:PER_PAGE]]

    by_end = sorted([i for i in visible_to("bob") if i["ended"]], key=lambda i: -i["ended"])
    assert names(command(bob, world, "/incident backstage --sort end"))[:5] == [i["name"] for i in by_end[:5]]
    assert "Ended" in command(bob, world, "/incident backstage --sort end").split("\n")[5]


def test_search_ignores_case_and_accents(world, team_bot, bob):
    zigs = newest_first([i for i in visible_to("bob") if "ziggurat" in search_key(i["name"])])
    assert len(zigs) >= 10 and any("ü" in i["name"] for i in zigs) and any("ZIGG" in i["name"] for i in zigs)
    for query in ("ziggurat", "ZIGGÜRAT", "Ziggürat"):
        text = command(bob, world, f"/incident backstage --search {query}")
        assert names(text) == [i["name"] for i in zigs[:PER_PAGE]], query
    cafes = newest_first([i for i in visible_to("bob") if i["name"].startswith("Café")])
    assert names(command(bob, world, '/incident backstage --search "cafe queue" --status ended')) == \
        [i["name"] for i in cafes if i["ended"]][:PER_PAGE]
    assert "No incidents you can see match" in command(bob, world, "/incident backstage --search nothing-like-this")


def test_bad_options_get_the_usage(world, team_bot, bob):
    for args in ("--status open", "--sort size", "--page 0", "--colour red", "--commander @nobody-here"):
        text = command(bob, world, f"/incident backstage {args}")
        assert "Usage: `/incident backstage" in text or "There is no user called" in text, (args, text)


def test_private_incidents_only_for_participants_and_admins(world, team_bot, alice, bob, admin, carol):
    private = [i for i in PLAN if i["private"]]
    alices = [i for i in private if "alice" in i["members"]]
    others = [i for i in private if "alice" not in i["members"] and "bob" not in i["members"]]
    assert alices and others

    seen_by_bob = [name for p in range(1, 16) for name in names(command(bob, world, f"/incident backstage --page {p}"))]
    assert sorted(seen_by_bob) == sorted(i["name"] for i in visible_to("bob"))
    assert not set(seen_by_bob) & {i["name"] for i in private if "bob" not in i["members"]}
    lock_hunt = command(bob, world, f"/incident backstage --search {others[0]['name']}")
    assert names(lock_hunt) == []

    for person, who in ((admin, "admin"), (carol, "carol")):
        assert names(command(person, world, f"/incident backstage --search {others[0]['name']}")) == [others[0]["name"]], who

    target = alices[0]
    assert names(command(alice, world, f"/incident backstage --search {target['name']}")) == [target["name"]]
    channel = world.double.channel_by_name(world.team["id"], next(
        c["name"] for c in world.double.state.channels.values() if c["display_name"] == target["name"]))
    admin.driver.channels.remove_channel_member(channel["id"], alice.id)
    wait_until(lambda: names(command(alice, world, f"/incident backstage --search {target['name']}")) == [],
               10, team_bot.log)
    assert "no incident called" in command(alice, world, f"/incident stats {target['name']}")
