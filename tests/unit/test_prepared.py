"""Hot reads and writes made into SQL once (models/prepared.py): the same rows and changes as
the peewee queries they come from, for whatever arguments, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from models import Checklist, ChecklistItem, Incident, prepared
from services import checklists as cl
from services import incidents as svc
from services import playbooks as pb
from tests.unit.conftest import TEAM, person

alice = person("alice", channels=["c1", "c2"])


def start(name: str, channel: str, steps: str) -> Incident:
    playbook = pb.create_playbook(alice, TEAM, name, checklists_text=steps)
    return svc.start_incident(alice, TEAM, name, channel, playbook=playbook, is_private=False)


def items_of(incident_id: int):
    return (ChecklistItem.select().join(Checklist, on=(ChecklistItem.checklist == Checklist.id))
            .where(Checklist.incident == incident_id).order_by(ChecklistItem.position))


def test_a_prepared_read_gives_each_incident_its_own_rows_as_peewee_would(db):
    outage = start("Outage", "c1", "One\nTwo\n## Later\nThree")
    leak = start("Leak", "c2", "Plug it")
    built = []

    def counted(incident_id):
        built.append(incident_id)
        return items_of(incident_id)

    for incident in (outage, leak, outage):
        rows = prepared.select(ChecklistItem, "test: items of an incident", counted, incident.id)
        expected = list(items_of(incident.id))
        assert [(r.id, r.checklist_id, r.title, r.state) for r in rows] == [(e.id, e.checklist_id, e.title, e.state) for e in expected]
    assert len(built) <= 1  # the query was built once (or not at all: another test made it before)


def test_checklists_of_reads_what_it_read_before(db):
    outage = start("Outage", "c1", "One\nTwo\n## Later\nThree")
    lists = cl.checklists_of(outage)
    assert [(c.title, [i.title for i in items]) for c, items in lists] == [("Checklist", ["One", "Two"]), ("Later", ["Three"])]


def test_a_missing_row_is_does_not_exist_as_with_peewee(db):
    with pytest.raises(Incident.DoesNotExist):
        prepared.get(Incident, "test: incident by id", lambda i: Incident.select().where(Incident.id == i), 987654)


def test_a_prepared_update_changes_only_the_rows_its_arguments_name_and_says_how_many(db):
    outage = start("Outage", "c1", "One\nTwo")
    first, second = cl.checklists_of(outage)[0][1]

    def rename(item_id, title):
        return ChecklistItem.update(title=title).where(ChecklistItem.id == item_id)

    assert prepared.execute("test: rename an item", rename, first.id, "Page the on-call") == 1
    assert prepared.execute("test: rename an item", rename, 10**9, "Nobody") == 0
    assert [i.title for i in cl.checklists_of(outage)[0][1]] == ["Page the on-call", "Two"]


def test_a_tick_answers_with_the_item_and_incident_as_stored(db):
    outage = start("Outage", "c1", "One\nTwo")
    item = cl.checklists_of(outage)[0][1][1]
    for checked in (True, False):
        result = cl.set_item_state(alice, outage.id, item.id, checked)
        stored = ChecklistItem.get_by_id(item.id)
        assert (result.item.state, result.item.checked_by, result.item.checked_at) == (stored.state, stored.checked_by, stored.checked_at)
        assert result.item.is_checked is checked
        assert result.incident.version == result.version == svc.reload(outage).version


def test_a_click_naming_an_incident_that_is_gone_or_not_theirs_changes_nothing(db):
    from services.errors import Forbidden, NotFound

    outage = start("Outage", "c1", "One")
    item = cl.checklists_of(outage)[0][1][0]
    with pytest.raises(NotFound):
        cl.set_item_state(alice, 10**9, item.id, True)
    with pytest.raises(Forbidden):
        cl.set_item_state(person("mallory"), outage.id, item.id, True)
    assert not ChecklistItem.get_by_id(item.id).is_checked and svc.reload(outage).version == outage.version


def test_a_prepared_insert_stores_what_create_would_and_answers_the_new_id(db):
    from models import TimelineEvent

    outage = start("Outage", "c1", "One")
    first = prepared.insert(TimelineEvent, incident=outage.id, at=1234, actor_id=None, kind="item_checked", data={"item_id": 7})
    second = prepared.insert(TimelineEvent, incident=outage.id, at=1235, actor_id="alice", kind="item_unchecked", data={})
    assert second == first + 1
    stored = {e.id: (e.incident_id, e.at, e.actor_id, e.kind, e.data) for e in TimelineEvent.select().where(TimelineEvent.id.in_([first, second]))}
    assert stored == {first: (outage.id, 1234, None, "item_checked", {"item_id": 7}),
                      second: (outage.id, 1235, "alice", "item_unchecked", {})}
