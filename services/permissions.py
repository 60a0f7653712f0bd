"""Who may do what: pure functions of (actor, object), no database access.

Incidents (`incident` needs `team_id`, `channel_id`, `is_private`):

    =====================  ==========  ==========  ==============  ==================  =========
    action                 system      team admin  channel member  team member, not   other
                           admin       (its team)                 in the channel      team
    =====================  ==========  ==========  ==============  ==================  =========
    view public incident   yes         yes         yes             yes                 no
    view private incident  yes         yes         yes             no                  no
    change (end, restart,  yes         yes         yes             no                  no
    commander, checklist)
    =====================  ==========  ==========  ==============  ==================  =========

Playbooks (`PlaybookFacts`: team, public or not, editors and who added each).
"Admin" is a system admin or a team admin of the playbook's team; "editor" and
"member" are non-admin users of the playbook's team; "outsider" is anyone else.

    ==========================================  =====  ======  ======  ========
    action                                      admin  editor  member  outsider
    ==========================================  =====  ======  ======  ========
    view / start an incident from, public       yes    yes     yes     no
    view / start an incident from, private      yes    yes     no      no
    edit (public or private)                    yes    yes     no      no
    delete private                              yes    yes     no      no
    delete public, team setting off             yes    yes     no      no
    delete public, team setting on              yes    yes     yes     no
    add an editor, private                      yes    no      no      no
    add an editor, public                       yes    yes     self    no
    remove oneself (is an editor)               yes    yes     n/a     n/a
    remove another editor, private              yes    no      no      no
    remove another editor, public, who joined   yes    yes     no      no
      themselves
    remove another editor, public, who was      yes    no      no      no
      added by someone else
    change the team setting                     yes    no      no      no
    ==========================================  =====  ======  ======  ========

"self" means a member may join a public playbook as an editor themselves (the
original plugin's public playbooks are joinable by the whole team); the record
of who added whom is what protects people added by someone else from removal
by non-admins.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Protocol

from .actor import Actor


class IncidentLike(Protocol):
    team_id: str
    channel_id: str
    is_private: bool


@dataclass(frozen=True)
class PlaybookFacts:
    team_id: str
    is_public: bool
    # editor user id -> user id of who added them (same id: they joined themselves)
    editors: Mapping[str, str] = field(default_factory=dict)

    def is_editor(self, user_id: str) -> bool:
        return user_id in self.editors


# --- incidents -----------------------------------------------------------------------------

def can_view_incident(actor: Actor, incident: IncidentLike) -> bool:
    if actor.is_admin_of(incident.team_id):
        return True
    if not incident.is_private and actor.in_team(incident.team_id):
        return True
    return actor.in_team(incident.team_id) and actor.is_channel_member(incident.channel_id)


def can_change_incident(actor: Actor, incident: IncidentLike) -> bool:
    if actor.is_admin_of(incident.team_id):
        return True
    return actor.in_team(incident.team_id) and actor.is_channel_member(incident.channel_id)


# --- playbooks -----------------------------------------------------------------------------

def _is_editor(actor: Actor, playbook: PlaybookFacts) -> bool:
    return actor.in_team(playbook.team_id) and playbook.is_editor(actor.user_id)


def can_view_playbook(actor: Actor, playbook: PlaybookFacts) -> bool:
    if actor.is_admin_of(playbook.team_id) or _is_editor(actor, playbook):
        return True
    return playbook.is_public and actor.in_team(playbook.team_id)


def can_create_playbook(actor: Actor, team_id: str) -> bool:
    return actor.is_admin_of(team_id) or actor.in_team(team_id)


def can_edit_playbook(actor: Actor, playbook: PlaybookFacts) -> bool:
    return actor.is_admin_of(playbook.team_id) or _is_editor(actor, playbook)


def can_delete_playbook(
    actor: Actor, playbook: PlaybookFacts, *, members_may_delete_public: bool
) -> bool:
    if can_edit_playbook(actor, playbook):
        return True
    return playbook.is_public and members_may_delete_public and actor.in_team(playbook.team_id)


def can_add_editor(actor: Actor, playbook: PlaybookFacts, user_id: str) -> bool:
    if actor.is_admin_of(playbook.team_id):
        return True
    if not playbook.is_public or not actor.in_team(playbook.team_id):
        return False
    return _is_editor(actor, playbook) or user_id == actor.user_id


def can_remove_editor(actor: Actor, playbook: PlaybookFacts, user_id: str) -> bool:
    if actor.is_admin_of(playbook.team_id):
        return True
    if not _is_editor(actor, playbook):
        return False
    if user_id == actor.user_id:
        return True
    joined_themselves = playbook.editors.get(user_id) == user_id
    return playbook.is_public and joined_themselves


def can_change_team_settings(actor: Actor, team_id: str) -> bool:
    return actor.is_admin_of(team_id)
