"""Incidents end to end: people start, command, tick, end and restart them in chat.

One double and one bot serve the module (each test names its incidents apart); each test gets
its own simulated people, so the events one test waits for are its own.
"""

import threading


from tests.e2e.harness import one_bot_per_module, wait_until
from tests.e2e.steps import bot_posts, button, channel_named, checklist_post, checklist_text, command, start, wait_for_checklist


double, world, bot = one_bot_per_module("incidents")


def test_starting_by_command_makes_a_channel_a_commander_and_a_checklist(world, bot, alice):
    channel = start(alice, world, "Checkout is down")

    assert channel["display_name"] == "Checkout is down"
    assert channel["name"] == "checkout-is-down" and channel["type"] == "O"
    assert alice.me["id"] in world.double.channel_members(channel["id"])
    intro = bot_posts(world, channel["id"])[0]["message"]
    assert "@alice started the incident **Checkout is down**" in intro
    assert "Commander: @alice" in checklist_text(world, channel["id"])
    assert "commander of **Checkout is down** is @alice" in command(alice, world, "/incident commander", channel["id"])


def test_the_same_name_twice_gets_a_suffixed_channel(world, bot, alice):
    first = start(alice, world, "DB down")
    second = start(alice, world, "DB down")
    assert first["name"] == "db-down"
    assert second["name"].startswith("db-down-") and len(second["name"]) <= 64


def test_starting_with_the_dialog(world, bot, alice):
    alice.run_command(world.town_square["id"], "/incident start")
    opened = alice.wait_event("open_dialog")
    dialog = opened["data"]["dialog"]["dialog"]
    assert [e["name"] for e in dialog["elements"]] == ["name", "playbook", "summary", "severity", "visibility"]

    status, answer = alice.submit_dialog(opened, {"name": "###", "visibility": "playbook"})
    assert status == 200 and "name" in answer.get("errors", {})

    status, answer = alice.submit_dialog(opened, {"name": "Payments slow", "summary": "p99 at 4s", "visibility": "private"})
    assert status == 200 and not answer.get("errors") and not answer.get("error"), answer
    channel = channel_named(world, "payments-slow")
    assert channel["type"] == "P"
    assert any("p99 at 4s" in p["message"] for p in bot_posts(world, channel["id"]))


def test_starting_from_a_reaction_quotes_the_post(world, bot, alice):
    post = alice.post(world.town_square["id"], "Error rate on checkout is 40%")
    alice.react(post["id"], "rotating_light")

    prompt = alice.wait_event("ephemeral_message", lambda ev: "Start an incident" in str(ev["data"]["post"].get("props")))
    prompt_post = prompt["data"]["post"]
    action = button(prompt_post, "Start incident")
    status, _ = alice.click(prompt_post["id"], action["id"], cookie=action.get("cookie"))
    assert status == 200
    opened = alice.wait_event("open_dialog")
    name_field = next(e for e in opened["data"]["dialog"]["dialog"]["elements"] if e["name"] == "name")
    assert name_field["default"] == "Error rate on checkout is 40%"

    status, answer = alice.submit_dialog(opened, {"name": "Checkout errors", "visibility": "playbook"},
                                         channel_id=world.town_square["id"])
    assert status == 200 and not answer.get("errors"), answer
    channel = channel_named(world, "checkout-errors")
    intro = bot_posts(world, channel["id"])[0]["message"]
    assert "> Error rate on checkout is 40%" in intro
    assert f"/pl/{post['id']}" in intro


def test_another_emoji_does_nothing(world, bot, alice):
    def prompts():
        return [ev for ev in list(alice.events) if ev["event"] == "ephemeral_message"
                and "Start an incident" in str(ev["data"]["post"].get("props"))]

    post = alice.post(world.town_square["id"], "lunch?")
    alice.react(post["id"], "pizza")
    # sync point: the bot's answer to a later reaction, so it has seen (and ignored) the pizza
    later = alice.post(world.town_square["id"], "sync point")
    alice.react(later["id"], "rotating_light")
    wait_until(lambda: prompts(), 10, bot.log)

    # the one prompt is for the later post: its button opens the dialog named after that post
    found = prompts()
    assert len(found) == 1, f"the bot prompted {len(found)} times"
    prompt = found[0]
    action = button(prompt["data"]["post"], "Start incident")
    status, _ = alice.click(prompt["data"]["post"]["id"], action["id"], cookie=action.get("cookie"))
    assert status == 200
    opened = alice.wait_event("open_dialog")
    name_field = next(e for e in opened["data"]["dialog"]["dialog"]["elements"] if e["name"] == "name")
    assert name_field["default"] == "sync point"
    assert len(prompts()) == 1, "a prompt for the pizza came late"


def test_starting_from_a_direct_message(world, bot, alice):
    dm = alice.driver.channels.create_direct_message_channel([alice.me["id"], world.bot_user["id"]])
    alice.post(dm["id"], "start Cache stampede")
    reply = alice.wait_event("posted", lambda ev: ev["data"]["post"]["user_id"] == world.bot_user["id"]
                             and ev["data"]["post"]["channel_id"] == dm["id"])
    assert "~cache-stampede" in reply["data"]["post"]["message"]
    assert channel_named(world, "cache-stampede")


def test_ticking_items_from_the_message(world, bot, alice):
    channel = start(alice, world, "Queue backlog")
    command(alice, world, "/incident checkadd Page the on-call", channel["id"])
    command(alice, world, "/incident checkadd Drain the queue", channel["id"])
    post = world.double.get_post(checklist_post(world, channel["id"])["id"])
    assert "(0/2)" in checklist_text(world, channel["id"])

    status, _ = alice.click(post["id"], button(post, "Page the on-call")["id"])
    assert status == 200
    wait_for_checklist(world, channel["id"], "(1/2)")
    assert "~~Page the on-call~~ — @alice at" in checklist_text(world, channel["id"])

    # the button now unticks
    fresh = world.double.get_post(post["id"])
    assert button(fresh, "Page the on-call")["name"].startswith("☑")
    status, _ = alice.click(fresh["id"], button(fresh, "Page the on-call")["id"])
    assert status == 200
    wait_for_checklist(world, channel["id"], "(0/2)")


def test_a_click_on_an_outdated_message_is_not_applied_twice(world, bot, alice):
    channel = start(alice, world, "Cert expiry")
    command(alice, world, "/incident checkadd Renew the certificate", channel["id"])
    stored = world.double.get_post(checklist_post(world, channel["id"])["id"], include_integration=True)
    outdated = button(stored, "Renew")["integration"]
    status, _ = alice.click(stored["id"], button(stored, "Renew")["id"])
    assert status == 200
    wait_for_checklist(world, channel["id"], "(1/1)")

    # Mattermost delivers a second click that was made on the message as it was before
    late = bot.post_raw("/hooks/action", json={"user_id": alice.me["id"], "user_name": "alice", "channel_id": channel["id"],
                                               "team_id": world.team["id"], "post_id": stored["id"], "type": "button",
                                               "trigger_id": "", "context": outdated["context"]})
    assert late.status_code == 200
    answer = late.json()
    assert "already ticked by @alice" in answer["ephemeral_text"]
    assert "(1/1)" in answer["update"]["props"]["attachments"][0]["title"]
    assert "(1/1)" in checklist_text(world, channel["id"])


def test_two_people_ticking_different_items_at_once_both_stick(world, bot, alice, bob):
    channel = start(alice, world, "Disk full")
    world.double.add_channel_member(channel["id"], bob.me["id"])
    for text in ("Find the biggest files", "Rotate logs", "Extend the volume", "Tell support"):
        command(alice, world, f"/incident checkadd {text}", channel["id"])
    post = world.double.get_post(checklist_post(world, channel["id"])["id"])
    clicks = [(alice, "Find the biggest"), (bob, "Rotate logs"), (alice, "Extend"), (bob, "Tell support")]
    results = []

    def click(person, label):
        results.append(person.click(post["id"], button(post, label)["id"])[0])

    threads = [threading.Thread(target=click, args=c) for c in clicks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200] * 4
    wait_for_checklist(world, channel["id"], "(4/4)")
    assert "@bob" in checklist_text(world, channel["id"]) and "@alice" in checklist_text(world, channel["id"])


def test_editing_the_checklist_by_command(world, bot, alice):
    channel = start(alice, world, "Slow search")
    for text in ("one", "two", "three"):
        command(alice, world, f"/incident checkadd {text}", channel["id"])
    assert "Item 2 ticked" in command(alice, world, "/incident check 2", channel["id"])
    assert "already ticked" in command(alice, world, "/incident check 1.2", channel["id"])
    assert "unticked" in command(alice, world, "/incident uncheck 2", channel["id"])
    assert "now: deux" in command(alice, world, "/incident checkrename 2 deux", channel["id"])
    assert "Moved three to position 1" in command(alice, world, "/incident checkmove 3 1", channel["id"])
    assert "Removed item 2" in command(alice, world, "/incident checkremove 2", channel["id"])
    wait_for_checklist(world, channel["id"], "1.1 three\n1.2 deux")


def test_handing_over_command(world, bot, alice, bob):
    channel = start(alice, world, "Login failures")
    refused = command(alice, world, "/incident commander @bob", channel["id"])
    assert "/invite" in refused

    world.double.add_channel_member(channel["id"], bob.me["id"])
    assert "@bob is now the commander" in command(alice, world, "/incident commander @bob", channel["id"])
    assert "already the commander" in command(alice, world, "/incident commander @bob", channel["id"])
    assert any("handed command of this incident to @bob" in p["message"] for p in bot_posts(world, channel["id"]))
    wait_for_checklist(world, channel["id"], "Commander: @bob")
    assert "no user called @\u2060nobody" in command(alice, world, "/incident commander @nobody", channel["id"])


def test_private_incidents_are_invisible_to_non_members(world, bot, alice, bob):
    channel = start(alice, world, "Secret breach --private")
    assert channel["type"] == "P"
    start(alice, world, "Public hiccup")

    bobs_list = command(bob, world, "/incident list")
    assert "Public hiccup" in bobs_list and "Secret breach" not in bobs_list
    assert "no incident called" in command(bob, world, "/incident info Secret breach")
    assert "Secret breach" in command(alice, world, "/incident list")
    admin = world.person("admin")
    assert "Secret breach" in command(admin, world, "/incident list")
    admin.close()


def test_removing_someone_from_a_private_incident_channel_removes_their_access(world, bot, alice, bob):
    channel = start(alice, world, "Quiet outage --private")
    world.double.add_channel_member(channel["id"], bob.me["id"])
    assert "Quiet outage" in command(bob, world, "/incident list")

    admin = world.person("admin")
    admin.driver.channels.remove_channel_member(channel["id"], bob.me["id"])
    admin.close()
    wait_until(lambda: "Quiet outage" not in command(bob, world, "/incident list"), 10)
    assert "no incident called" in command(bob, world, "/incident info Quiet outage")


def test_a_channel_converted_to_private_makes_the_incident_private(world, bot, alice, bob):
    channel = start(alice, world, "Leaky bucket")
    admin = world.person("admin")
    admin.driver.client.make_request("put", f"/channels/{channel['id']}/privacy", options={"privacy": "P"})
    admin.close()
    wait_until(lambda: "Leaky bucket" not in command(bob, world, "/incident list"), 10)


def test_ending_and_restarting(world, bot, alice, bob):
    channel = start(alice, world, "Broken deploy")
    # bob is in the team but not in the incident's channel: the permission check comes before
    # the "still active" one, so he learns he may not change it (and nothing about its state)
    refused = command(bob, world, "/incident restart broken-deploy")
    assert "Only members of ~broken-deploy and admins can change this incident" in refused, refused
    assert "still active" not in refused
    assert "ended" in command(alice, world, "/incident end", channel["id"])
    assert world.double.channel(channel["id"])["delete_at"] > 0
    assert "Broken deploy" not in command(alice, world, "/incident list")
    assert "Ended" in command(alice, world, "/incident info broken-deploy")

    assert "restarted" in command(alice, world, "/incident restart broken-deploy")
    assert world.double.channel(channel["id"])["delete_at"] == 0
    assert "Broken deploy" in command(alice, world, "/incident list")


def test_the_end_button_asks_to_confirm(world, bot, alice):
    channel = start(alice, world, "Flaky DNS")
    post = world.double.get_post(checklist_post(world, channel["id"])["id"])
    status, _ = alice.click(post["id"], button(post, "End incident")["id"])
    assert status == 200
    prompt = alice.wait_event("ephemeral_message", lambda ev: "Yes, end it" in str(ev["data"]["post"].get("props")))
    action = button(prompt["data"]["post"], "Yes, end it")
    status, answer = alice.click(prompt["data"]["post"]["id"], action["id"], cookie=action.get("cookie"))
    assert status == 200
    wait_until(lambda: world.double.channel(channel["id"])["delete_at"] > 0, 10)


def test_editing_the_checklist_from_the_message(world, bot, alice, bob):
    channel = start(alice, world, "Memory leak")
    post = world.double.get_post(checklist_post(world, channel["id"])["id"])

    def edit(person, submission):
        current = world.double.get_post(post["id"])
        status, _ = person.click(post["id"], button(current, "Edit checklist")["id"])
        assert status == 200
        opened = person.wait_event("open_dialog")
        return person.submit_dialog(opened, submission, channel_id=channel["id"])

    assert edit(alice, {"change": "add", "text": "Take a heap dump", "checklist": "1"})[0] == 200
    assert edit(alice, {"change": "add", "text": "Restart the pods", "checklist": "1"})[0] == 200
    wait_for_checklist(world, channel["id"], "1.2 Restart the pods")
    items = {o["text"]: o["value"] for o in edit_options(alice, world, post)}
    assert edit(alice, {"change": "move", "item": items["1.2 Restart the pods"], "position": "1"})[0] == 200
    wait_for_checklist(world, channel["id"], "1.1 Restart the pods\n1.2 Take a heap dump")
    assert edit(alice, {"change": "rename", "item": items["1.1 Take a heap dump"], "text": "Take two heap dumps"})[0] == 200
    assert edit(alice, {"change": "remove", "item": items["1.2 Restart the pods"]})[0] == 200
    wait_for_checklist(world, channel["id"], "(0/1)")
    assert "Take two heap dumps" in checklist_text(world, channel["id"])

    status, answer = edit(alice, {"change": "rename", "text": "no item picked"})
    assert status == 200 and "item" in answer["errors"]

    # someone outside the channel cannot even open the dialog
    world.double.add_channel_member(world.town_square["id"], bob.me["id"])
    status, _ = bob.click(post["id"], button(world.double.get_post(post["id"]), "Edit checklist")["id"])
    assert status == 403  # Mattermost itself refuses clicks from non-members

    # the bot does not rely on that: a click that does reach it (its context signed by the bot,
    # as stored on the message) from someone who is in the team but not in the channel is refused
    stored = world.double.get_post(post["id"], include_integration=True)
    signed = button(stored, "Edit checklist")["integration"]["context"]
    bob.clear_events()
    forwarded = bot.post_raw("/hooks/action", json={
        "user_id": bob.me["id"], "user_name": "bob", "channel_id": channel["id"], "team_id": world.team["id"],
        "post_id": post["id"], "type": "button", "trigger_id": "", "context": signed})
    assert forwarded.status_code == 200
    # the click names someone who cannot read the channel, so it did not come through Mattermost from them
    assert forwarded.json()["ephemeral_text"] == "Only members of the incident's channel can use its buttons."
    assert "open_dialog" not in bob.event_names()


def edit_options(person, world, post):
    current = world.double.get_post(post["id"])
    person.click(post["id"], button(current, "Edit checklist")["id"])
    opened = person.wait_event("open_dialog")
    return next(e for e in opened["data"]["dialog"]["dialog"]["elements"] if e["name"] == "item")["options"]


def test_archiving_the_channel_in_mattermost_ends_the_incident(world, bot, alice):
    channel = start(alice, world, "Noisy alerts")
    admin = world.person("admin")
    admin.driver.channels.delete_channel(channel["id"])
    admin.close()
    wait_until(lambda: "Noisy alerts" not in command(alice, world, "/incident list"), 10)
    assert "Ended" in command(alice, world, "/incident info Noisy alerts")


def test_a_dialog_opened_for_one_person_cannot_be_submitted_as_another(world, bot, alice, bob):
    alice.run_command(world.town_square["id"], "/incident start")
    opened = alice.wait_event("open_dialog")
    dialog = opened["data"]["dialog"]
    # bob got hold of alice's dialog (its state travels to her browser) and submits it himself
    status, answer = bob.submit_dialog(dialog, {"name": "Not yours", "visibility": "public"},
                                       channel_id=world.town_square["id"], team_id=world.team["id"])
    assert status == 200 and "someone else" in answer.get("error", "")
    assert world.double.channel_by_name(world.team["id"], "not-yours") is None
