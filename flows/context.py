"""What every flow is given: the chat port, how to sign buttons, the locks, the synchronizer."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

from models.clock import now_ms
from models.incidents import Incident
from render import checklist as checklist_view
from render import updates as updates_view
from services import checklists, incidents, updates

from . import assignments as assignments_flow
from .long_work import LongWork
from .message_sync import MessageSync
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
    def __init__(self, chat: ChatPort, links: Links, *, time_scale: float = 1.0):
        """`time_scale` shortens every cadence and snooze (0.01: an hour lasts 36 s), for demos
        and end-to-end tests; 1 in production."""
        self.chat = chat
        self.links = links
        self.time_scale = time_scale
        self.locks = IncidentLocks()
        self.checklists = MessageSync(self._publish, name="checklist")
        self.announcements = MessageSync(self._publish_announcement, name="announcement", race_window=0)
        # the DMs telling people an item is theirs, redrawn when their item changes
        self.assignment_dms = MessageSync(self._publish_assignment_dms, name="assignment-dm", race_window=0)
        self.long_work = LongWork()
        self._remind_at: Callable[[int], None] = lambda due_at: None

    def stop(self) -> None:
        self.checklists.stop()
        self.announcements.stop()
        self.assignment_dms.stop()
        self.long_work.stop()

    # ---- time ----------------------------------------------------------------------------
    def now(self) -> int:
        return now_ms()

    def due_after(self, seconds: int | None, start: int | None = None) -> int | None:
        """When something `seconds` (of the product's time) from `start` (default now) is due."""
        if seconds is None:
            return None
        return (start if start is not None else self.now()) + int(seconds * 1000 * self.time_scale)

    def on_reminder_due(self, schedule: Callable[[int], None]) -> None:
        """The timers to wake at a reminder's due time (the bot's scheduler, once it runs)."""
        self._remind_at = schedule

    def remind_at(self, due_at: int | None) -> None:
        if due_at is not None:
            self._remind_at(due_at)

    def username(self, user_id: str) -> str:
        try:
            return str(self.chat.user(user_id).get("username", "unknown"))
        except ChatError:
            return "unknown"

    def permalink(self, team_id: str, post_id: str) -> str:
        return f"{self.links.site_url}/{self.chat.team(team_id).get('name')}/pl/{post_id}"

    def channel_url(self, incident: Incident) -> str:
        return f"{self.links.site_url}/{self.chat.team(incident.team_id).get('name')}/channels/{incident.channel_name}"

    def announcement(self, incident: Incident) -> dict[str, Any]:
        latest = updates.last_update(incident)
        return updates_view.announcement(incident, self.username(incident.commander_id), latest.message if latest else None,
                                         self.now(), self.channel_url(incident), show_content=not incident.is_private)

    def broadcast_refused(self, incident: Incident, exc: ChatError) -> None:
        """The broadcast channel is gone, archived, or closed to the bot: the incident goes on,
        `info` says what is wrong, and the commander is told once."""
        problem = f"I cannot post in the broadcast channel ({exc.message})."
        log.warning("incident %s: broadcast channel refused: %s", incident.id, exc)
        if updates.broadcast_problem(incident, problem):
            try:
                self.chat.post(incident.channel_id, f"@{self.username(incident.commander_id)} {problem} The incident goes on; "
                               "a team admin can choose another with `/incident settings broadcast ~channel`.")
            except ChatError as again:
                log.warning("incident %s: could not say so either: %s", incident.id, again)

    def _publish_announcement(self, incident_id: int) -> None:
        with self.locks.hold(incident_id):
            incident = incidents.by_id(incident_id)
            if incident is None or not incident.broadcast_post_id:
                return
            message = self.announcement(incident)
            try:
                self.chat.patch_post(incident.broadcast_post_id, message["message"], message["props"])
            except ChatError as exc:
                self.broadcast_refused(incident, exc)

    def checklist_message(self, incident: Incident, lists: checklists.Lists | None = None) -> dict[str, Any]:
        """`lists`: the incident's checklists, when they were just read (else they are read now)."""
        lists = checklists.checklists_of(incident) if lists is None else lists
        return checklist_view.checklist_message(incident, lists, self.username,
                                                self.links.sign, self.links.action_url, next_due=updates.next_due(incident),
                                                owners=assignments_flow.owners(self, incident), now=self.now())

    def _publish_assignment_dms(self, incident_id: int) -> None:
        with self.locks.hold(incident_id):
            assignments_flow.refresh_dms(self, incident_id)

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
