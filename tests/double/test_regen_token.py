"""PUT /commands/{command_id}/regen_token, which no recording covers, as Mattermost 5.x answers it.

Sources:
- API reference "Generate a new token": https://docs.mattermost.com/api/reference/regen-command-token
  (PUT /api/v4/commands/:command_id/regen_token; manage_slash_commands on the command's team; 200 {"token"}).
- server mattermost/mattermost-server api4/command.go regenCommandToken (5.x): App.GetCommand failing
  (missing, deleted, or EnableCommands off) and a caller without manage_slash_commands on the command's
  team both give c.SetCommandNotFoundError() (404 store.sql_command.save.get.app_error, "so we don't leak
  the existence of a command"); app/command.go RegenCommandToken sets Token = model.NewId() and stores it.
"""
import requests

from mmdouble.ids import is_valid_id, new_id

from tests.double.test_uncovered_routes import assert_error, call


def make_command(world, who="admin"):
    resp = call(world, who, "POST", "/commands", json={
        "team_id": world.team["id"], "trigger": "incident", "method": "P", "url": "http://127.0.0.1:9/hooks/command"})
    assert resp.status_code == 201, resp.text
    return resp.json()


def listed(world, who="admin") -> dict:
    resp = call(world, who, "GET", "/commands", params={"team_id": world.team["id"], "custom_only": "true"})
    return {c["id"]: c for c in resp.json()}


def test_a_team_admin_gets_a_new_token_and_the_old_one_is_gone(world):
    command = make_command(world, "incident")  # made by the bot, rotated by the team's admin
    resp = call(world, "admin", "PUT", f"/commands/{command['id']}/regen_token")
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/json"
    body = resp.json()
    assert set(body) == {"token"} and is_valid_id(body["token"]) and body["token"] != command["token"]
    stored = listed(world)[command["id"]]
    assert stored["token"] == body["token"] and stored["update_at"] >= command["update_at"]


def test_someone_who_may_not_manage_the_teams_commands_learns_nothing(world):
    command = make_command(world)
    assert_error(call(world, "alice", "PUT", f"/commands/{command['id']}/regen_token"), 404, "store.sql_command.save.get.app_error")
    assert listed(world)[command["id"]]["token"] == command["token"]


def test_a_missing_deleted_or_malformed_command(world):
    command = make_command(world)
    assert_error(call(world, "admin", "PUT", f"/commands/{new_id()}/regen_token"), 404, "store.sql_command.save.get.app_error")
    assert_error(call(world, "admin", "PUT", "/commands/not-an-id/regen_token"), 400, "api.context.invalid_url_param.app_error")
    assert call(world, "admin", "DELETE", f"/commands/{command['id']}").status_code == 200
    assert_error(call(world, "admin", "PUT", f"/commands/{command['id']}/regen_token"), 404, "store.sql_command.save.get.app_error")


def test_with_commands_disabled_the_lookup_fails_first(world):
    command = make_command(world)
    world.d.set_config(EnableCommands=False)
    assert_error(call(world, "admin", "PUT", f"/commands/{command['id']}/regen_token"), 404, "store.sql_command.save.get.app_error")


def test_without_a_session_it_is_401(world):
    command = make_command(world)
    resp = requests.put(world.d.url + f"/api/v4/commands/{command['id']}/regen_token", timeout=10)
    assert resp.status_code == 401
