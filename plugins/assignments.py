"""Who does what by when, in chat: owners and deadlines of items, roles, and each person's to-do.

- `/incident assign <item> @user`, `/incident unassign <item>`: an item's owner (a channel member);
- `/incident due <item> <when>|off`: its deadline, read in the typist's Mattermost timezone;
- `/incident todo` (or `todo` in a DM to the bot): my open items in every active incident I can see;
- `/incident role <role> @user`, `/incident roles`: who holds the incident's roles;
- the checklist message's *Assign…* button (a dialog with Mattermost's user picker), and the
  *Done* buttons of the owners' DMs and of to-do lists.
"""

from __future__ import annotations

import logging
import re

from mmpy_bot import listen_to, listen_webhook

from chat.context import ChatPlugin
from chat.events import listen_event
from chat.gateway import MattermostError
from chat.registry import CommandRequest, Reply, UsageError, subcommand
from chat.options import is_number
from flows import assignments as flow
from flows import incidents as incidents_flow
from render import dialogs
from render.assignments import roles_text
from render.callbacks import AssignDialog
from render.dates import when
from render.text import inert, safe
from services import assignments, checklists, incidents, permissions
from services.checklists import TickOutcome
from services.errors import DomainError, Invalid

log = logging.getLogger("incident.assignments")

ASSIGN_USAGE = "/incident assign <item> @user"
MATTERMOST_ID = re.compile(r"[a-z0-9]{26}")
DUE_USAGE = "/incident due <item> <30m, 2h, 14:00, 2026-12-03 09:00 or off>"


class Assignments(ChatPlugin):
    # ---- owners -----------------------------------------------------------------------------
    @subcommand("assign", usage=ASSIGN_USAGE, summary="Gives an item to a channel member, who gets a DM with a button to tick it.",
                order=16)
    def assign(self, request: CommandRequest) -> Reply:
        words = request.args.split()
        if len(words) != 2:
            raise UsageError()
        incident, actor = self.chat.here(request)
        user = self.chat.user_by_mention(words[1])
        change = flow.assign(self.chat.flows, actor, incident, words[0], user)
        before = f" (it was @{self.chat.username(change.previous_id)}'s)" if change.previous_id else ""
        return Reply(f"Item {change.number} ({safe(change.item.title)}) is @{user['username']}'s now{before}; I sent them a DM.")

    @subcommand("unassign", usage="/incident unassign <item>", summary="Takes an item back from whoever has it.", order=17)
    def unassign(self, request: CommandRequest) -> Reply:
        words = request.args.split()
        if len(words) != 1:
            raise UsageError()
        incident, actor = self.chat.here(request)
        change = flow.unassign(self.chat.flows, actor, incident, words[0])
        return Reply(f"Item {change.number} ({safe(change.item.title)}) is nobody's now "
                     f"(it was @{self.chat.username(change.previous_id or '')}'s).")

    @subcommand("due", usage=DUE_USAGE, summary="Sets an item's deadline (in your timezone); whoever has it is reminded by DM then.",
                order=18)
    def due(self, request: CommandRequest) -> Reply:
        ref, _, when_text = request.args.partition(" ")
        if not ref or not when_text.strip():
            raise UsageError()
        incident, actor = self.chat.here(request)
        deadline = flow.parse_deadline(self.chat.flows, request.user_id, when_text)
        change = flow.set_due(self.chat.flows, actor, incident, ref, deadline)
        due_at = change.assignment.due_at
        if due_at is None:
            return Reply(f"Item {change.number} ({safe(change.item.title)}) has no deadline now.")
        who = f"@{self.chat.username(change.assignment.assignee_id)}" if change.assignment.assignee_id else "the commander (nobody has it)"
        return Reply(f"Item {change.number} ({safe(change.item.title)}) is due {when(due_at, self.chat.zone(request.user_id))}; "
                     f"{who} will be reminded by DM then.")

    # ---- the Assign… dialog ------------------------------------------------------------------
    @listen_webhook(r"^action:assign_ask$")
    def assign_clicked(self, event):
        clicked = self.chat.about_incident(event)
        incident, actor = clicked.incident, clicked.actor
        if not incident.is_active:
            return {"ephemeral_text": "This incident has ended; restart it to give out its items."}
        if not permissions.can_change_incident(actor, incident):
            return {"ephemeral_text": f"Only members of ~{incident.channel_name} and admins can give out its items."}
        lists = checklists.checklists_of(incident)
        if not any(not item.is_checked for _, items in lists for item in items):
            return {"ephemeral_text": "Every item is ticked: there is nothing left to give out."}
        state = self.chat.signed(AssignDialog(for_user=actor.user_id, incident_id=incident.id))
        self.mm.open_dialog(event.body.get("trigger_id", ""), self.chat.base_url + "/hooks/dialog",
                            dialogs.assign_item(state, lists, assignments.DEADLINE_FORMS))
        return {}

    @listen_webhook(r"^dialog:assign$")
    def assign_submitted(self, event):
        submitted = self.chat.about_incident(event)
        if submitted is None:
            return {}
        incident, actor, form = submitted.incident, submitted.actor, submitted.form
        item, person, due_text = str(form.get("item") or ""), str(form.get("person") or ""), str(form.get("due") or "").strip()
        missing = {}
        if not is_number(item):
            missing["item"] = "Pick the item."
        if not person:
            missing["person"] = "Pick who gets it."
        if missing:
            return {"errors": missing}
        try:
            deadline = flow.parse_deadline(self.chat.flows, actor.user_id, due_text) if due_text else assignments.KEEP
        except Invalid as exc:
            return {"errors": {"due": inert(exc.message)}}
        if not MATTERMOST_ID.fullmatch(person):  # the form is the client's: it must not shape a request path
            return {"errors": {"person": "Pick someone from the list."}}
        try:
            user = self.mm.user(person)
        except MattermostError:
            return {"errors": {"person": "There is no such user; pick someone from the list."}}
        try:
            change = flow.assign(self.chat.flows, actor, incident, int(item), user, deadline)
        except Invalid as exc:  # who it is for: not in the channel, a bot
            return {"errors": {"person": inert(exc.message)}}
        except DomainError as exc:
            return {"error": inert(exc.message)}
        self.chat.tell(event.body.get("channel_id", ""), actor.user_id,
                       f"Item {change.number} ({safe(change.item.title)}) is @{user['username']}'s now; I sent them a DM.")
        return {}

    # ---- Done, from a DM or a to-do list --------------------------------------------------------
    @listen_webhook(r"^action:tick_assigned$")
    def done_clicked(self, event):
        clicked = self.chat.about_incident(event)
        incident, actor, signed = clicked.incident, clicked.actor, clicked.signed
        result = flow.tick(self.chat.flows, actor, incident, signed.item_id)
        item = result.item
        said = (f"{safe(item.title)} was already ticked by @{self.chat.username(item.checked_by or '')}."
                if result.outcome is TickOutcome.ALREADY else f"Ticked {safe(item.title)} in **{safe(incident.name)}**.")
        if signed.surface == "dm":
            shown = flow.dm_for_post(self.chat.flows, incident, str(event.body.get("post_id") or ""))
            return {"update": shown} if shown else {"ephemeral_text": said}
        if signed.surface == "todo_dm":
            text, attachments = self.todo_for(actor.user_id, "todo_dm")
            return {"update": {"message": text, "props": {"attachments": attachments}}, "ephemeral_text": said}
        return {"ephemeral_text": said}  # an ephemeral list cannot be updated in place

    # ---- my to-do ---------------------------------------------------------------------------------
    @subcommand("todo", usage="/incident todo", summary="Your open items in every active incident you can see, overdue first.", order=19)
    def todo(self, request: CommandRequest) -> Reply:
        if request.args:
            raise UsageError("It takes no arguments.")
        text, attachments = self.todo_for(request.user_id, "todo")
        return Reply(text, attachments=attachments)

    @listen_to(r"^\s*todo\s*$", re.IGNORECASE, direct_only=True)
    def todo_in_dm(self, message) -> None:
        text, attachments = self.todo_for(message.user_id, "todo_dm")
        self.mm.post(message.channel_id, text, props={"attachments": attachments} if attachments else None)

    def todo_for(self, user_id: str, surface: str):
        entries = flow.todo(self.chat.flows, user_id, lambda team_id: self.chat.actor(user_id, team_id))
        return flow.todo_message(self.chat.flows, user_id, entries, surface)

    # ---- roles ------------------------------------------------------------------------------------
    @subcommand("role", usage="/incident role <role> @user", summary="Names who holds a role (commander, scribe, comms, or the "
                "playbook's); the role's items become theirs.", order=20)
    def role(self, request: CommandRequest) -> Reply:
        words = request.args.split()
        if len(words) < 2 or not words[-1].startswith("@"):
            raise UsageError()
        incident, actor = self.chat.here(request)
        role = assignments.known_role(incident, " ".join(words[:-1]))
        user = self.chat.user_by_mention(words[-1])
        if role == assignments.COMMANDER:
            incidents_flow.hand_over(self.chat.flows, actor, incident, user)
            return Reply(f"@{user['username']} is now the commander.")
        given = flow.give_role(self.chat.flows, actor, incident, role, user)
        items = f" and has item{'s' if len(given.items) > 1 else ''} {', '.join(n for _, n in given.items)}" if given.items else ""
        return Reply(f"@{user['username']} is the {given.role} of **{safe(incident.name)}** now{items}.")

    @subcommand("roles", usage="/incident roles", summary="Who holds each role of the incident.", order=21)
    def roles(self, request: CommandRequest) -> Reply:
        if request.args:
            raise UsageError("It takes no arguments; to give a role: `/incident role <role> @user`.")
        incident, actor = self.chat.here(request)
        incidents.require_view(actor, incident)
        return Reply(roles_text(incident.name, flow.roles(self.chat.flows, incident)))

    # ---- an owner leaves or comes back -----------------------------------------------------------------
    @listen_event("user_removed", "user_added")
    def owner_moved(self, event) -> None:
        """They keep their items; the checklist marks the ones whose owner left the channel."""
        channel_id = event["broadcast"].get("channel_id") or ""
        user_id = event["data"].get("user_id") or ""
        incident = incidents.incident_for_channel(channel_id) if channel_id else None
        if incident is None or not any(row.assignee_id == user_id for row in assignments.owners_of(incident).values()):
            return
        self.mm.forget_membership(channel_id)  # before the redraw asks again
        self.chat.flows.checklists.changed(incident.id)
