"""Button contexts and dialog states come back from Mattermost unauthenticated: only what
the bot signed is trusted."""

import pytest

from chat.signing import ForgedPayload, Signer
from chat.web import CommandTokens

signer = Signer("secret-one")


def test_a_signed_context_comes_back_intact_with_the_menu_choice():
    context = signer.sign_context({"a": "tick", "incident": 7, "item": 3})
    assert signer.verify_context({**context, "selected_option": "x"}) == {"a": "tick", "incident": 7, "item": 3, "selected_option": "x"}


@pytest.mark.parametrize("tamper", [
    lambda c: {**c, "item": 4},
    lambda c: {k: v for k, v in c.items() if k != "sig"},
    lambda c: {**c, "sig": c["sig"][:-1] + ("0" if c["sig"][-1] != "0" else "1")},
    lambda c: Signer("secret-two").sign_context({"a": "tick", "incident": 7, "item": 3}),
    lambda c: "not a dict",
])
def test_a_changed_or_foreign_context_is_refused(tamper):
    context = signer.sign_context({"a": "tick", "incident": 7, "item": 3})
    with pytest.raises(ForgedPayload):
        signer.verify_context(tamper(context))


def test_dialog_state_round_trip_and_tampering():
    state = signer.sign_state({"d": "start", "post": "abc", "names": ["Zürich"]})
    assert signer.verify_state(state) == {"d": "start", "post": "abc", "names": ["Zürich"]}
    body, mac = state.split(".")
    for forged in (body + "." + "0" * 64, "x" + state, state + ".", "", None, 12):
        with pytest.raises(ForgedPayload):
            signer.verify_state(forged)


def test_command_tokens_are_bound_to_their_team():
    tokens = CommandTokens()
    assert not tokens.is_valid("anything", "team1")
    tokens.set("team1", "tok1")
    tokens.set("team2", "tok2")
    assert tokens.is_valid("tok1", "team1") and tokens.is_valid("tok2", "team2")
    assert not tokens.is_valid("tok1", "team2"), "a team's token must not work for another team"
    assert not tokens.is_valid("tok3", "team1") and not tokens.is_valid("", "team1") and not tokens.is_valid("tok1", "")
    tokens.set("team1", "tok9")
    assert not tokens.is_valid("tok1", "team1")
    assert not tokens.is_valid("tök", "team1")


def test_a_token_registered_by_another_replica_is_found_in_the_database():
    stored = {"team3": "tok3"}
    tokens = CommandTokens(fallback=stored.get)
    assert tokens.is_valid("tok3", "team3")
    assert not tokens.is_valid("tok3", "team4")


def test_non_ascii_signatures_are_forged_not_errors():
    context = signer.sign_context({"a": "tick"})
    with pytest.raises(ForgedPayload):
        signer.verify_context({**context, "sig": "é" * 64})
    with pytest.raises(ForgedPayload):
        signer.verify_state("e30.é")
