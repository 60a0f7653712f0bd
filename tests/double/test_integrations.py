"""Slash commands, buttons, dialogs and the outgoing-request switches, driven by SimUser."""
import time

import pytest
import requests
from mattermostdriver.exceptions import FeatureDisabled


def _command(world, url, trigger="incident"):
    admin = world.sim("admin")
    return admin.driver.client.post("/commands", options={
        "team_id": world.team["id"], "trigger": trigger, "method": "P", "url": url + "/cmd"})


def test_command_form_post_responses_and_response_url(world, integration):
    answers = iter([(200, {"response_type": "in_channel", "text": "Incident **started**"}),
                    (200, "plain words"),
                    (200, {"text": "later"})])
    integ = integration(lambda path, headers, body: next(answers))
    cmd = _command(world, integ.url)
    alice = world.sim("alice")
    resp = alice.run_command(world.town["id"], "/incident start DB is down @bob")
    assert resp["response_type"] == "in_channel" and len(resp["trigger_id"]) == 26
    sent = integ.requests[0]
    assert sent["headers"]["Authorization"] == f"Token {cmd['token']}"
    assert sent["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert sent["body"]["text"] == "start DB is down @bob" and sent["body"]["command"] == "/incident"
    assert sent["body"]["user_mentions"] == "bob" and sent["body"]["team_domain"] == "ops"
    ev = alice.wait_event("posted", lambda e: e["data"]["post"]["message"] == "Incident **started**")
    assert ev["data"]["post"]["props"]["from_webhook"] == "true"
    alice.run_command(world.town["id"], "/incident list")
    eph = alice.wait_event("ephemeral_message")
    assert eph["data"]["post"]["message"] == "plain words"
    r = requests.post(sent["body"]["response_url"], json={"response_type": "in_channel", "text": "delayed"})
    assert r.status_code == 200
    alice.wait_event("posted", lambda e: e["data"]["post"]["message"] == "delayed")


def test_command_errors(world, integration):
    integ = integration(lambda path, headers, body: (500, {"error": "boom"}))
    _command(world, integ.url)
    alice = world.sim("alice")
    status, body = alice._raw("POST", "/commands/execute", {"channel_id": world.town["id"],
                                                           "command": "/incident crash"})
    assert status == 500 and body["id"] == "api.command.execute_command.failed_resp.app_error"
    status, body = alice._raw("POST", "/commands/execute", {"channel_id": world.town["id"], "command": "/nope"})
    assert status == 404 and body["id"] == "api.command.execute_command.not_found.app_error"
    world.d.set_config(AllowedUntrustedInternalConnections="")
    status, body = alice._raw("POST", "/commands/execute", {"channel_id": world.town["id"],
                                                           "command": "/incident x"})
    assert status == 500 and body["id"] == "api.command.execute_command.failed.app_error"
    assert "address forbidden" in body["detailed_error"]


def test_enable_commands_off(world):
    world.d.set_config(EnableCommands=False)
    admin = world.sim("admin")
    with pytest.raises(FeatureDisabled):
        admin.driver.client.post("/commands", options={"team_id": world.team["id"], "trigger": "x",
                                                        "method": "P", "url": "http://127.0.0.1:1/x"})


def test_button_click_update_ephemeral_and_dialog_with_expiring_trigger(world, integration):
    triggers = []

    def handler(path, headers, body):
        if path == "/action":
            triggers.append(body["trigger_id"])
            assert "Authorization" not in headers
            return 200, {"update": {"message": "Done", "props": {}}, "ephemeral_text": "You clicked"}
        return 200, {"errors": {"name": "taken"}} if body["submission"].get("name") == "dup" else {}
    integ = integration(handler)
    world.d.set_config(TriggerLifetimeSeconds=0.3)
    bot, alice, bob = world.sim("incident"), world.sim("alice"), world.sim("bob")
    chan = bot.driver.channels.create_channel(options={"team_id": world.team["id"], "name": "inc-1",
                                                       "display_name": "Inc 1", "type": "O"})
    bot.driver.channels.add_user(chan["id"], options={"user_id": alice.id})
    post = bot.post(chan["id"], "Checklist", props={"attachments": [{"text": "todo", "actions": [
        {"id": "tick1", "name": "Tick", "integration": {"url": integ.url + "/action",
                                                        "context": {"secret": "s3"}}}]}]})
    assert "integration" not in post["props"]["attachments"][0]["actions"][0]
    assert world.d.get_post(post["id"], include_integration=True)["props"]["attachments"][0]["actions"][0][
        "integration"]["context"] == {"secret": "s3"}
    status, body = alice.click(post["id"], "tick1")
    assert status == 200 and len(body["trigger_id"]) == 26
    alice.wait_event("post_edited", lambda e: e["data"]["post"]["message"] == "Done")
    alice.wait_event("ephemeral_message", lambda e: e["data"]["post"]["message"] == "You clicked")
    assert bob.click(post["id"], "tick1")[0] == 403
    assert alice.click(post["id"], "nosuch")[0] == 404

    dialog = {"callback_id": "cb", "title": "Start", "notify_on_cancel": True, "state": "st",
              "elements": [{"display_name": "Name", "name": "name", "type": "text"}]}
    r = requests.post(world.d.url + "/api/v4/actions/dialogs/open",
                      json={"trigger_id": triggers[0], "url": integ.url + "/dialog", "dialog": dialog})
    assert r.status_code == 200
    opened = alice.wait_event("open_dialog")
    assert opened["data"]["dialog"]["trigger_id"] == body["trigger_id"]
    status, answer = alice.submit_dialog(opened, {"name": "dup"})
    assert status == 200 and answer == {"errors": {"name": "taken"}}
    assert alice.submit_dialog(opened, {}, cancelled=True)[0] == 200
    assert integ.requests[-1]["body"]["cancelled"] is True and integ.requests[-1]["body"]["state"] == "st"

    time.sleep(0.4)  # past the configured trigger lifetime
    r = requests.post(world.d.url + "/api/v4/actions/dialogs/open",
                      json={"trigger_id": triggers[0], "url": integ.url + "/dialog", "dialog": dialog})
    assert r.status_code == 400 and r.json()["id"] == "interactive_message.decode_trigger_id.expired"


def test_ephemeral_cookie_rules(world, integration):
    answers = iter([(200, {"ephemeral_text": "ok"}), (200, {"update": {"message": "x"}})])
    integ = integration(lambda path, headers, body: next(answers))
    bot, alice = world.sim("incident"), world.sim("alice")
    bot.driver.client.post("/posts/ephemeral", options={"user_id": alice.id, "post": {
        "channel_id": world.town["id"], "message": "", "props": {"attachments": [{"actions": [
            {"id": "go", "name": "Go", "integration": {"url": integ.url + "/a"}}]}]}}})
    ev = alice.wait_event("ephemeral_message")
    action = ev["data"]["post"]["props"]["attachments"][0]["actions"][0]
    pid, cookie = ev["data"]["post"]["id"], action["cookie"]
    assert "integration" not in action
    assert alice.click(pid, "go")[0] == 403
    assert alice.click(pid, "go", cookie="tampered" + cookie[8:])[0] == 400
    assert alice.click(pid, "go", cookie=cookie)[0] == 200
    status, body = alice.click(pid, "go", cookie=cookie)
    assert status == 404 and body["id"] == "app.post.get.app_error"


def test_untrusted_connections_switch(world, integration):
    integ = integration(lambda path, headers, body: (200, {}))
    world.d.set_config(AllowedUntrustedInternalConnections="")
    bot, alice = world.sim("incident"), world.sim("alice")
    post = bot.post(world.town["id"], "x", props={"attachments": [{"actions": [
        {"id": "a1", "name": "A", "integration": {"url": integ.url + "/a"}}]}]})
    status, body = alice.click(post["id"], "a1")
    assert status == 400 and "address forbidden" in body["detailed_error"]
    assert integ.requests == []


def test_control_api_and_permissions(world):
    d = world.d
    r = requests.post(d.url + "/_double/users", json={"username": "carol"})
    carol = r.json()
    tok = requests.post(d.url + "/_double/tokens", json={"user_id": carol["id"]}).json()["token"]
    requests.post(d.url + "/_double/team_members", json={"team_id": world.team["id"], "user_id": carol["id"]})
    requests.post(d.url + "/_double/config", json={"EnableCommands": False})
    assert d.config["EnableCommands"] is False
    me = requests.get(d.url + "/api/v4/users/me", headers={"Authorization": f"Token {tok}"})
    assert me.json()["username"] == "carol" and me.headers["Content-Type"] == "application/json"
    other = requests.get(d.url + f"/api/v4/users/{world.users['alice']['id']}/teams",
                         headers={"Authorization": f"Bearer {tok}"})
    assert other.status_code == 403
    assert requests.get(d.url + "/api/v4/users/me").json()["id"] == "api.context.session_expired.app_error"
    assert requests.get(d.url + "/api/v4/nothing/here").json()["id"] == "api.context.404.app_error"
