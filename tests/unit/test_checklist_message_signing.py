"""The checklist message signs its buttons; a burst of renders of one version signs each once."""
from __future__ import annotations

import time
from types import SimpleNamespace

from render import checklist as view


def incident(version: int):
    return SimpleNamespace(id=7, version=version, is_active=True, name="Outage", commander_id="u1", severity=2,
                           last_update_at=None)


LISTS = [(SimpleNamespace(position=0, title="Checklist"),
          [SimpleNamespace(id=31 + n, position=n, title=f"step {n}", is_checked=False, checked_by=None, checked_at=None)
           for n in range(3)])]


class CountingSigner:
    def __init__(self):
        self.signed = 0

    def __call__(self, payload: dict) -> dict:
        self.signed += 1
        return {**payload, "sig": f"sig-{self.signed}"}


def contexts(message: dict) -> list[dict]:
    return [a["integration"]["context"] for att in message["props"]["attachments"] for a in att["actions"]]


def render(sign, version: int) -> dict:
    return view.checklist_message(incident(version), LISTS, lambda user_id: user_id, sign, "http://bot/hooks/action")


def test_renders_of_one_version_in_a_burst_carry_the_same_signed_buttons():
    sign = CountingSigner()
    first, again = render(sign, 4), render(sign, 4)
    assert contexts(first) == contexts(again) and sign.signed == 6  # 3 items + edit, assign, end
    assert contexts(first)[0] is not contexts(again)[0]  # copies: changing one message leaves the other alone


def test_a_tick_signs_only_the_button_of_its_item_again():
    sign = CountingSigner()
    before = render(sign, 4)
    LISTS[0][1][1].is_checked = True
    try:
        after = render(sign, 5)
    finally:
        LISTS[0][1][1].is_checked = False
    assert sign.signed == 7  # 6, and the ticked item's button, which now unticks it
    assert [c["checked"] for c in contexts(after)[:3]] == [True, False, True]
    assert [contexts(after)[n] == contexts(before)[n] for n in range(6)] == [True, False, True, True, True, True]


def test_a_message_rendered_again_later_gets_fresh_buttons(monkeypatch):
    sign = CountingSigner()
    render(sign, 4)
    later = time.time() + view.REUSE_SIGNED_FOR + 1
    monkeypatch.setattr(time, "time", lambda: later)
    fresh = render(sign, 4)
    assert sign.signed == 12 and {c["issued_at"] for c in contexts(fresh)} == {int(later)}
