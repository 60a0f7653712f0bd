"""Run like the rest of the stack: probes that tell the truth, Prometheus metrics, JSON log lines.

One double and one bot serve the module. The bot logs JSON (`BOT_LOG_FORMAT=json`) and runs its
update cadences fast (`UPDATES_TIME_SCALE`, as in test_updates.py) so that a reminder is sent
within seconds. The websocket test takes the bot's connection away; it runs late, and waits
until the bot is ready again before it ends.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.blackhole import BlackHoleProxy
from tests.e2e.harness import BotProcess, free_port, wait_until, one_bot_per_module
from tests.e2e.steps import button, checklist_post, command, start, wait_for_checklist

pytestmark = pytest.mark.e2e

ENV = {"UPDATES_TIME_SCALE": "0.004", "UPDATES_SWEEP_SECONDS": "0.5", "BOT_LOG_FORMAT": "json"}
MATTERMOST_ID = re.compile(r"[a-z0-9]{26}")


double, world, bot = one_bot_per_module("operations", extra_env=ENV)


@pytest.fixture(scope="module")
def alice(world, bot):
    user = world.person("alice")
    yield user
    user.close()


def name() -> str:
    return f"Ops {uuid.uuid4().hex[:6]}"


def ready(bot) -> httpx.Response:
    return httpx.get(bot.url + "/readyz", timeout=10)


def scrape(bot) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics, by name and labels, read with Prometheus' own parser."""
    response = httpx.get(bot.url + "/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples}


def value(samples: dict, metric: str, **labels: str) -> float:
    return samples.get((metric, tuple(sorted(labels.items()))), 0.0)


# ---- probes ----------------------------------------------------------------------------------------
def test_live_and_the_old_healthz(bot):
    for path in ("/livez", "/healthz"):
        response = httpx.get(bot.url + path, timeout=10)
        assert response.status_code == 200 and response.json() == {"status": "OK"}


def test_ready_names_each_check(bot):
    response = ready(bot)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready" and body["not_ready"] == []
    assert body["checks"] == {"login": "ok", "websocket": "ok", "database": "ok", "commands": "ok"}


# ---- metrics ---------------------------------------------------------------------------------------
def test_counters_move_after_a_command_and_a_click(world, bot, alice):
    before = scrape(bot)
    channel = start(alice, world, name())
    assert "Added item" in command(alice, world, "/incident checkadd Page the DBA", channel["id"])
    post = world.double.get_post(checklist_post(world, channel["id"])["id"])
    status, _ = alice.click(post["id"], button(post, "Page the DBA")["id"])
    assert status == 200
    wait_for_checklist(world, channel["id"], "(1/1)")
    forged = httpx.post(bot.url + "/hooks/action", json={"user_id": alice.me["id"], "context": {"callback": "tick"}}, timeout=10)
    assert forged.status_code == 401
    after = scrape(bot)

    def moved(metric: str, **labels: str) -> float:
        return value(after, metric, **labels) - value(before, metric, **labels)

    assert moved("incident_bot_requests_total", kind="command", outcome="ok") >= 2
    assert moved("incident_bot_requests_total", kind="click", outcome="ok") == 1
    assert moved("incident_bot_requests_total", kind="click", outcome="refused") == 1
    assert moved("incident_bot_request_seconds_count", kind="command") >= 2
    assert moved("incident_bot_request_seconds_count", kind="click") == 2
    # the click re-rendered the checklist message: a PUT on the route, never on the post's own path
    assert moved("incident_bot_mattermost_api_calls_total", method="PUT", route="/posts/{id}/patch", status="200") >= 1
    assert moved("incident_bot_mattermost_api_calls_total", method="POST", route="/channels", status="201") >= 1
    routes = {dict(labels)["route"] for (metric, labels) in after if metric == "incident_bot_mattermost_api_calls_total"}
    assert routes and not any(MATTERMOST_ID.search(route) for route in routes), routes
    assert value(after, "incident_bot_active_incidents", severity="3") >= 1
    assert ("incident_bot_active_incidents", (("severity", "1"),)) in after  # every severity, even at 0
    assert value(after, "incident_bot_websocket_connected") == 1
    assert ("process_resident_memory_bytes", ()) in after


def test_reminders_sent_are_counted(world, bot, alice):
    before = value(scrape(bot), "incident_bot_reminders_sent_total")
    start(alice, world, f"{name()} --severity 1")  # SEV1: an update every 15 minutes, 3.6 s at this time scale
    wait_until(lambda: value(scrape(bot), "incident_bot_reminders_sent_total") > before, 30, bot.log)
    assert ("incident_bot_reminders_due", ()) in scrape(bot)


# ---- the websocket goes, and comes back ----------------------------------------------------------------
def test_ready_flips_while_the_server_refuses_the_websocket_and_back(world, bot):
    before = scrape(bot)
    world.double.block_websockets(600)
    world.double.drop_websockets(user_id=world.bot_user["id"])
    try:
        # not ready once the connection has been gone longer than the heartbeat (2 s here)
        wait_until(lambda: ready(bot).status_code == 503, 30, bot.log)
        body = ready(bot).json()
        assert body["status"] == "not ready" and body["not_ready"] == ["websocket"], body
        assert body["checks"]["websocket"].startswith("disconnected for")
        assert value(scrape(bot), "incident_bot_websocket_connected") == 0
    finally:
        world.double.block_websockets(0)
    wait_until(lambda: ready(bot).status_code == 200, 60, bot.log)
    after = scrape(bot)
    assert value(after, "incident_bot_websocket_reconnects_total") == value(before, "incident_bot_websocket_reconnects_total") + 1
    assert value(after, "incident_bot_websocket_disconnected_seconds_total") >= 2
    assert value(after, "incident_bot_websocket_connected") == 1


# ---- logs ---------------------------------------------------------------------------------------------
def test_log_lines_are_json_with_ids_and_no_secret_or_message_text(world, bot, alice):
    secret_words = f"zebra crossing {uuid.uuid4().hex}"
    dm = alice.driver.channels.create_direct_message_channel([alice.me["id"], world.bot_user["id"]])
    alice.post(dm["id"], secret_words)  # no command: read and ignored
    alice.post(dm["id"], "help")
    alice.wait_event("posted", lambda ev: ev["data"]["post"]["user_id"] == world.bot_user["id"]
                     and ev["data"]["post"]["channel_id"] == dm["id"])
    assert "Added item" in command(alice, world, f"/incident checkadd {secret_words}", start(alice, world, name())["id"])

    lines = [json.loads(line) for line in bot.log().splitlines() if line.strip()]  # each line is one JSON object
    assert lines and all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"]) for line in lines)
    about_alice = [line for line in lines if line.get("user_id") == alice.me["id"]]
    assert about_alice and all(line.get("team_id") == world.team["id"] for line in about_alice)
    assert world.bot_token not in bot.log()
    assert secret_words not in bot.log()


# The tests below start a bot of their own, which points /incident at itself: they come last.

# ---- the database goes, and comes back (PostgreSQL: a network path that can go silent) -----------------
@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL (TEST_DATABASE_URL)")
def test_ready_flips_while_the_database_does_not_answer_and_back(world, tmp_path):
    url = urlsplit(os.environ["TEST_DATABASE_URL"])
    hole = BlackHoleProxy(url.port or 5432)
    through_hole = urlunsplit(url._replace(netloc=url.netloc.replace(f":{url.port or 5432}", "") + f":{hole.port}"))
    process = BotProcess(world, tmp_path, database_url=through_hole).start().wait_ready()
    try:
        wait_until(lambda: ready(process).status_code == 200, 30, process.log)
        hole.go_silent()
        wait_until(lambda: ready(process).status_code == 503, 30, process.log)
        body = ready(process).json()
        assert body["not_ready"] == ["database"] and body["checks"]["database"].startswith("no answer within"), body
        hole.recover()
        wait_until(lambda: ready(process).status_code == 200, 60, process.log)
    finally:
        hole.recover()
        code = process.stop()
        hole.close()
    assert code == 0, process.log()


# ---- a separate port for operations -----------------------------------------------------------------------
def test_a_metrics_port_serves_the_probes_and_metrics_apart_from_the_callbacks(world, tmp_path):
    port = free_port()
    process = BotProcess(world, tmp_path, database_url=os.environ.get("TEST_DATABASE_URL"),
                         extra_env={"BOT_METRICS_PORT": str(port)}).start().wait_ready()
    try:
        operations = f"http://127.0.0.1:{port}"
        wait_until(lambda: httpx.get(operations + "/readyz", timeout=10).status_code == 200, 30, process.log)
        assert httpx.get(operations + "/livez", timeout=10).json() == {"status": "OK"}
        assert "incident_bot_requests_total" in httpx.get(operations + "/metrics", timeout=10).text
        # the callback port keeps only what Mattermost calls, and the old /healthz
        assert httpx.get(process.url + "/metrics", timeout=10).status_code == 404
        assert httpx.get(process.url + "/readyz", timeout=10).status_code == 404
        assert httpx.get(process.url + "/healthz", timeout=10).status_code == 200
    finally:
        assert process.stop() == 0
