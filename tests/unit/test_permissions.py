"""Every cell of the permission tables in services/permissions.py."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from services import permissions as p
from tests.unit.conftest import OTHER_TEAM, TEAM, person

CHANNEL = "incident-channel"

# Columns of the incident table.
INCIDENT_ACTORS = {
    "system admin": person("sa", system_admin=True),
    "system admin from another team": person("sa2", team=OTHER_TEAM, system_admin=True),
    "team admin": person("ta", team_admin=True),
    "channel member": person("cm", channels=[CHANNEL]),
    "team member not in the channel": person("tm"),
    "other team": person("ot", team=OTHER_TEAM),
    "team admin of another team": person("ota", team=OTHER_TEAM, team_admin=True),
}

INCIDENT_TABLE = {
    # action -> expected per column, in INCIDENT_ACTORS order
    ("view", False): (True, True, True, True, True, False, False),
    ("view", True): (True, True, True, True, False, False, False),
    ("change", False): (True, True, True, True, False, False, False),
    ("change", True): (True, True, True, True, False, False, False),
}


@pytest.mark.parametrize("action, is_private", INCIDENT_TABLE)
@pytest.mark.parametrize("column", range(len(INCIDENT_ACTORS)))
def test_incident_permission_table(action, is_private, column):
    name, actor = list(INCIDENT_ACTORS.items())[column]
    incident = SimpleNamespace(team_id=TEAM, channel_id=CHANNEL, is_private=is_private)
    check = p.can_view_incident if action == "view" else p.can_change_incident
    assert check(actor, incident) is INCIDENT_TABLE[(action, is_private)][column], name


def test_a_private_incident_is_invisible_to_a_team_member_who_is_not_in_its_channel():
    incident = SimpleNamespace(team_id=TEAM, channel_id=CHANNEL, is_private=True)
    assert not p.can_view_incident(person("alice"), incident)
    assert p.can_view_incident(person("alice", channels=[CHANNEL]), incident)


# --- playbooks -------------------------------------------------------------------------------

PLAYBOOK_ACTORS = {
    "sa": person("sa", system_admin=True),
    "ta": person("ta", team_admin=True),
    "ed": person("ed"),
    "mem": person("mem"),
    "out": person("out", team=OTHER_TEAM),
}
# "ed" created the playbook; "joined" joined it themselves; "added" was added by "ed".
EDITORS = {"ed": "ed", "joined": "joined", "added": "ed"}


def facts(is_public: bool, **extra_editors: str) -> p.PlaybookFacts:
    return p.PlaybookFacts(TEAM, is_public, {**EDITORS, **extra_editors})


# row -> (check(actor, actor_id) -> bool, expected for sa, ta, ed, mem, out); None = not applicable
PLAYBOOK_TABLE = {
    "view public": (lambda a, i: p.can_view_playbook(a, facts(True)), (True, True, True, True, False)),
    "view private": (lambda a, i: p.can_view_playbook(a, facts(False)), (True, True, True, False, False)),
    "edit public": (lambda a, i: p.can_edit_playbook(a, facts(True)), (True, True, True, False, False)),
    "edit private": (lambda a, i: p.can_edit_playbook(a, facts(False)), (True, True, True, False, False)),
    "delete private, setting off": (
        lambda a, i: p.can_delete_playbook(a, facts(False), members_may_delete_public=False),
        (True, True, True, False, False),
    ),
    "delete private, setting on": (
        lambda a, i: p.can_delete_playbook(a, facts(False), members_may_delete_public=True),
        (True, True, True, False, False),
    ),
    "delete public, setting off": (
        lambda a, i: p.can_delete_playbook(a, facts(True), members_may_delete_public=False),
        (True, True, True, False, False),
    ),
    "delete public, setting on": (
        lambda a, i: p.can_delete_playbook(a, facts(True), members_may_delete_public=True),
        (True, True, True, True, False),
    ),
    "add someone else, private": (
        lambda a, i: p.can_add_editor(a, facts(False), "newbie"),
        (True, True, False, False, False),
    ),
    "add oneself, private": (
        lambda a, i: p.can_add_editor(a, facts(False), i),
        (True, True, None, False, False),
    ),
    "add someone else, public": (
        lambda a, i: p.can_add_editor(a, facts(True), "newbie"),
        (True, True, True, False, False),
    ),
    "add oneself, public": (
        lambda a, i: p.can_add_editor(a, facts(True), i),
        (True, True, None, True, False),
    ),
    # the actor is an editor (added by "ed") and removes themselves
    "remove oneself, private": (
        lambda a, i: p.can_remove_editor(a, facts(False, **{i: "ed"}), i),
        (True, True, True, None, False),
    ),
    "remove oneself, public": (
        lambda a, i: p.can_remove_editor(a, facts(True, **{i: "ed"}), i),
        (True, True, True, None, False),
    ),
    "remove another, private, who joined themselves": (
        lambda a, i: p.can_remove_editor(a, facts(False), "joined"),
        (True, True, False, False, False),
    ),
    "remove another, private, added by someone": (
        lambda a, i: p.can_remove_editor(a, facts(False), "added"),
        (True, True, False, False, False),
    ),
    "remove another, public, who joined themselves": (
        lambda a, i: p.can_remove_editor(a, facts(True), "joined"),
        (True, True, True, False, False),
    ),
    "remove another, public, added by someone": (
        lambda a, i: p.can_remove_editor(a, facts(True), "added"),
        (True, True, False, False, False),
    ),
    "change the team setting": (
        lambda a, i: p.can_change_team_settings(a, TEAM),
        (True, True, False, False, False),
    ),
    "create a playbook": (lambda a, i: p.can_create_playbook(a, TEAM), (True, True, True, True, False)),
}

CELLS = [
    (row, column)
    for row, (_, expected) in PLAYBOOK_TABLE.items()
    for column, value in zip(PLAYBOOK_ACTORS, expected)
    if value is not None
]


@pytest.mark.parametrize("row, column", CELLS, ids=[f"{r} / {c}" for r, c in CELLS])
def test_playbook_permission_table(row, column):
    check, expected = PLAYBOOK_TABLE[row]
    actor = PLAYBOOK_ACTORS[column]
    assert check(actor, actor.user_id) is expected[list(PLAYBOOK_ACTORS).index(column)]


def test_a_team_admin_of_another_team_is_an_outsider_to_this_teams_playbooks():
    admin_elsewhere = person("x", team=OTHER_TEAM, team_admin=True)
    assert not p.can_view_playbook(admin_elsewhere, facts(True))
    assert not p.can_add_editor(admin_elsewhere, facts(True), "x")
