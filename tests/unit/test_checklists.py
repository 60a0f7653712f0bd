"""Ticking, adding, removing, renaming and moving incident checklist items."""
from __future__ import annotations

import threading

import pytest

from models import ChecklistItem, db as proxy
from services import checklists as cl
from services import incidents as svc
from services import playbooks as pb
from services.checklists import TickOutcome
from services.errors import Conflict, Forbidden, Invalid, NotFound
from services.timeline import events_for
from tests.unit.conftest import TEAM, person

alice = person("alice", channels=["c1"])
bob = person("bob", channels=["c1"])
carol = person("carol")


@pytest.fixture
def incident(db):
    playbook = pb.create_playbook(alice, TEAM, "Outage", checklists_text="One\nTwo\nThree\nFour\n## Later\nPostmortem")
    return svc.start_incident(alice, TEAM, "Outage", "c1", playbook=playbook, is_private=False)


def titles(incident, checklist=0):
    return [i.title for i in cl.checklists_of(incident)[checklist][1]]


def item(incident, checklist, number):
    return cl.checklists_of(incident)[checklist][1][number]


def test_ticking_an_item_records_who_and_when_and_bumps_the_version(incident):
    result = cl.set_item_state(bob, incident, "2", True)
    assert result.outcome is TickOutcome.APPLIED
    assert result.item.is_checked and result.item.checked_by == "bob" and result.item.checked_at
    assert result.version == incident.version + 1 == svc.reload(incident).version
    event = events_for(incident)[-1]
    assert (event.kind, event.actor_id) == ("item_checked", "bob")
    assert event.data == {"item_id": result.item.id, "checklist_id": result.item.checklist_id,
                          "checklist_number": 1, "item_number": 2}


def test_ticking_twice_applies_once(incident):
    cl.set_item_state(bob, incident, "1.2", True)
    again = cl.set_item_state(alice, incident, "1.2", True)
    assert again.outcome is TickOutcome.ALREADY
    assert again.item.checked_by == "bob"
    assert [e.kind for e in events_for(incident)].count("item_checked") == 1
    assert svc.reload(incident).version == incident.version + 1


def test_unticking_clears_the_check_and_is_recorded(incident):
    cl.set_item_state(bob, incident, "2.1", True)
    result = cl.set_item_state(alice, incident, "2.1", False)
    assert result.outcome is TickOutcome.APPLIED
    assert result.item.checked_by is None and result.item.checked_at is None
    assert events_for(incident)[-1].kind == "item_unchecked"


def test_a_button_from_an_older_message_still_ticks_its_item(incident):
    cl.add_item(alice, incident, "Inserted meanwhile")
    target = item(incident, 0, 0)
    result = cl.set_item_state(bob, incident, target.id, True)
    assert result.outcome is TickOutcome.APPLIED and result.item.id == target.id
    assert ChecklistItem.get_by_id(target.id).is_checked


def test_a_typed_number_names_the_item_at_that_place_now(incident):
    cl.move_item(alice, incident, "1.4", 1)  # "1.1" now means another item
    result = cl.set_item_state(bob, incident, "1.1", True)
    assert result.outcome is TickOutcome.APPLIED and result.item.title == "Four"


def test_two_people_ticking_different_items_at_the_same_time_both_stick(incident):
    ids = [i.id for i in cl.checklists_of(incident)[0][1]]
    barrier = threading.Barrier(len(ids))
    errors = []

    def tick(user, item_id):
        try:
            barrier.wait()
            cl.set_item_state(person(user, channels=["c1"]), incident, item_id, True)
        except Exception as exc:  # collected: an exception in a thread would not fail the test
            errors.append(exc)
        finally:
            proxy.close()

    threads = [threading.Thread(target=tick, args=(f"user{n}", i)) for n, i in enumerate(ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert all(i.is_checked for i in cl.checklists_of(incident)[0][1])
    assert svc.reload(incident).version == incident.version + len(ids)
    assert sorted(e.data["item_id"] for e in events_for(incident) if e.kind == "item_checked") == sorted(ids)


def test_two_people_ticking_the_same_item_at_once_apply_it_once(incident):
    target = item(incident, 0, 0).id
    barrier = threading.Barrier(2)
    outcomes, errors = [], []

    def tick(user):
        try:
            barrier.wait()
            outcomes.append(cl.set_item_state(person(user, channels=["c1"]), incident, target, True).outcome)
        except Exception as exc:
            errors.append(exc)
        finally:
            proxy.close()

    threads = [threading.Thread(target=tick, args=(u,)) for u in ("alice", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(o.value for o in outcomes) == ["already", "applied"]


def test_an_ended_incident_checklist_cannot_change(incident):
    svc.end_incident(alice, incident)
    with pytest.raises(Conflict, match="'Outage' has ended; restart it to change its checklist"):
        cl.set_item_state(bob, incident, "1", True)
    with pytest.raises(Conflict, match="has ended"):
        cl.add_item(bob, incident, "Late idea")


def test_people_outside_the_channel_cannot_tick(incident):
    with pytest.raises(Forbidden, match="Only members of ~outage and admins"):
        cl.set_item_state(carol, incident, "1", True)


def test_references_to_missing_items_say_what_exists(incident):
    with pytest.raises(Invalid, match=r"Item 9 does not exist: checklist 1 has 4 items\."):
        cl.set_item_state(bob, incident, "9", True)
    with pytest.raises(Invalid, match=r"Checklist 3 does not exist: there are 2 checklists\."):
        cl.set_item_state(bob, incident, "3.1", True)
    with pytest.raises(Invalid, match=r"Item 2 does not exist: checklist 2 has 1 item\."):
        cl.rename_item(bob, incident, "2.2", "x")
    with pytest.raises(NotFound, match="no longer exists"):
        cl.set_item_state(bob, incident, 999999, True)


def test_an_item_id_from_another_incident_is_not_found(incident):
    other = svc.start_incident(alice, TEAM, "Other", "c2")
    cl.add_item(person("alice", channels=["c2"]), other, "Elsewhere")
    foreign = item(other, 0, 0).id
    with pytest.raises(NotFound):
        cl.set_item_state(bob, incident, foreign, True)


def test_adding_appends_to_the_chosen_checklist_and_is_recorded(incident):
    added = cl.add_item(bob, incident, "  Call   the vendor ", checklist_index=2)
    assert titles(incident, 1) == ["Postmortem", "Call the vendor"]
    assert added.position == 1
    event = events_for(incident)[-1]
    assert (event.kind, event.data["checklist_number"], event.data["item_number"]) == ("item_added", 2, 2)


def test_item_text_must_be_present_and_at_most_500_characters(incident):
    with pytest.raises(Invalid, match="needs some text"):
        cl.add_item(bob, incident, "   ")
    with pytest.raises(Invalid, match="501 characters long; keep items to 500"):
        cl.add_item(bob, incident, "x" * 501)
    assert cl.add_item(bob, incident, "x" * 500).title == "x" * 500


def test_a_checklist_holds_at_most_200_items(incident):
    for n in range(196):
        cl.add_item(bob, incident, f"step {n}")
    with pytest.raises(Invalid, match="Checklist 1 already has 200 items"):
        cl.add_item(bob, incident, "one too many")


def test_removing_renumbers_the_rest(incident):
    removed = cl.remove_item(bob, incident, "1.2")
    assert removed.title == "Two"
    assert titles(incident) == ["One", "Three", "Four"]
    assert [i.position for i in cl.checklists_of(incident)[0][1]] == [0, 1, 2]
    assert events_for(incident)[-1].kind == "item_removed"


def test_renaming_keeps_the_check(incident):
    cl.set_item_state(bob, incident, "1", True)
    renamed = cl.rename_item(alice, incident, "1", "First, really")
    assert renamed.title == "First, really" and renamed.is_checked
    assert events_for(incident)[-1].kind == "item_renamed"


@pytest.mark.parametrize(
    "ref, position, expected",
    [("1.4", 1, ["Four", "One", "Two", "Three"]), ("1", 3, ["Two", "Three", "One", "Four"]), ("2", 2, ["One", "Two", "Three", "Four"])],
)
def test_moving_an_item_puts_it_at_the_new_position(incident, ref, position, expected):
    cl.move_item(alice, incident, ref, position)
    assert titles(incident) == expected
    event = events_for(incident)[-1]
    assert event.kind == "item_moved" and event.data["item_number"] == position


def test_moving_past_the_end_is_refused(incident):
    with pytest.raises(Invalid, match=r"Position 5 is out of range: checklist 1 has 4 items, so use 1 to 4\."):
        cl.move_item(alice, incident, "1", 5)
