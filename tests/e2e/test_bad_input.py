"""Whatever people type, they get a clear answer: never a 500, never a stack trace."""

import pytest

from tests.e2e.harness import one_bot_per_module
from tests.e2e.steps import command, start

CASES = [
    # (where, what they type, what the answer must say)
    ("town", "/incident frobnicate", "I don't know the command"),
    ("town", "/incident start ###", "name"),
    ("town", "/incident start " + "x" * 70, "64"),
    ("town", '/incident start "unclosed', "quote"),
    ("town", "/incident start --private", "Give the incident a name"),
    ("town", "/incident start Big --bogus", "option"),
    ("town", "/incident start Big --private --public", "Choose one"),
    ("town", '/incident start Big --playbook "No such book"', "playbook"),
    ("town", "/incident start Big --playbook", "--playbook needs a title"),
    ("town", "/incident end", "not an incident channel"),
    ("town", "/incident check 1", "not an incident channel"),
    ("town", "/incident commander", "not an incident channel"),
    ("town", "/incident restart", "Usage: `/incident restart <incident>`"),
    ("town", "/incident restart nothing-like-it", "no incident called"),
    ("town", "/incident info nothing-like-it", "no incident called"),
    ("incident", "/incident end now", "Usage: `/incident end`"),
    ("incident", "/incident check", "Usage: `/incident check <item>`"),
    ("incident", "/incident check 9", "9"),
    ("incident", "/incident check 0", "starts at 1"),
    ("incident", "/incident check 1.2.3", "not an item number"),
    ("incident", "/incident check abc", "not an item number"),
    ("incident", "/incident check 4.1", "4"),
    ("incident", "/incident checkadd", "Usage"),
    ("incident", "/incident checkmove 1", "Usage"),
    ("incident", "/incident checkmove 1 x", "not a position"),
    ("incident", "/incident checkrename 1", "Usage"),
    ("incident", "/incident checkremove 7", "7"),
    ("incident", "/incident commander @ghost", "no user called @\u2060ghost"),  # mentions in answers are inert
    ("incident", "/incident commander @a @b", "Usage"),
    ("incident", "/incident checkadd " + "y" * 600, "500"),
    ("incident", "/incident checkmove 1 " + "9" * 5000, "not a position"),
    ("incident", "/incident checkmove 1 ²", "not a position"),
    ("town", "/incident backstage --page 100000000000000000000", "page"),
]


# None of the cases changes anything, so they share one server, one bot and one incident.
double, world, bot = one_bot_per_module("bad-input")


@pytest.fixture(scope="module")
def alice(world):
    user = world.person("alice")
    yield user
    user.close()


@pytest.fixture(scope="module")
def incident_channel(world, bot, alice):
    channel = start(alice, world, "Bad input drill")
    command(alice, world, "/incident checkadd first step", channel["id"])
    return channel


@pytest.mark.parametrize("where, typed, expected", CASES, ids=[c[1][:40] for c in CASES])
def test_bad_input_gets_a_clear_answer(world, bot, alice, incident_channel, where, typed, expected):
    channel_id = incident_channel["id"] if where == "incident" else world.town_square["id"]
    answer = alice.run_command(channel_id, typed)
    assert answer["response_type"] == "ephemeral"
    assert expected.lower() in answer["text"].lower(), answer["text"]
    assert "Traceback" not in answer["text"] and "went wrong" not in answer["text"]


def test_names_cannot_ping_or_break_the_layout(world, bot, alice):
    channel = start(alice, world, "@channel **bold** @here")
    posts = [p["message"] for p in world.double.posts_in(channel["id"])]
    assert not any("@channel" in m or "@here" in m for m in posts)
    assert "@channel" not in command(alice, world, "/incident list") and "@here" not in command(alice, world, "/incident list")
