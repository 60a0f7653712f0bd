"""Ticking and editing an incident's checklist: by command, and by clicking its message."""

from __future__ import annotations

import logging

from mmpy_bot import listen_webhook

from chat.context import ChatPlugin
from chat.registry import CommandRequest, Reply, UsageError, subcommand
from flows import checklists as flow
from chat.options import is_number, split_args
from render import dialogs
from render.callbacks import ChecklistDialog
from render.text import inert, safe
from services import checklists, permissions
from services.checklists import TickOutcome
from services.errors import DomainError, Invalid

log = logging.getLogger("incident.checklist")


def _number(text: str, what: str) -> int:
    if not is_number(text) or int(text) < 1:
        raise Invalid(f"{safe(text)} is not a {what}: use a whole number from 1.")
    return int(text)


class Checklists(ChatPlugin):
    # ---- commands ----------------------------------------------------------------------------
    @subcommand("check", usage="/incident check <item>", summary="Ticks an item (`3` or `2.3`).", order=10)
    def check(self, request: CommandRequest) -> Reply:
        return self._tick(request, True)

    @subcommand("uncheck", usage="/incident uncheck <item>", summary="Unticks an item.", order=11)
    def uncheck(self, request: CommandRequest) -> Reply:
        return self._tick(request, False)

    def _tick(self, request: CommandRequest, checked: bool) -> Reply:
        words = request.args.split()
        if len(words) != 1:
            raise UsageError()
        incident, actor = self.chat.here(request)
        result = flow.tick(self.chat.flows, actor, incident, words[0], checked)
        verb = "ticked" if checked else "unticked"
        if result.outcome is TickOutcome.ALREADY:
            return Reply(f"Item {words[0]} was already {verb}.")
        return Reply(f"Item {words[0]} {verb}: {safe(result.item.title)}")

    @subcommand("checkadd", usage="/incident checkadd [<checklist>] <text>",
                summary="Adds an item (to checklist number <checklist>, default the first).", order=12)
    def checkadd(self, request: CommandRequest) -> Reply:
        first, _, rest = request.args.partition(" ")
        checklist_index = 1
        text = request.args
        if is_number(first) and rest.strip():
            checklist_index, text = int(first), rest
        if not text.strip():
            raise UsageError("Say what the item is.")
        incident, actor = self.chat.here(request)
        item = flow.add_item(self.chat.flows, actor, incident, text, checklist_index)
        return Reply(f"Added item {checklist_index}.{item.position + 1}: {safe(item.title)}")

    @subcommand("checkremove", usage="/incident checkremove <item>", summary="Removes an item.", order=13)
    def checkremove(self, request: CommandRequest) -> Reply:
        words = request.args.split()
        if len(words) != 1:
            raise UsageError()
        incident, actor = self.chat.here(request)
        item = flow.remove_item(self.chat.flows, actor, incident, words[0])
        return Reply(f"Removed item {words[0]}: {safe(item.title)}")

    @subcommand("checkrename", usage="/incident checkrename <item> <text>", summary="Renames an item.", order=14)
    def checkrename(self, request: CommandRequest) -> Reply:
        ref, _, text = request.args.partition(" ")
        if not ref or not text.strip():
            raise UsageError()
        incident, actor = self.chat.here(request)
        item = flow.rename_item(self.chat.flows, actor, incident, ref, text)
        return Reply(f"Item {ref} is now: {safe(item.title)}")

    @subcommand("checkmove", usage="/incident checkmove <item> <position>", summary="Moves an item to another position in its checklist.", order=15)
    def checkmove(self, request: CommandRequest) -> Reply:
        words = split_args(request.args)
        if len(words) != 2:
            raise UsageError()
        position = _number(words[1], "position")
        incident, actor = self.chat.here(request)
        item = flow.move_item(self.chat.flows, actor, incident, words[0], position)
        return Reply(f"Moved {safe(item.title)} to position {position}.")

    # ---- the buttons -------------------------------------------------------------------------
    @listen_webhook(r"^action:tick$")
    def tick_clicked(self, event):
        about = self.chat.about_incident(event)
        context = about.signed
        clicked = flow.click_item(self.chat.flows, about.actor, about.incident.id, context.item_id, context.checked)
        answer = {"update": clicked.message}
        if clicked.refused is not None:
            answer["ephemeral_text"] = inert(clicked.refused)
        elif clicked.result.outcome is TickOutcome.ALREADY:
            item = clicked.result.item
            who = self.chat.username(item.checked_by) if item.checked_by else None
            state = f"already ticked by @{who}" if context.checked else "already unticked"
            answer["ephemeral_text"] = f"{safe(item.title)} was {state}; the checklist is up to date now."
        return answer

    @listen_webhook(r"^action:edit_ask$")
    def edit_clicked(self, event):
        clicked = self.chat.about_incident(event)
        incident, actor = clicked.incident, clicked.actor
        if not incident.is_active:
            return {"ephemeral_text": "This incident has ended; restart it to change its checklist."}
        if not permissions.can_change_incident(actor, incident):
            return {"ephemeral_text": f"Only members of ~{incident.channel_name} and admins can change this checklist."}
        state = self.chat.signed(ChecklistDialog(for_user=actor.user_id, incident_id=incident.id))
        self.mm.open_dialog(event.body.get("trigger_id", ""), self.chat.base_url + "/hooks/dialog",
                            dialogs.edit_checklist(state, checklists.checklists_of(incident)))
        return {}

    @listen_webhook(r"^dialog:checklist_edit$")
    def edit_submitted(self, event):
        submitted = self.chat.about_incident(event)
        if submitted is None:
            return {}
        incident, actor, form = submitted.incident, submitted.actor, submitted.form
        change, text = form.get("change") or "add", str(form.get("text") or "").strip()
        item_id = int(form["item"]) if is_number(str(form.get("item") or "")) else None
        missing = {}
        if change in ("add", "rename") and not text:
            missing["text"] = "Write the item's text."
        if change in ("rename", "remove", "move") and item_id is None:
            missing["item"] = "Pick the item."
        if change == "move" and not is_number(str(form.get("position") or "").strip()):
            missing["position"] = "Give a position: 1 is the top."
        if missing:
            return {"errors": missing}
        try:
            flows = self.chat.flows
            if change == "add":
                where = str(form.get("checklist") or "1")
                flow.add_item(flows, actor, incident, text, int(where) if is_number(where) else 1)
            elif change == "rename":
                flow.rename_item(flows, actor, incident, item_id, text)
            elif change == "remove":
                flow.remove_item(flows, actor, incident, item_id)
            elif change == "move":
                flow.move_item(flows, actor, incident, item_id, int(str(form["position"]).strip()))
            else:
                return {"errors": {"change": "Pick add, rename, remove or move."}}
        except DomainError as exc:
            return {"error": inert(exc.message)}
        return {}
