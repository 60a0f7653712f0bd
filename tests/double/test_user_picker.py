"""A dialog's `data_source: users` select, as Mattermost serves it.

What a real 5.37 server does (recording `dialog.json`): the element reaches the person's client
with `data_source: "users"` and `options: null`, and the submission carries the chosen user's id.
The web app fills the picker from `GET /users/autocomplete?name=<typed>` with neither team nor
channel (webapp `components/interactive_dialog/dialog_element`: a `GenericUserProvider` over
`actions/user_actions.autocompleteUsers(username)`); the route's rules are the server's
`api4/user.go autocompleteUsers` (in_channel needs read_channel and in_team; in_team needs view_team).
"""
import json
from pathlib import Path

import requests

from mmdouble import shapes

CONTRACT = Path(__file__).resolve().parents[2].parent / "shared" / "mattermost-contract" / "dialog.json"


def recorded_user_element() -> dict:
    for entry in json.loads(CONTRACT.read_text()):
        if entry.get("kind") == "websocket" and entry["frame"]["event"] == "open_dialog":
            dialog = json.loads(entry["frame"]["data"]["dialog"])["dialog"]
            return next(e for e in dialog["elements"] if e.get("data_source") == "users")
    raise AssertionError("the recording has no open_dialog frame")


def test_a_users_select_reaches_the_client_as_the_server_sends_it():
    recorded = recorded_user_element()
    sent = {"display_name": "Commander", "name": "commander", "type": "select", "data_source": "users", "optional": True}
    [shown] = shapes.dialog_json({"elements": [sent]})["elements"]
    assert shown == recorded


def get(world, who, **params):
    return requests.get(world.d.url + "/api/v4/users/autocomplete", params=params,
                        headers={"Authorization": f"Bearer {world.tokens[who]}"}, timeout=10)


def usernames(users) -> list[str]:
    return [u["username"] for u in users]


def test_autocomplete_with_neither_team_nor_channel_offers_every_matching_user(world):
    answer = get(world, "alice", name="b")
    assert answer.status_code == 200 and set(answer.json()) == {"users"}
    assert usernames(answer.json()["users"]) == ["bob"]
    assert usernames(get(world, "alice", name="").json()["users"]) == ["admin", "alice", "bob", "incident"]
    assert usernames(get(world, "alice", name="A").json()["users"]) == ["admin", "alice"]  # any case
    assert "email" in get(world, "alice", name="bob").json()["users"][0]


def test_autocomplete_in_a_channel_splits_who_is_in_it(world):
    bot = world.sim("incident")
    channel = bot.driver.channels.create_channel(options={"team_id": world.team["id"], "name": "inc-2",
                                                          "display_name": "Inc 2", "type": "O"})
    bot.driver.channels.add_user(channel["id"], options={"user_id": world.users["alice"]["id"]})
    answer = get(world, "alice", name="", in_team=world.team["id"], in_channel=channel["id"]).json()
    assert usernames(answer["users"]) == ["alice", "incident"]
    assert usernames(answer["out_of_channel"]) == ["admin", "bob"]
    refused = get(world, "bob", name="", in_team=world.team["id"], in_channel=channel["id"])
    assert refused.status_code == 403
    no_team = get(world, "alice", name="", in_channel=channel["id"])
    assert no_team.status_code == 500 and no_team.json()["id"] == "api.user.autocomplete_users.missing_team_id.app_error"


def test_the_picker_submits_the_chosen_users_id(world):
    alice = world.sim("alice")
    assert alice.pick_user("bob") == world.users["bob"]["id"]
    assert alice.pick_user("@admin") == world.users["admin"]["id"]
