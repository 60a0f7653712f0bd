"""A team admin regenerates /incident's token (or deletes the command): the next /incident still works."""
from __future__ import annotations

import logging
import threading
import time

from chat import startup
from chat.gateway import MattermostError
from chat.web import CommandTokens

TEAM = "team1"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Mattermost:
    """What refresh_team asks of the gateway: the team, its commands, create and update."""

    def __init__(self, token: str = "tok2", deleted: bool = False, down: bool = False) -> None:
        self.commands = [{"id": "c1", "team_id": TEAM, "trigger": "incident", "token": token, "delete_at": 1 if deleted else 0,
                          **startup.command_spec(TEAM, "http://bot:8579")}]
        self.commands[0]["token"] = token
        self.commands[0]["delete_at"] = 1 if deleted else 0
        self.down = down
        self.created: list[dict] = []

    def team(self, team_id: str) -> dict:
        if self.down:
            raise MattermostError(0, "network", "Mattermost could not be reached")
        return {"id": team_id, "name": "ops"}

    def team_commands(self, team_id: str) -> list[dict]:
        return self.commands

    def create_command(self, command: dict) -> dict:
        made = {**command, "id": "c2", "token": "tok3", "delete_at": 0}
        self.created.append(made)
        return made

    def update_command(self, command: dict) -> dict:
        return command


def rotating(tokens: CommandTokens, mattermost: Mattermost, remembered: dict) -> None:
    tokens.refresh_with(lambda team_id: startup.refresh_team(mattermost, team_id, "http://bot:8579", tokens,
                                                             lambda team, command, token: remembered.update({team: token})))


def test_a_regenerated_token_is_read_from_mattermost_once_and_then_known():
    tokens, remembered, asked = CommandTokens(), {}, []
    tokens.set(TEAM, "tok1")
    tokens.refresh_with(lambda team_id: asked.append(team_id) or "tok2")
    assert tokens.is_valid("tok2", TEAM)
    assert tokens.is_valid("tok2", TEAM) and asked == [TEAM], "asked once, then known"
    assert not tokens.is_valid("tok1", TEAM), "the old token is dead in Mattermost, and here"
    assert remembered == {}


def test_mattermost_is_asked_at_most_once_per_team_in_ten_seconds():
    clock, asked = Clock(), []
    tokens = CommandTokens(clock=clock)
    tokens.set(TEAM, "tok1")
    tokens.refresh_with(lambda team_id: asked.append(team_id) or "tok1")
    for _ in range(50):
        assert not tokens.is_valid("forged", TEAM)
    assert len(asked) == 1
    clock.now += 9.9
    assert not tokens.is_valid("forged", TEAM) and len(asked) == 1
    clock.now += 0.2
    assert not tokens.is_valid("forged", TEAM) and len(asked) == 2


def test_a_team_the_bot_never_served_costs_no_look():
    asked = []
    tokens = CommandTokens(fallback=lambda team_id: None)
    tokens.set(TEAM, "tok1")
    tokens.refresh_with(lambda team_id: asked.append(team_id) or "x")
    for team in ("team9", "", "../../users/me", "t\x00", "a" * 300):
        assert not tokens.is_valid("x", team)
    assert asked == []


def test_a_token_another_replica_stored_is_taken_from_the_database_first():
    asked, stored = [], {TEAM: "tok2"}
    tokens = CommandTokens(fallback=stored.get)
    tokens.set(TEAM, "tok1")
    tokens.refresh_with(lambda team_id: asked.append(team_id) or None)
    assert tokens.is_valid("tok2", TEAM) and asked == []


def test_many_requests_with_the_new_token_at_once_ask_mattermost_once():
    tokens, asked = CommandTokens(), []
    tokens.set(TEAM, "tok1")

    def ask(team_id: str) -> str:
        asked.append(team_id)
        time.sleep(0.05)  # Mattermost takes a moment; the others wait for its answer rather than ask too
        tokens.set(team_id, "tok2")
        return "tok2"

    tokens.refresh_with(ask)
    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(tokens.is_valid("tok2", TEAM))) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 20 and asked == [TEAM]


def test_refresh_takes_the_regenerated_token_stores_it_and_logs_without_it(caplog):
    tokens, remembered, mattermost = CommandTokens(), {}, Mattermost(token="tok2")
    tokens.set(TEAM, "tok1")
    rotating(tokens, mattermost, remembered)
    with caplog.at_level(logging.INFO):
        assert tokens.is_valid("tok2", TEAM)
    assert remembered == {TEAM: "tok2"} and tokens.get(TEAM) == "tok2"
    assert "token of team ops was changed in Mattermost" in caplog.text
    assert "tok2" not in caplog.text and "tok1" not in caplog.text


def test_a_deleted_command_is_registered_again():
    tokens, remembered, mattermost = CommandTokens(), {}, Mattermost(deleted=True)
    tokens.set(TEAM, "tok1")
    rotating(tokens, mattermost, remembered)
    # a request with a token the bot does not know makes it look; the command is gone: it is made again
    assert not tokens.is_valid("from-the-deleted-command", TEAM)
    assert mattermost.created and remembered == {TEAM: "tok3"} and tokens.is_valid("tok3", TEAM)


def test_mattermost_unreachable_refuses_the_request_and_keeps_the_token(caplog):
    tokens, remembered = CommandTokens(), {}
    tokens.set(TEAM, "tok1")
    rotating(tokens, Mattermost(down=True), remembered)
    with caplog.at_level(logging.WARNING):
        assert not tokens.is_valid("tok2", TEAM)
    assert tokens.is_valid("tok1", TEAM) and remembered == {}
    assert "could not be asked for the current one" in caplog.text
