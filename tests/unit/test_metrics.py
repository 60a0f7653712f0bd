"""Incident numbers: duration format, members involved, messages, item completion times."""
from __future__ import annotations

import pytest

from services import checklists, incidents, metrics
from services.metrics import PostTally, format_duration
from tests.unit.conftest import TEAM, person

MIN = 60_000
T0 = 1_700_000_000_000


@pytest.mark.parametrize("ms, text", [
    (0, "< 1m"), (59_999, "< 1m"), (60_000, "1m"), (45 * MIN, "45m"), (2 * 60 * MIN + 45 * MIN, "2h 45m"),
    (3 * 60 * MIN, "3h"), (4 * 24 * 60 * MIN + 15 * MIN, "4d 15m"), (24 * 60 * MIN + 61 * MIN + 30_000, "1d 1h 1m"),
])
def test_durations_read_like_the_original(ms, text):
    assert format_duration(ms) == text


def post(user, kind="", **props):
    return {"id": f"p{id(props)}", "user_id": user, "type": kind, "props": props}


def test_the_tally_counts_user_and_bot_posts_but_not_system_or_ephemeral_ones():
    tally = PostTally().add_all([
        post("alice"), post("alice"), post("bot", from_bot="true"), post("bob", "system_join_channel"),
        post("carol", "system_ephemeral"), post("dave", "system_add_to_channel"), post("hook-owner", from_webhook="true"),
        {**post("erin"), "delete_at": 5},
    ])
    assert tally.messages == 4
    assert tally.posters == {"alice", "bot"}


@pytest.fixture
def clock(monkeypatch):
    now = [T0]
    for module in ("services.incidents", "services.checklists", "services.timeline"):
        monkeypatch.setattr(f"{module}.now_ms", lambda: now[0])
    return now


def test_a_scripted_incident(db, clock):
    alice = person("alice", channels={"chan"})
    bob = person("bob", channels={"chan"})
    incident = incidents.start_incident(alice, TEAM, "Checkout down", "chan")
    for text in ("Page on-call", "Roll back", "Write status page"):
        checklists.add_item(alice, incident, text)
    clock[0] = T0 + 5 * MIN
    checklists.set_item_state(bob, incident, "1", True)
    clock[0] = T0 + 90 * MIN
    checklists.set_item_state(alice, incident, "2", True)
    incidents.change_commander(alice, incident, "carol", new_user_is_member=True)
    clock[0] = T0 + 2 * 60 * MIN + 45 * MIN
    ended = incidents.end_incident(alice, incident)

    # dave joined and posted, then left; erin joined and never spoke (her join is a system post)
    tally = PostTally().add_all([post("dave"), post("dave"), post("incident-bot", from_bot="true"),
                                 post("erin", "system_join_channel")])
    stats = metrics.incident_stats(ended, tally, is_bot=lambda uid: uid == "incident-bot", now=T0 + 999 * MIN)

    assert stats.duration == "2h 45m" and not stats.is_active
    # alice (creator, ticked), bob (ticked), carol (commander), dave (posted)
    assert stats.members_involved == 4
    assert stats.messages == 3
    assert [(i.label, i.done, i.after_ms) for i in stats.items] == [
        ("1.1 Page on-call", True, 5 * MIN), ("1.2 Roll back", True, 90 * MIN), ("1.3 Write status page", False, None)]
    assert stats.items_done == 2


def test_an_ongoing_incident_lasts_until_now(db, clock):
    alice = person("alice", channels={"chan"})
    incident = incidents.start_incident(alice, TEAM, "Slow", "chan")
    stats = metrics.incident_stats(incident, PostTally(), is_bot=lambda uid: False, now=T0 + 4 * 24 * 60 * MIN + 15 * MIN)
    assert stats.is_active and stats.duration == "4d 15m" and stats.members_involved == 1
