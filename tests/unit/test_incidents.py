"""Starting, ending, restarting incidents, handing over command, finding and listing them."""
from __future__ import annotations

import pytest

from models import Incident
from services import incidents as svc
from services import playbooks as pb
from services.backstage import Filters, browse
from services.checklists import checklists_of
from services.errors import Conflict, Forbidden, Invalid, NotFound
from services.timeline import events_for
from tests.unit.conftest import OTHER_TEAM, TEAM, person

alice = person("alice", channels=["c1", "c2", "c3"])
bob = person("bob", channels=["c1"])
carol = person("carol")  # in the team, in no incident channel
admin = person("admin", team_admin=True)


def listed(actor, status: str | None = "ongoing") -> list[Incident]:
    """What the incident list (backstage's query) shows the actor, on the first page."""
    channels = {i.channel_id for i in Incident.select() if actor.is_channel_member(i.channel_id)}
    return browse(actor, TEAM, Filters(status=status), member_of=channels).incidents


def start(actor=alice, name="Database down", channel="c1", **kw):
    return svc.start_incident(actor, TEAM, name, channel, **kw)


def test_without_a_playbook_an_incident_is_public_with_one_empty_checklist_and_its_creator_commands(db):
    incident = start()
    assert incident.is_private is False and incident.is_active is True
    assert incident.commander_id == incident.creator_id == "alice"
    assert incident.channel_name == "database-down"
    assert [(c.title, items) for c, items in checklists_of(incident)] == [("Checklist", [])]
    created = events_for(incident)
    assert [e.kind for e in created] == ["incident_created"]
    assert created[0].actor_id == "alice"
    assert created[0].data == {"checklists": 1, "items": 0, "is_private": False, "playbook_id": None, "playbook_version": None,
                               "severity": 3}


def test_starting_from_a_private_playbook_copies_its_checklists_and_makes_the_incident_private(db):
    playbook = pb.create_playbook(alice, TEAM, "DB outage", checklists_text="Page DBA\n## Recover\nFail over\nCheck lag")
    incident = start(playbook=playbook)
    assert incident.is_private is True
    assert (incident.playbook_id, incident.playbook_version) == (playbook.id, 1)
    copied = [(c.title, [i.title for i in items]) for c, items in checklists_of(incident)]
    assert copied == [("Checklist", ["Page DBA"]), ("Recover", ["Fail over", "Check lag"])]


def test_a_playbook_that_creates_public_incidents_starts_public_unless_asked_otherwise(db):
    playbook = pb.create_playbook(alice, TEAM, "Web", create_public_incidents=True)
    assert start(playbook=playbook).is_private is False
    assert start(playbook=playbook, channel="c2", name="Web 2", is_private=True).is_private is True


def test_editing_a_playbook_does_not_touch_a_running_incident(db):
    playbook = pb.create_playbook(alice, TEAM, "DB outage", checklists_text="Page DBA")
    incident = start(playbook=playbook)
    pb.add_playbook_item(alice, playbook, "Write postmortem")
    edited = pb.get_playbook(alice, playbook.id)
    pb.delete_playbook(alice, edited)
    assert [i.title for i in checklists_of(incident)[0][1]] == ["Page DBA"]
    assert svc.reload(incident).playbook_version == 1


def test_a_deleted_or_invisible_playbook_cannot_start_an_incident(db):
    private = pb.create_playbook(bob, TEAM, "Bob only", is_public=False)
    with pytest.raises(NotFound, match="does not exist in this team"):
        start(actor=carol, playbook=private)
    pb.delete_playbook(bob, private)
    with pytest.raises(NotFound, match="was deleted; pick another one"):
        start(actor=bob, playbook=pb.Playbook.get_by_id(private.id))


def test_bad_names_are_refused_before_the_channel_is_created(db):
    with pytest.raises(Invalid, match="no letters or digits"):
        svc.plan_incident(alice, TEAM, "###")
    with pytest.raises(Invalid, match="use at most 64"):
        svc.plan_incident(alice, TEAM, "x" * 65)
    plan = svc.plan_incident(alice, TEAM, "@channel is down")
    assert (plan.name, plan.channel_name, plan.is_private) == ("@channel is down", "channel-is-down", False)


def test_nobody_starts_an_incident_in_a_team_they_are_not_in(db):
    with pytest.raises(Forbidden, match="team you belong to"):
        svc.plan_incident(person("eve", team=OTHER_TEAM), TEAM, "Outage")


def test_one_channel_holds_one_incident(db):
    start()
    with pytest.raises(Conflict, match="already belongs to an incident"):
        start(name="Another")


def test_ending_records_who_and_when_and_a_second_end_is_refused(db):
    incident = start()
    ended = svc.end_incident(bob, incident)
    assert ended.is_active is False and ended.ended_by == "bob" and ended.ended_at >= ended.created_at
    assert ended.version == incident.version + 1
    with pytest.raises(Conflict, match="'Database down' has already ended"):
        svc.end_incident(alice, ended)
    assert [e.kind for e in events_for(incident)] == ["incident_created", "incident_ended"]


def test_only_channel_members_and_admins_may_end_it(db):
    incident = start()
    with pytest.raises(Forbidden, match="Only members of ~database-down and admins"):
        svc.end_incident(carol, incident)
    assert svc.end_incident(admin, incident).is_active is False


def test_a_private_incident_is_not_found_by_outsiders_rather_than_forbidden(db):
    incident = start(is_private=True)
    with pytest.raises(NotFound, match="no such incident"):
        svc.end_incident(carol, incident)


def test_restart_reopens_an_ended_incident_only(db):
    incident = start()
    with pytest.raises(Conflict, match="still active; only an ended incident can be restarted"):
        svc.restart_incident(alice, incident)
    svc.end_incident(alice, incident)
    restarted = svc.restart_incident(bob, incident)
    assert restarted.is_active is True and restarted.ended_at is None and restarted.ended_by is None
    assert events_for(incident)[-1].kind == "incident_restarted"


def test_command_goes_only_to_a_channel_member(db):
    incident = start()
    with pytest.raises(Invalid, match="@carol is not in ~database-down: /invite them"):
        svc.change_commander(alice, incident, "carol", new_user_is_member=False, new_username="carol")
    changed = svc.change_commander(alice, incident, "bob", new_user_is_member=True, new_username="bob")
    assert changed.commander_id == "bob"
    event = events_for(incident)[-1]
    assert (event.kind, event.data) == ("commander_changed", {"previous_id": "alice", "commander_id": "bob"})


def test_making_the_commander_commander_again_is_a_conflict(db):
    incident = start()
    with pytest.raises(Conflict, match="@alice is already the commander of 'Database down'"):
        svc.change_commander(bob, incident, "alice", new_user_is_member=True, new_username="alice")


def test_the_commander_can_still_be_changed_after_the_end(db):
    incident = svc.end_incident(alice, start())
    assert svc.change_commander(alice, incident, "bob", new_user_is_member=True).commander_id == "bob"


def test_a_public_incident_made_private_stays_private_and_hides_from_non_members(db):
    incident = start()
    assert [i.id for i in listed(carol)] == [incident.id]
    assert svc.make_private_for_good(incident) is True
    assert svc.make_private_for_good(incident) is False
    assert listed(carol) == []
    assert [e.kind for e in events_for(incident)][-1] == "made_private"


def test_the_list_shows_visible_incidents_newest_first_and_filters_on_activity(db):
    first = start(name="First", channel="c1")
    second = start(name="Second", channel="c2", is_private=True)
    third = start(name="Third", channel="c3")
    svc.end_incident(alice, third)
    assert [i.name for i in listed(alice)] == ["Second", "First"]
    assert [i.name for i in listed(alice, "ended")] == ["Third"]
    assert [i.name for i in listed(alice, None)] == ["Third", "Second", "First"]
    assert [i.id for i in listed(carol)] == [first.id]
    assert listed(person("eve", team=OTHER_TEAM)) == []
    assert second.id in [i.id for i in listed(admin)]


def test_incidents_are_found_by_name_or_channel_name_in_any_case(db):
    incident = start(name="Ziggürat")
    assert svc.find_incident(TEAM, "ZIGGÜRAT").id == incident.id
    assert svc.find_incident(TEAM, "~Ziggurat").id == incident.id
    assert svc.incident_for_channel("c1").id == incident.id
    assert svc.incident_for_channel("nowhere") is None
    with pytest.raises(NotFound, match="no incident called 'Nope' in this team"):
        svc.find_incident(TEAM, "Nope")
    with pytest.raises(NotFound):
        svc.find_incident(OTHER_TEAM, "Ziggürat")


def test_two_incidents_with_one_name_need_the_channel_name(db):
    start(name="DB down", channel="c1")
    plan = svc.plan_incident(alice, TEAM, "db down")  # its channel name was taken: created with a suffix
    second = svc.record_incident(alice, TEAM, plan, "c2", "db-down-x7k2")
    with pytest.raises(Invalid, match=r"'DB DOWN' matches several incidents: db down \(~db-down-x7k2\), DB down \(~db-down\); use the channel name"):
        svc.find_incident(TEAM, "DB DOWN")
    assert svc.find_incident(TEAM, "db-down-x7k2").id == second.id


def test_a_lookup_on_behalf_of_someone_ignores_incidents_they_cannot_see(db):
    start(name="Secret", is_private=True)
    with pytest.raises(NotFound):
        svc.find_incident(TEAM, "Secret", actor=carol)
    assert svc.find_incident(TEAM, "Secret", actor=alice).name == "Secret"


def test_get_incident_hides_private_ones(db):
    incident = start(is_private=True)
    with pytest.raises(NotFound):
        svc.get_incident(carol, incident.id)
    assert svc.get_incident(bob, incident.id).id == incident.id
    assert Incident.select().count() == 1
