"""The rules of who does what by when: deadlines as people type them (in their timezone), item
owners, roles, a playbook's `[role]` and `+30m`, the to-do order, one reminder per deadline."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from models import ChecklistItem
from models.assignments import IncidentRole, ItemAssignment
from services import assignments, playbooks
from services import checklists as checklist_svc
from services import incidents as svc
from services.checklist_rules import parse_checklists_text, split_item_markup
from services.errors import Conflict, Forbidden, Invalid, NotFound
from tests.unit.conftest import TEAM, person

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
alice = person("alice", channels=["c1", "c2"])
outsider = person("mallory", team="team-b")


def ms(year, month, day, hour, minute, zone=timezone.utc) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=zone).timestamp() * 1000)


NOW = ms(2026, 12, 3, 10, 0, PARIS)  # 10:00 in Paris, 09:00 UTC


# ---- deadlines ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("typed, seconds", [("30m", 1800), ("2h", 7200), ("1d", 86400), (" 90M ", 5400)])
def test_a_duration_is_from_now_and_left_for_the_flows_to_scale(typed, seconds):
    assert assignments.parse_deadline(typed, now=NOW, zone=PARIS) == assignments.Deadline(after_seconds=seconds)


def test_a_time_of_day_is_today_in_the_persons_timezone():
    assert assignments.parse_deadline("14:00", now=NOW, zone=PARIS).at == ms(2026, 12, 3, 13, 0)
    # the same words in New York, where it is 04:00, are 19:00 UTC
    assert assignments.parse_deadline("14:00", now=NOW, zone=NEW_YORK).at == ms(2026, 12, 3, 19, 0)
    assert assignments.parse_deadline("9:05", now=NOW, zone=NEW_YORK).at == ms(2026, 12, 3, 9, 5, NEW_YORK)


def test_a_date_and_time_is_read_in_the_persons_timezone():
    assert assignments.parse_deadline("2026-12-04 09:00", now=NOW, zone=PARIS).at == ms(2026, 12, 4, 8, 0)
    assert assignments.parse_deadline("2026-12-04 09:00", now=NOW, zone=NEW_YORK).at == ms(2026, 12, 4, 14, 0)
    assert assignments.parse_deadline("2026-12-04 09:00", now=NOW, zone=timezone.utc).at == ms(2026, 12, 4, 9, 0)


def test_off_is_no_deadline():
    assert assignments.parse_deadline(" OFF ", now=NOW, zone=PARIS) is None


def test_a_time_of_day_that_has_passed_today_is_refused_with_tomorrows_spelling():
    with pytest.raises(Invalid, match=r"09:30 today has passed \(it is 10:00 in Europe/Paris\); for tomorrow write 2026-12-04 09:30"):
        assignments.parse_deadline("09:30", now=NOW, zone=PARIS)


@pytest.mark.parametrize("typed, answer", [
    ("2026-12-03 09:59", "is in the past"),
    ("2025-01-01 09:00", "is in the past"),
    ("25:00", "hours go from 00 to 23"),
    ("14:60", "minutes go from 00 to 59"),
    ("2026-12-04 24:00", "hours go from 00 to 23"),
    ("2026-02-30 09:00", "is not a date"),
    ("2026-13-01 09:00", "is not a date"),
    ("2028-01-01 09:00", "at most 365 days away"),
    ("0m", "from 1m to 365d"),
    ("400d", "from 1m to 365d"),
])
def test_deadlines_that_cannot_be_are_refused(typed, answer):
    with pytest.raises(Invalid, match=answer):
        assignments.parse_deadline(typed, now=NOW, zone=PARIS)


@pytest.mark.parametrize("typed", ["tomorrow", "9am", "in 2 hours", "14.00", "2026/12/04 09:00", "1h30m", "", "-5m", "+30m"])
def test_forms_that_are_not_supported_get_the_list_of_those_that_are(typed):
    with pytest.raises(Invalid, match="write 30m, 2h or 1d from now, 14:00 today, or 2026-12-03 09:00"):
        assignments.parse_deadline(typed, now=NOW, zone=PARIS)


def test_a_time_the_clocks_skip_does_not_exist():
    # Paris moves from 02:00 to 03:00 on 2027-03-28
    with pytest.raises(Invalid, match="02:30 does not exist on 2027-03-28 in Europe/Paris"):
        assignments.parse_deadline("2027-03-28 02:30", now=NOW, zone=PARIS)
    assert assignments.parse_deadline("2027-03-28 03:30", now=NOW, zone=PARIS).at == ms(2027, 3, 28, 1, 30)


# ---- a playbook item's role and deadline --------------------------------------------------------------
@pytest.mark.parametrize("written, title, role, offset", [
    ("[comms] Update the status page +30m", "Update the status page", "comms", 1800),
    ("[Scribe] Take notes", "Take notes", "scribe", None),
    ("Page the DBA +2h", "Page the DBA", None, 7200),
    ("[on call] Page them", "[on call] Page them", None, None),  # several words in brackets: just text
    ("Call +44 20 7946 0000", "Call +44 20 7946 0000", None, None),
    ("[comms]", "[comms]", None, None),
])
def test_an_item_may_name_its_role_and_its_deadline_after_the_start(written, title, role, offset):
    markup = split_item_markup(written)
    assert (markup.title, markup.role, markup.due_offset) == (title, role, offset)


@pytest.mark.parametrize("written, answer", [
    ("[**comms**] Tell them", r"\[\*\*comms\*\*\] is not a role name"),
    ("[9lives] Tell them", r"\[9lives\] is not a role name"),
    ("Tell them +0m", r"\+0m is not a deadline"),
    ("Tell them +3y", r"\+3y is not a deadline"),
    ("Tell them +8d", r"\+8d is not a deadline"),
])
def test_a_playbook_whose_markup_does_not_read_is_refused(written, answer):
    with pytest.raises(Invalid, match=answer):
        parse_checklists_text(f"## Comms\n{written}")


def test_a_playbook_keeps_its_items_as_written():
    [spec] = parse_checklists_text("## Comms\n- [comms] Update the status page +30m")
    assert spec.items == ["[comms] Update the status page +30m"]


# ---- owners ---------------------------------------------------------------------------------------------
@pytest.fixture
def incident(db):
    started = svc.start_incident(alice, TEAM, "Database down", "c1")
    checklist_svc.add_item(alice, started, "Page the on-call")
    checklist_svc.add_item(alice, started, "Call the vendor")
    return svc.reload(started)


def test_an_item_goes_to_a_channel_member_and_back(incident):
    given = assignments.give(alice, incident, "1", "bob", username="bob", is_member=True, now=NOW)
    assert (given.number, given.item.title, given.assignment.assignee_id, given.previous_id) == ("1.1", "Page the on-call", "bob", None)
    assert given.assignment.announced is False  # bob is yet to be told
    again = assignments.give(alice, incident, "1.1", "carol", username="carol", is_member=True, now=NOW)
    assert again.previous_id == "bob"
    taken = assignments.take_back(alice, incident, "1", now=NOW)
    assert (taken.previous_id, taken.assignment.assignee_id) == ("carol", None)
    assert svc.reload(incident).version == incident.version + 3  # every change bumps the incident


def test_who_cannot_have_an_item_and_what_cannot_be_given(incident):
    with pytest.raises(Invalid, match=r"@bob is not in ~database-down: invite them there first \(`/invite` in ~database-down"):
        assignments.give(alice, incident, "1", "bob", username="bob", is_member=False, now=NOW)
    with pytest.raises(Invalid, match="is a bot"):
        assignments.give(alice, incident, "1", "robot", username="robot", is_member=True, is_bot=True, now=NOW)
    with pytest.raises(Invalid, match="Item 7 does not exist"):
        assignments.give(alice, incident, "7", "bob", username="bob", is_member=True, now=NOW)
    with pytest.raises(NotFound):
        assignments.give(alice, incident, 99999, "bob", username="bob", is_member=True, now=NOW)
    checklist_svc.set_item_state(alice, incident, "2", True)
    with pytest.raises(Conflict, match="already ticked"):
        assignments.give(alice, incident, "2", "bob", username="bob", is_member=True, now=NOW)
    assignments.give(alice, incident, "1", "bob", username="bob", is_member=True, now=NOW)
    with pytest.raises(Conflict, match="@bob already has item 1.1"):
        assignments.give(alice, incident, "1", "bob", username="bob", is_member=True, now=NOW)
    with pytest.raises(Conflict, match="Nobody has item 1.2"):
        assignments.take_back(alice, incident, "2", now=NOW)
    assert ItemAssignment.select().count() == 1  # nothing half-applied


def test_only_people_who_may_change_the_incident_give_out_items(incident):
    with pytest.raises(NotFound):
        assignments.give(outsider, incident, "1", "bob", username="bob", is_member=True, now=NOW)
    with pytest.raises(Forbidden):
        assignments.give(person("dave"), incident, "1", "bob", username="bob", is_member=True, now=NOW)
    svc.end_incident(alice, incident)
    with pytest.raises(Conflict, match="has ended"):
        assignments.give(alice, incident, "1", "bob", username="bob", is_member=True, now=NOW)


def test_a_deadline_comes_with_one_reminder_and_a_new_deadline_with_another(incident):
    assignments.set_due(alice, incident, "1", NOW + 60_000, now=NOW)
    assert assignments.due_reminders(NOW) == []
    [due] = assignments.due_reminders(NOW + 60_000)
    assert assignments.claim_reminder(due, NOW + 60_000) is True
    assert assignments.claim_reminder(due, NOW + 61_000) is False  # another replica, a moment later
    assert assignments.due_reminders(NOW + 120_000) == []
    assignments.set_due(alice, incident, "1", NOW + 180_000, now=NOW)
    [again] = assignments.due_reminders(NOW + 180_000)
    assert assignments.claim_reminder(again, NOW + 180_000) is True
    assignments.set_due(alice, incident, "1", None, now=NOW)
    with pytest.raises(Conflict, match="has no deadline"):
        assignments.set_due(alice, incident, "1", None, now=NOW)


def test_a_ticked_item_or_an_ended_incident_is_not_reminded(incident):
    assignments.set_due(alice, incident, "1", NOW + 1, now=NOW)
    assignments.set_due(alice, incident, "2", NOW + 1, now=NOW)
    ticked = checklist_svc.set_item_state(alice, incident, "1", True).item
    [due] = assignments.due_reminders(NOW + 2)
    assert due.item_id != ticked.id and assignments.item_with_number(incident, due.item_id)[1] == "1.2"
    svc.end_incident(alice, incident)
    assert assignments.due_reminders(NOW + 2) == []


def test_a_removed_item_takes_its_owner_and_deadline_with_it(incident):
    assignments.give(alice, incident, "1", "bob", username="bob", is_member=True, due_at=NOW + 1, now=NOW)
    checklist_svc.remove_item(alice, incident, "1")
    assert ItemAssignment.select().count() == 0


def test_a_todo_lists_open_items_overdue_first_then_by_deadline(db):
    first = svc.start_incident(alice, TEAM, "First", "c1")
    second = svc.start_incident(alice, TEAM, "Second", "c2")
    for incident, text in ((first, "No deadline"), (first, "Due later"), (second, "Overdue"), (second, "Ticked")):
        checklist_svc.add_item(alice, incident, text)
    for incident, ref, due in ((first, "1", None), (first, "2", NOW + 3_600_000), (second, "1", NOW - 60_000), (second, "2", None)):
        assignments.give(alice, incident, ref, "bob", username="bob", is_member=True, due_at=due, now=NOW)
    checklist_svc.set_item_state(alice, second, "2", True)
    assert [todo.item.title for todo in assignments.todo_of("bob", NOW)] == ["Overdue", "Due later", "No deadline"]
    svc.end_incident(alice, second)
    assert [todo.item.title for todo in assignments.todo_of("bob", NOW)] == ["Due later", "No deadline"]
    assert assignments.todo_of("carol", NOW) == []


# ---- roles ----------------------------------------------------------------------------------------------
def test_the_default_roles_and_who_holds_them(incident):
    assert assignments.roles_of(incident) == [("commander", "alice"), ("scribe", None), ("comms", None)]
    given = assignments.give_role(alice, incident, "Scribe", "bob", username="bob", is_member=True, now=NOW)
    assert (given.role, given.previous_id, given.items) == ("scribe", None, [])
    assert assignments.roles_of(incident)[1] == ("scribe", "bob")
    with pytest.raises(Conflict, match="already the scribe"):
        assignments.give_role(alice, incident, "scribe", "bob", username="bob", is_member=True, now=NOW)
    assert assignments.give_role(alice, incident, "scribe", "carol", username="carol", is_member=True, now=NOW).previous_id == "bob"
    assert IncidentRole.select().count() == 1


@pytest.mark.parametrize("typed, answer", [("on call", "is not a role name"), ("**comms**", "is not a role name"),
                                           ("pilot", "has no role 'pilot'; its roles are commander, scribe, comms")])
def test_a_role_that_is_not_one_is_refused(incident, typed, answer):
    with pytest.raises(Invalid, match=answer):
        assignments.give_role(alice, incident, typed, "bob", username="bob", is_member=True, now=NOW)
    with pytest.raises(Invalid, match="not in ~database-down"):
        assignments.give_role(alice, incident, "comms", "bob", username="bob", is_member=False, now=NOW)


def test_a_playbooks_items_name_their_roles_and_deadlines_and_the_commanders_are_theirs_at_start(db):
    playbook = playbooks.create_playbook(alice, TEAM, "Outage", checklists_text=(
        "## First hour\n[commander] Declare the severity +15m\n[comms] Update the status page +30m\n"
        "[liaison] Call the vendor\nPage the DBA"))
    incident = svc.start_incident(alice, TEAM, "Checkout down", "c1", playbook=playbook)
    [(_, items)] = checklist_svc.checklists_of(incident)
    assert [item.title for item in items] == ["Declare the severity", "Update the status page", "Call the vendor", "Page the DBA"]
    rows = assignments.owners_of(incident)
    shown = [(rows[i.id].role, rows[i.id].assignee_id, rows[i.id].due_offset) for i in items[:3]]
    assert shown == [("commander", "alice", 900), ("comms", None, 1800), ("liaison", None, None)]
    assert items[3].id not in rows
    assert [role for role, _ in assignments.roles_of(incident)] == ["commander", "scribe", "comms", "liaison"]
    # the commander is yet to hear of theirs; the comms item waits for its role
    assert [row.item_id for row in assignments.unannounced(incident.id)] == [items[0].id]
    given = assignments.give_role(alice, incident, "comms", "bob", username="bob", is_member=True, now=NOW)
    assert [(row.item_id, number) for row, number in given.items] == [(items[1].id, "1.2")]
    assert ChecklistItem.get_by_id(items[1].id).title == "Update the status page"
    assert assignments.assignment_of(items[1].id).assignee_id == "bob"
    # and the playbook still reads as it was written
    assert playbooks.checklists_of(playbook)[0].items[1] == "[comms] Update the status page +30m"


def test_a_playbook_deadline_is_placed_once(db):
    playbook = playbooks.create_playbook(alice, TEAM, "Outage", checklists_text="Page the DBA +2h")
    incident = svc.start_incident(alice, TEAM, "Checkout down", "c1", playbook=playbook)
    [row] = assignments.unplaced_offsets()
    assert assignments.place_offset(row, incident.created_at + 7_200_000) is True
    assert assignments.place_offset(row, incident.created_at + 1) is False
    assert assignments.unplaced_offsets() == []
    assert assignments.assignment_of(row.item_id).due_at == incident.created_at + 7_200_000


def test_a_playbooks_markup_goes_through_yaml_export_and_import(db):
    from services import playbook_yaml

    playbook = playbooks.create_playbook(alice, TEAM, "Outage", checklists_text="## Comms\n[comms] Update the status page +30m")
    text = playbook_yaml.export_playbook_yaml(playbook)
    assert playbook_yaml.parse_playbook_yaml(text).checklists[0].items == ["[comms] Update the status page +30m"]
    with pytest.raises(Invalid, match=r"\+9y is not a deadline"):
        playbook_yaml.import_playbook_yaml(alice, TEAM, text.replace("+30m", "+9y"))
    assert playbooks.checklists_of(playbooks.by_id(playbook.id))[0].items == ["[comms] Update the status page +30m"]
