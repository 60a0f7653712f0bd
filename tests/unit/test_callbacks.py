"""Buttons and dialogs carry readable, typed payloads; buttons posted by older versions still work."""

import pytest

from chat.signing import Signer
from render import callbacks
from render.callbacks import BackstagePage, ConfirmEnd, PlaybookDialog, StartFromPost, TickItem

signer = Signer("secret")


def test_a_tick_button_says_what_it_does_in_words():
    button = TickItem(incident_id=7, item_id=31, checked=True, seen_version=4, issued_at=1_800_000_000)
    assert button.payload() == {"callback": "tick", "incident_id": 7, "item_id": 31, "checked": True,
                                "seen_version": 4, "issued_at": 1_800_000_000}


def test_what_a_button_leaves_at_its_default_it_does_not_carry():
    # a checklist's buttons are most of the bytes Mattermost stores and sends on every tick
    assert TickItem(incident_id=7, item_id=31, checked=False, issued_at=1_800_000_000).payload() == {
        "callback": "tick", "incident_id": 7, "item_id": 31, "checked": False, "issued_at": 1_800_000_000}
    assert callbacks.read("action", {"callback": "backstage_page", "for_user": "u1", "team_id": "t1", "filters": {}}) == \
        BackstagePage(for_user="u1", team_id="t1", filters={}, page=1)


@pytest.mark.parametrize("callback", [
    TickItem(incident_id=7, item_id=31, checked=False),
    ConfirmEnd(for_user="u1", incident_id=7, run=2),
    StartFromPost(for_user="u1", post_id="p1", team_id="t1", from_private_channel=True),
    BackstagePage(for_user="u1", team_id="t1", filters={"status": "ended", "search": "db"}, page=3),
])
def test_a_signed_button_comes_back_as_the_same_value(callback):
    came_back = signer.verify_context(signer.sign_context(callback.payload()))
    assert callbacks.read("action", came_back) == callback


def test_a_dialog_state_comes_back_as_the_same_value():
    state = PlaybookDialog(for_user="u1", team_id="t1", playbook_id=3, version=5)
    assert callbacks.read("dialog", signer.verify_state(signer.sign_state(state.payload()))) == state


@pytest.mark.parametrize("kind, legacy, expected", [
    ("action", {"a": "tick", "i": 7, "it": 31, "c": True, "v": 4},
     TickItem(incident_id=7, item_id=31, checked=True, seen_version=4)),
    ("action", {"a": "end_confirm", "i": 7, "u": "u1", "r": 0}, ConfirmEnd(for_user="u1", incident_id=7, run=0)),
    ("action", {"a": "start_from_post", "p": "p1", "t": "t1", "u": "u1", "x": False},
     StartFromPost(for_user="u1", post_id="p1", team_id="t1")),
    ("action", {"a": "backstage_page", "u": "u1", "t": "t1", "f": {"s": "ended"}, "p": 2},
     BackstagePage(for_user="u1", team_id="t1", filters={"s": "ended"}, page=2)),
    ("dialog", {"d": "playbook", "u": "u1", "t": "t1", "i": 3, "v": 5},
     PlaybookDialog(for_user="u1", team_id="t1", playbook_id=3, version=5)),
])
def test_buttons_and_dialogs_of_older_messages_are_read_as_today(kind, legacy, expected):
    assert callbacks.read(kind, legacy) == expected


def test_a_menu_choice_beside_the_signed_fields_is_not_a_field():
    assert callbacks.read("action", {**TickItem(incident_id=1, item_id=2, checked=True).payload(),
                                     "selected_option": "x"}) == TickItem(incident_id=1, item_id=2, checked=True)


@pytest.mark.parametrize("kind, payload", [
    ("action", {"callback": "launch_missiles"}),
    ("dialog", {"callback": "tick", "incident_id": 1, "item_id": 2, "checked": True}),  # a button is no dialog
    ("action", {"callback": "tick", "incident_id": 1}),                                # fields missing
])
def test_anything_else_is_refused(kind, payload):
    with pytest.raises((KeyError, TypeError)):
        callbacks.read(kind, payload)
