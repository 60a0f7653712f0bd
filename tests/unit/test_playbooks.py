"""Playbooks: titles, versions, visibility, deletion, editors and one-at-a-time checklist edits."""
from __future__ import annotations

import pytest

from models import Playbook, PlaybookVersion
from services import playbooks as pb
from services.checklist_rules import ChecklistSpec
from services.errors import Conflict, Forbidden, Invalid, NotFound
from tests.unit.conftest import OTHER_TEAM, TEAM, person

alice = person("alice")
bob = person("bob")
carol = person("carol")
admin = person("admin", team_admin=True)


def specs(playbook):
    return [(s.title, s.items) for s in pb.checklists_of(playbook)]


def test_a_new_playbook_is_version_1_with_its_creator_as_editor(db):
    playbook = pb.create_playbook(alice, TEAM, "  DB   outage ", description="When the DB dies",
                                  checklists_text="- Page DBA\n\n* Check lag\n## Recover\n- [ ] Fail over")
    assert (playbook.title, playbook.version, playbook.is_public) == ("DB outage", 1, True)
    assert specs(playbook) == [("Checklist", ["Page DBA", "Check lag"]), ("Recover", ["Fail over"])]
    assert [(e.user_id, e.added_by) for e in pb.list_editors(playbook)] == [("alice", "alice")]


def test_titles_are_unique_per_team_ignoring_case(db):
    pb.create_playbook(alice, TEAM, "DB outage")
    with pytest.raises(Conflict, match="A playbook titled 'db OUTAGE' already exists in this team"):
        pb.create_playbook(bob, TEAM, "db OUTAGE")
    assert pb.create_playbook(person("x", team=OTHER_TEAM), OTHER_TEAM, "DB outage").team_id == OTHER_TEAM


def test_titles_need_1_to_64_characters(db):
    with pytest.raises(Invalid, match="A playbook needs a title"):
        pb.create_playbook(alice, TEAM, "  ")
    with pytest.raises(Invalid, match="65 characters long; use at most 64"):
        pb.create_playbook(alice, TEAM, "t" * 65)


def test_a_deleted_playbooks_title_can_be_used_again(db):
    old = pb.create_playbook(alice, TEAM, "Outage")
    pb.delete_playbook(alice, old)
    assert pb.create_playbook(alice, TEAM, "Outage").id != old.id
    assert Playbook.get_by_id(old.id).is_deleted


def test_updating_saves_a_new_version_and_keeps_the_old_one(db):
    playbook = pb.create_playbook(alice, TEAM, "Outage", checklists_text="Old step")
    updated = pb.update_playbook(alice, playbook, title="Outage v2", checklists_text="New step")
    assert updated.version == 2 and updated.title == "Outage v2"
    assert specs(updated) == [("Checklist", ["New step"])]
    assert pb.checklists_of(updated, version=1) == [ChecklistSpec("Checklist", ["Old step"])]
    assert PlaybookVersion.select().where(PlaybookVersion.playbook == playbook.id).count() == 2


def test_saving_from_a_stale_copy_is_a_conflict_not_a_silent_overwrite(db):
    playbook = pb.create_playbook(alice, TEAM, "Outage")
    pb.add_playbook_item(alice, playbook, "Alice's step")
    with pytest.raises(Conflict, match="changed or deleted by someone else meanwhile"):
        pb.add_playbook_item(alice, playbook, "From the stale copy")


def test_renaming_onto_another_title_is_a_conflict(db):
    pb.create_playbook(alice, TEAM, "First")
    second = pb.create_playbook(alice, TEAM, "Second")
    with pytest.raises(Conflict, match="'first' already exists"):
        pb.update_playbook(alice, second, title="first")


def test_only_editors_and_admins_edit(db):
    playbook = pb.create_playbook(alice, TEAM, "Outage")
    with pytest.raises(Forbidden, match="Only editors of playbook 'Outage' and admins can change it; ask an editor"):
        pb.update_playbook(bob, playbook, description="mine now")
    assert pb.update_playbook(admin, playbook, description="fixed").description == "fixed"


def test_a_private_playbook_is_hidden_from_members_but_not_admins(db):
    pb.create_playbook(alice, TEAM, "Public one")
    secret = pb.create_playbook(alice, TEAM, "Secret one", is_public=False)
    assert [p.title for p in pb.list_playbooks(bob, TEAM)] == ["Public one"]
    assert [p.title for p in pb.list_playbooks(admin, TEAM)] == ["Public one", "Secret one"]
    with pytest.raises(NotFound, match="does not exist or was deleted"):
        pb.get_playbook(bob, secret.id)
    with pytest.raises(NotFound):
        pb.update_playbook(bob, secret, description="x")
    assert pb.list_playbooks(person("eve", team=OTHER_TEAM), TEAM) == []


def test_finding_a_playbook_by_title(db):
    pb.create_playbook(alice, TEAM, "Database outage")
    pb.create_playbook(alice, TEAM, "Database slow")
    pb.create_playbook(alice, TEAM, "Web down")
    assert pb.find_playbook(bob, TEAM, "WEB DOWN").title == "Web down"
    assert pb.find_playbook(bob, TEAM, "web").title == "Web down"
    with pytest.raises(Invalid, match="'database' matches several playbooks: 'Database outage', 'Database slow'"):
        pb.find_playbook(bob, TEAM, "database")
    with pytest.raises(NotFound, match="no playbook titled 'Network' in this team"):
        pb.find_playbook(bob, TEAM, "Network")
    with pytest.raises(Invalid, match="Say which playbook"):
        pb.find_playbook(bob, TEAM, " ")


def test_deleting_is_for_editors_and_admins_unless_the_team_lets_members_delete_public_ones(db):
    playbook = pb.create_playbook(alice, TEAM, "Outage")
    with pytest.raises(Forbidden, match="Only editors of playbook 'Outage' and admins can delete it"):
        pb.delete_playbook(bob, playbook)
    with pytest.raises(Forbidden, match="Only team and system admins can change who may delete"):
        pb.set_members_may_delete_public_playbooks(bob, TEAM, True)
    pb.set_members_may_delete_public_playbooks(admin, TEAM, True)
    assert pb.members_may_delete_public_playbooks(TEAM) and not pb.members_may_delete_public_playbooks(OTHER_TEAM)
    pb.delete_playbook(bob, playbook)
    assert pb.list_playbooks(alice, TEAM) == []
    with pytest.raises(NotFound, match="'Outage' was deleted"):
        pb.delete_playbook(alice, Playbook.get_by_id(playbook.id))


def test_the_team_setting_can_be_switched_back_off(db):
    pb.set_members_may_delete_public_playbooks(admin, TEAM, True)
    pb.set_members_may_delete_public_playbooks(admin, TEAM, False)
    assert not pb.members_may_delete_public_playbooks(TEAM)


def test_editors_of_a_public_playbook_add_others_and_members_may_join(db):
    playbook = pb.create_playbook(alice, TEAM, "Outage")
    pb.add_editor(alice, playbook, "bob", username="bob")
    pb.add_editor(carol, playbook, "carol")  # joins herself
    assert {(e.user_id, e.added_by) for e in pb.list_editors(playbook)} == {
        ("alice", "alice"), ("bob", "alice"), ("carol", "carol")}
    with pytest.raises(Conflict, match="@bob is already an editor of playbook 'Outage'"):
        pb.add_editor(alice, playbook, "bob", username="bob")
    with pytest.raises(Forbidden, match="Only editors of playbook 'Outage' and admins can add other editors"):
        pb.add_editor(person("dave"), playbook, "erin")


def test_only_admins_add_editors_to_a_private_playbook(db):
    playbook = pb.create_playbook(alice, TEAM, "Secret", is_public=False)
    with pytest.raises(Forbidden, match="Only team and system admins can add editors to the private playbook 'Secret'"):
        pb.add_editor(alice, playbook, "bob")
    pb.add_editor(admin, playbook, "bob")
    assert pb.get_playbook(bob, playbook.id).id == playbook.id


def test_someone_added_by_another_user_can_only_be_removed_by_an_admin_or_themselves(db):
    playbook = pb.create_playbook(alice, TEAM, "Outage")
    pb.add_editor(alice, playbook, "bob")
    pb.add_editor(carol, playbook, "carol")
    with pytest.raises(Forbidden, match="@bob was added by someone else; only a team or system admin can remove them"):
        pb.remove_editor(alice, playbook, "bob", username="bob")
    pb.remove_editor(alice, playbook, "carol")  # she joined herself
    pb.remove_editor(bob, playbook, "bob")  # leaving is always allowed
    pb.add_editor(alice, playbook, "bob")
    pb.remove_editor(admin, playbook, "bob")
    assert [e.user_id for e in pb.list_editors(playbook)] == ["alice"]


def test_removal_messages_for_private_playbooks_strangers_and_non_editors(db):
    playbook = pb.create_playbook(alice, TEAM, "Secret", is_public=False)
    pb.add_editor(admin, playbook, "bob")
    with pytest.raises(Forbidden, match="Only team and system admins can remove editors from the private playbook"):
        pb.remove_editor(alice, playbook, "bob")
    with pytest.raises(NotFound, match="@carol is not an editor of playbook 'Secret'"):
        pb.remove_editor(admin, playbook, "carol", username="carol")
    public = pb.create_playbook(alice, TEAM, "Public")
    with pytest.raises(Forbidden, match="Only editors of playbook 'Public' and admins can remove editors"):
        pb.remove_editor(carol, public, "alice")


def test_checklist_edits_one_at_a_time_each_make_a_version(db):
    playbook = pb.create_playbook(alice, TEAM, "Outage", checklists_text="A\nB\nC")
    playbook = pb.add_playbook_item(alice, playbook, "D")
    playbook = pb.move_playbook_item(alice, playbook, "4", 1)
    playbook = pb.rename_playbook_item(alice, playbook, "1.2", "A, renamed")
    playbook = pb.remove_playbook_item(alice, playbook, "3")
    playbook = pb.add_playbook_checklist(alice, playbook, "Afterwards")
    playbook = pb.add_playbook_item(alice, playbook, "Postmortem", checklist_index=2)
    assert specs(playbook) == [("Checklist", ["D", "A, renamed", "C"]), ("Afterwards", ["Postmortem"])]
    assert playbook.version == 7


def test_playbook_checklist_edits_explain_bad_numbers_and_limits(db):
    playbook = pb.create_playbook(alice, TEAM, "Outage", checklists_text="A")
    with pytest.raises(Invalid, match=r"Item 3 does not exist: checklist 1 has 1 item\."):
        pb.remove_playbook_item(alice, playbook, "3")
    with pytest.raises(Invalid, match=r"Checklist 2 does not exist: there is 1 checklist\."):
        pb.add_playbook_item(alice, playbook, "x", checklist_index=2)
    with pytest.raises(Invalid, match="Position 2 is out of range"):
        pb.move_playbook_item(alice, playbook, "1", 2)
    with pytest.raises(Invalid, match="keep items to 500"):
        pb.add_playbook_item(alice, playbook, "y" * 501)
    with pytest.raises(Invalid, match="A checklist needs a name"):
        pb.add_playbook_checklist(alice, playbook, "")
    with pytest.raises(Invalid, match="has 201 items; the most a checklist can hold is 200"):
        pb.create_playbook(alice, TEAM, "Huge", checklists_text="\n".join(f"s{n}" for n in range(201)))


def test_nobody_creates_playbooks_in_a_team_they_are_not_in(db):
    with pytest.raises(Forbidden, match="team you belong to"):
        pb.create_playbook(person("eve", team=OTHER_TEAM), TEAM, "Sneaky")


def test_the_list_shows_each_playbooks_current_size_and_editors_in_a_few_queries(db, monkeypatch):
    outage = pb.create_playbook(alice, TEAM, "Outage", checklists_text="- Page\n- Fix\n## Recover\n- Fail over")
    pb.update_playbook(alice, outage, checklists_text="- Page")  # version 2: one checklist, one item
    pb.add_editor(alice, pb.by_id(outage.id), "bob")
    pb.create_playbook(carol, TEAM, "Blank")
    pb.create_playbook(alice, TEAM, "Secret", is_public=False)
    pb.create_playbook(person("eve", team=OTHER_TEAM), OTHER_TEAM, "Elsewhere")

    rows = [(s.playbook.title, s.checklists, s.items, s.editor_ids) for s in pb.playbook_summaries(bob, TEAM)]

    assert rows == [("Blank", 1, 0, ["carol"]), ("Outage", 1, 1, ["alice", "bob"])]  # a new one has an empty checklist
    queries = []
    execute = db.execute_sql
    monkeypatch.setattr(db, "execute_sql", lambda *args, **kwargs: queries.append(args[0]) or execute(*args, **kwargs))
    pb.playbook_summaries(admin, TEAM)
    for n in range(20):
        pb.create_playbook(alice, TEAM, f"More {n}", checklists_text="- One\n- Two")
    queries.clear()
    assert len(pb.playbook_summaries(admin, TEAM)) == 23
    assert len(queries) == 3  # editors, playbooks, sizes: not one more per playbook
