"""Alerts start incidents, end to end: an admin connects a source by slash command and pastes the URL
into "Alertmanager" (here: the test posting what Alertmanager posts); the group's incident opens, its
repeats go into it, its resolution offers End, which a person clicks. Refused deliveries, a sender's
retry, a delivery the bot took just before it was killed, and Grafana's body.

Bodies as the senders write them: tests/unit/alert_payloads.py (the formats' docs are cited there).
"""

from __future__ import annotations

import json
import os
import re
import signal
import uuid
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.blackhole import BlackHoleProxy
from tests.e2e.harness import BotProcess, one_bot_per_module, wait_until
from tests.e2e.steps import bot_posts, button, command
from tests.unit.alert_payloads import alert, alertmanager, encoded, grafana

pytestmark = pytest.mark.e2e

double, world, bot = one_bot_per_module("alerts")
URL = re.compile(r"`(http://[^`\s]+/alerts/\d+/[A-Za-z0-9_-]+)`")


@pytest.fixture(scope="module")
def admin(world, bot):
    person = world.person("admin")
    yield person
    person.close()


def connect(person, world, args: str) -> str:
    """The source's URL, read from the ephemeral answer."""
    reply = command(person, world, f"/incident alerts connect {args}")
    found = URL.search(reply)
    assert found, reply
    return found.group(1)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def send(url: str, body: dict | bytes, **options) -> httpx.Response:
    content = body if isinstance(body, bytes) else encoded(body)
    return httpx.post(url, content=content, headers={"Content-Type": "application/json"}, timeout=10, **options)


def incident_channel(world, alertname: str) -> dict:
    """The channel of the incident named after the alert (the channel name is the name, lower case)."""
    found: list[dict] = []

    def opened() -> bool:
        channel = world.double.channel_by_name(world.team["id"], alertname.lower())
        found[:] = [channel] if channel else []
        return bool(found)

    wait_until(opened, 10)
    return found[0]


def posts_with(world, channel_id: str, text: str) -> list[dict]:
    return [p for p in bot_posts(world, channel_id) if text in p["message"] + json.dumps(p.get("props") or {})]


def wait_for_post(world, channel_id: str, text: str) -> dict:
    wait_until(lambda: posts_with(world, channel_id, text), 10,
               lambda: "\n---\n".join(p["message"] for p in bot_posts(world, channel_id)))
    return posts_with(world, channel_id, text)[-1]


# ---- connecting -----------------------------------------------------------------------------------
def test_only_admins_connect_sources_and_the_list_never_shows_the_secret(world, bot, admin):
    alice = world.person("alice")
    try:
        refused = command(alice, world, "/incident alerts connect sneaky")
        assert refused == "Only team and system admins can manage alert sources; ask one of them."
    finally:
        alice.close()
    url = connect(admin, world, "prometheus-list --severity 2")
    secret = url.rsplit("/", 1)[1]
    listing = command(admin, world, "/incident alerts list")
    assert "prometheus-list" in listing and "SEV2" in listing
    assert secret not in listing
    assert "--severity is 1 (most severe), 2, 3 or 4." in command(admin, world, "/incident alerts connect x --severity 7")
    assert "`/incident alerts connect <name> [--playbook" in command(admin, world, "/incident help")


# ---- one group's life -----------------------------------------------------------------------------
def test_a_firing_group_opens_an_incident_its_repeats_go_into_it_and_its_end_is_offered(world, bot, admin):
    url = connect(admin, world, "alertmanager-prod")
    name = unique("DatabaseDown")
    group = f'{{}}:{{alertname="{name}"}}'
    first = alert(name, "fp-1", severity="critical", instance="db-1", job="postgres")
    assert send(url, alertmanager(first, group_key=group)).json() == {"status": "accepted"}

    channel = incident_channel(world, name)
    announced = wait_for_post(world, channel["id"], "started the incident")
    assert f"@admin started the incident **{name}** and is its commander." in announced["message"]
    assert "SEV1" in json.dumps(wait_for_post(world, channel["id"], "Checklist for")["props"])
    details = wait_for_post(world, channel["id"], "Opened by alert source")
    assert "instance=`db-1`" in details["message"] and "job=`postgres`" in details["message"]
    assert "[Open the source of this alert](http://prometheus.example:9090/graph" in details["message"]

    second = alert(name, "fp-2", severity="critical", instance="db-2", job="postgres")
    assert send(url, alertmanager(first, second, group_key=group, common_labels={"alertname": name})).status_code == 200
    changed = wait_for_post(world, channel["id"], "**Now firing** (1):")
    assert "instance=`db-2`" in changed["message"]

    resolved = [alert(name, fp, status="resolved", instance=i) for fp, i in (("fp-1", "db-1"), ("fp-2", "db-2"))]
    assert send(url, alertmanager(*resolved, group_key=group, status="resolved")).status_code == 200
    offer = wait_for_post(world, channel["id"], "All alerts of this group resolved at")
    assert world.double.channel_by_name(world.team["id"], name.lower())["delete_at"] == 0  # not ended by itself

    status, _ = admin.click(offer["id"], button(offer, "End incident")["id"])
    assert status == 200
    prompt = admin.wait_event("ephemeral_message", lambda ev: "Yes, end it" in str(ev["data"]["post"].get("props")))
    action = button(prompt["data"]["post"], "Yes, end it")
    status, _ = admin.click(prompt["data"]["post"]["id"], action["id"], cookie=action.get("cookie"))
    assert status == 200
    wait_until(lambda: world.double.channel(channel["id"])["delete_at"] > 0, 10)


def test_a_grafana_contact_point_opens_an_incident_too(world, bot, admin):
    url = connect(admin, world, "grafana-cloud --severity 3")
    name = unique("HighMemoryUsage")
    assert send(url, grafana(alert(name, "c6eadffa33fcdf37", team="blue", severity="critical"))).status_code == 200
    channel = incident_channel(world, name)
    assert "(Grafana)" in wait_for_post(world, channel["id"], "Opened by alert source")["message"]
    assert "SEV3" in json.dumps(wait_for_post(world, channel["id"], "Checklist for")["props"])  # the source's, not the label's


# ---- what is refused, and what is sent twice ----------------------------------------------------------
def test_wrong_secret_bad_json_and_a_huge_body_are_refused_with_the_reason(world, bot, admin):
    url = connect(admin, world, "refusals")
    secret = url.rsplit("/", 1)[1]
    wrong = send(url[: -len(secret)] + "x" * len(secret), alertmanager(alert("A", "f")))
    assert wrong.status_code == 401
    assert send(url.rsplit("/", 1)[0], alertmanager(alert("A", "f"))).status_code == 401  # no secret at all
    assert "refused an alert delivery" in bot.log() and "wrong or missing secret" in bot.log()

    bad = send(url, b'{"version": "4", "groupKey": ')
    assert bad.status_code == 400 and "not valid JSON" in bad.json()["error"]
    not_ours = send(url, {"version": "4", "groupKey": "g", "status": "firing", "alerts": "none"})
    assert (not_ours.status_code, not_ours.json()["error"]) == (400, "alerts must be a list")

    huge = send(url, b'{"pad": "' + b"x" * (1024 * 1024) + b'"}')
    assert huge.status_code == 413

    def chunks():  # no Content-Length: the size is counted while reading
        for _ in range(20):
            yield b"x" * 65536
    streamed = httpx.post(url, content=chunks(), headers={"Content-Type": "application/json"}, timeout=10)
    assert streamed.status_code == 413
    assert secret not in bot.log()


def test_a_delivery_sent_twice_opens_one_incident(world, bot, admin):
    url = connect(admin, world, "retries")
    name = unique("DiskFull")
    body = alertmanager(alert(name, "fp-disk"), group_key=f"{{}}:{{alertname={name}}}")
    assert send(url, body).json() == {"status": "accepted"}
    assert send(url, body).json() == {"status": "duplicate"}
    again = {**body, "receiver": "retried with another body, same group"}
    assert send(url, again).json() == {"status": "accepted"}
    source_id = url.split("/alerts/", 1)[1].split("/")[0]
    channel = incident_channel(world, name)
    wait_for_post(world, channel["id"], "Opened by alert source")
    wait_until(lambda: f"of source {source_id}: nothing new for incident" in bot.log(), 10, bot.log)
    assert bot.log().count(f"alert source {source_id} opened incident") == 1
    metrics = httpx.get(bot.url + "/metrics", timeout=10).text
    assert re.search(r'incident_bot_alerts_received_total\{outcome="duplicate"\} [1-9]', metrics), metrics


# ---- a restart ---------------------------------------------------------------------------------------------
def test_a_delivery_taken_just_before_the_bot_is_killed_is_processed_once_it_is_back(own_world):
    world, folder = own_world
    hole = BlackHoleProxy(urlsplit(world.double.url).port)
    admin = world.person("admin")
    database = os.environ.get("TEST_DATABASE_URL")
    first = BotProcess(world, folder, database_url=database,
                       extra_env={"MATTERMOST_URL": f"http://127.0.0.1:{hole.port}"}).start().wait_ready()
    try:
        url = connect(admin, world, "restarts")
        hole.go_silent()  # Mattermost stops answering this bot: it can store the delivery, not act on it
        name = unique("KilledMidway")
        assert send(url, alertmanager(alert(name, "fp-k"))).json() == {"status": "accepted"}
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(15)
        assert world.double.channel_by_name(world.team["id"], name.lower()) is None
        # the same port: the URL Alertmanager was given stays right
        second = BotProcess(world, folder, database_url=database)
        second.port, second.env["BOT_LISTEN_PORT"] = first.port, str(first.port)
        second.start().wait_ready()
        try:
            channel = incident_channel(world, name)
            wait_for_post(world, channel["id"], "Opened by alert source")
        finally:
            assert second.stop() == 0
        assert "opened incident" in second.log() and "opened incident" not in first.log()
        assert "Traceback" not in second.log()
    finally:
        admin.close()
        hole.close()
