"""What every flow is given: the chat port, how to sign buttons, the locks, the synchronizer."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

from models.incidents import Incident
from render import checklist as checklist_view
from services import checklists, incidents

from .checklist_sync import ChecklistSync
from .locks import IncidentLocks
from .port import ChatError, ChatPort

log = logging.getLogger("incident.flows")


@dataclass(frozen=True)
class Links:
    """Where Mattermost sends clicks and dialogs back, and how a button's context is signed."""

    sign: Callable[[dict[str, Any]], dict[str, Any]]
    action_url: str
    dialog_url: str
    site_url: str


class FlowContext:
    def __init__(self, chat: ChatPort, links: Links, *, on_idle: Callable[[], None] = lambda: None):
        self.chat = chat
        self.links = links
        self.locks = IncidentLocks()
        self.checklists = ChecklistSync(self._publish, on_idle=on_idle)

    def username(self, user_id: str) -> str:
        try:
            return str(self.chat.user(user_id).get("username", "unknown"))
        except ChatError:
            return "unknown"

    def permalink(self, team_id: str, post_id: str) -> str:
        return f"{self.links.site_url}/{self.chat.team(team_id).get('name')}/pl/{post_id}"

    def checklist_message(self, incident: Incident) -> dict[str, Any]:
        return checklist_view.checklist_message(incident, checklists.checklists_of(incident), self.username,
                                                self.links.sign, self.links.action_url)

    def _publish(self, incident_id: int) -> None:
        """The synchronizer's one job: the message shows the incident as stored now."""
        with self.locks.hold(incident_id):
            incident = incidents.by_id(incident_id)
            if incident is None or not incident.checklist_post_id:
                return
            message = self.checklist_message(incident)
            try:
                self.chat.patch_post(incident.checklist_post_id, message["message"], message["props"])
            except ChatError as exc:
                log.warning("could not refresh the checklist of incident %s: %s", incident_id, exc)
