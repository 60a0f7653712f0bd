"""Signed clicks are bound to the action URL's secret and to an age (issue 13, part 4)."""
from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from chat.context import action_url
from chat.signing import ForgedPayload, Signer
from chat.web import DAY_SECONDS, CallbackChecks, CallbackServer, CommandTokens, NotAccepted
from config.settings import BotSettings
from render.callbacks import StartDialog, TickItem

signer = Signer("secret")
SECRET = "s3cret-" + "x" * 20
NOW = 1_800_000_000


def server(checks: CallbackChecks) -> CallbackServer:
    return CallbackServer("127.0.0.1", 0, signer, CommandTokens(), listeners=lambda: [], checks=checks)


def click(context: dict, query: dict | None = None):
    request = SimpleNamespace(query=query or {}, headers={})
    return request, {"user_id": "u1", "context": context}


def tick(**fields) -> dict:
    return signer.sign_context(TickItem(incident_id=1, item_id=2, checked=True, **fields).payload())


# ---- the issue time ----------------------------------------------------------------------------------
def test_every_payload_says_when_it_was_made_and_keeps_an_explicit_time():
    before = int(time.time())
    assert before <= TickItem(incident_id=1, item_id=2, checked=True).payload()["issued_at"] <= int(time.time())
    assert TickItem(incident_id=1, item_id=2, checked=True, issued_at=5).payload()["issued_at"] == 5


def test_the_issue_time_is_signed():
    context = tick()
    with pytest.raises(ForgedPayload):
        signer.verify_context({**context, "issued_at": context["issued_at"] + 31 * 86_400})


@pytest.mark.parametrize("age_days, refused", [(29.9, False), (30.1, True)])
def test_contexts_are_refused_after_the_maximum_age(age_days, refused):
    checks = CallbackChecks(max_age_seconds=30 * DAY_SECONDS)
    assert checks.too_old(int(NOW - age_days * DAY_SECONDS), NOW) is refused


def test_untimed_contexts_of_older_messages_age_from_this_versions_first_start():
    first_start = NOW - 10 * DAY_SECONDS
    checks = CallbackChecks(max_age_seconds=30 * DAY_SECONDS, untimed_since=first_start)
    assert not checks.too_old(0, NOW), "accepted for now: they look as old as this version"
    assert checks.too_old(0, first_start + 30.5 * DAY_SECONDS), "and age out like the others"
    assert not CallbackChecks(untimed_since=None).too_old(0, NOW), "no record of a first start: accepted"


def test_the_settings_set_the_checks():
    checks = CallbackChecks.from_settings(BotSettings(callback_secret=SECRET, callback_max_age_days=7), 1_000_000)
    assert checks == CallbackChecks(secret=SECRET, max_age_seconds=7 * DAY_SECONDS, untimed_since=1000.0)
    assert checks.max_age == "7 days" and CallbackChecks(max_age_seconds=7200).max_age == "2 hours"


def test_a_too_old_button_or_dialog_is_answered_not_run():
    old = int(time.time()) - 31 * 86_400
    with pytest.raises(NotAccepted, match="This button is too old to trust") as refused:
        server(CallbackChecks())._authenticate("action", *click(tick(issued_at=old)))
    assert refused.value.webhook_id == "action:tick"
    state = signer.sign_state(StartDialog(for_user="u1", team_id="t1", issued_at=old).payload())
    with pytest.raises(NotAccepted, match="This dialog was opened too long ago"):
        server(CallbackChecks())._authenticate("dialog", SimpleNamespace(query={}, headers={}), {"state": state})


# ---- the callback secret ---------------------------------------------------------------------------------
def test_the_action_url_carries_the_secret_only_when_one_is_set():
    assert action_url("https://bot.example.com", "") == "https://bot.example.com/hooks/action"
    assert action_url("https://bot.example.com", SECRET) == f"https://bot.example.com/hooks/action?secret={SECRET}"


def test_with_a_secret_a_click_must_carry_it():
    guarded = server(CallbackChecks(secret=SECRET))
    assert guarded._authenticate("action", *click(tick(), {"secret": SECRET})) == "action:tick"
    with pytest.raises(ForgedPayload, match="wrong callback secret"):
        guarded._authenticate("action", *click(tick(), {"secret": "nope"}))
    with pytest.raises(ForgedPayload):
        guarded._authenticate("action", *click(tick(), {"secret": "ünïcode\udc80"}))
    with pytest.raises(NotAccepted, match="from before the bot's callback address changed"):
        guarded._authenticate("action", *click(tick()))  # a button posted before the secret was set
    with pytest.raises(ForgedPayload):
        guarded._authenticate("action", *click({"a": "tick", "sig": "0" * 64}))  # forged first, whatever the URL


def test_dialogs_need_no_secret_their_url_is_the_clients_to_see():
    # contract recordings dialog.json and ephemeral_actions.json: the open_dialog event the person's client
    # receives holds the dialog's url, and the client names that url when it submits: no secret could stay one
    state = signer.sign_state(StartDialog(for_user="u1", team_id="t1").payload())
    request = SimpleNamespace(query={}, headers={})
    assert server(CallbackChecks(secret=SECRET))._authenticate("dialog", request, {"state": state}) == "dialog:start"


def test_without_a_secret_clicks_are_taken_as_before():
    assert server(CallbackChecks())._authenticate("action", *click(tick())) == "action:tick"
