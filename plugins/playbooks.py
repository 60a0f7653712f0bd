"""Playbooks in chat: `/incident playbook <list|create|show|edit|...>` and importing YAML by DM.

One `@subcommand("playbook")` dispatches on the next word. Titles are given in "double
quotes"; commands that take nothing but a title also accept it unquoted. The rules (who may
see, edit, delete, manage editors) live in `services/permissions.py`; this module only asks
the services and says what happened.

Ways in besides the command: a DM to the bot saying `import playbook` with a YAML file
attached (`import playbook <team>` when the person shares several teams with the bot); the
*Yes, delete it* button of the delete prompt; the create/edit dialog.
"""

from __future__ import annotations

import logging
import re

from mmpy_bot import listen_to, listen_webhook

from chat.gateway import MattermostError, Upload
from chat.options import is_number
from flows import updates as updates_flow
from chat.context import ChatPlugin
from chat.registry import CommandRequest, Reply, UsageError, subcommand
from render import playbooks as view
from render.callbacks import ConfirmPlaybookDelete, PlaybookDialog
from render.text import inert, safe
from services import permissions, playbook_yaml, playbooks
from services.checklist_rules import locate_item, parse_checklists_text
from services.errors import DomainError, Forbidden, Invalid
from services.naming import parse_item_ref

log = logging.getLogger("incident.playbooks")

USAGES = {
    "list": "/incident playbook list",
    "create": "/incident playbook create",
    "show": '/incident playbook show "<title>"',
    "edit": '/incident playbook edit "<title>"',
    "delete": '/incident playbook delete "<title>"',
    "editors": '/incident playbook editors "<title>" [add|remove @user]',
    "export": '/incident playbook export "<title>"',
    "checkadd": '/incident playbook checkadd "<title>" [<checklist>] <text>',
    "checkremove": '/incident playbook checkremove "<title>" <item>',
    "checkrename": '/incident playbook checkrename "<title>" <item> <text>',
    "checkmove": '/incident playbook checkmove "<title>" <item> <position>',
    "settings": "/incident playbook settings [members-can-delete on|off]",
    "updates": '/incident playbook updates "<title>" [severity <1-4> | cadence <1-4> <15m, 2h, 1d> | broadcast ~channel or off | '
               'template <text> or off | announce-private on or off]',
}
PLAYBOOK_USAGE = "/incident playbook <command> ..."  # no "|": it is shown in a Markdown table
IMPORT_HELP = "DM me `import playbook` with a YAML file attached (the format `/incident playbook export` gives)."
QUOTES = {'"': '"', "\u201c": "\u201d"}
FILE_BYTES_MAX = playbook_yaml.YAML_TEXT_MAX * 4  # the text limit is in characters; UTF-8 needs up to 4 bytes each


def usage_table() -> str:
    rows = ["**Playbook commands**", *(f"- `{usage}`" for usage in USAGES.values())]
    notes = ("`<item>` is `3` (item 3 of the first checklist) or `2.3` (checklist 2, item 3). "
             "Put titles in \"double quotes\". " + IMPORT_HELP)
    return "\n".join([*rows, "", notes])


def split_title(text: str) -> tuple[str, str]:
    """`"Some title" rest` -> ("Some title", "rest"); unquoted, the first word is the title."""
    text = text.strip()
    if not text:
        raise UsageError("Say which playbook.")
    closing = QUOTES.get(text[0])
    if closing is None:
        word, _, rest = text.partition(" ")
        return word, rest.strip()
    end = text.find(closing, 1)
    if end < 0:
        raise Invalid("A quote is not closed: put the playbook title in matching \"double quotes\".")
    return text[1:end], text[end + 1:].strip()


def title_only(text: str) -> str:
    """The whole argument is the title, quoted or not."""
    if text.strip()[:1] in QUOTES:
        title, rest = split_title(text)
        if rest:
            raise UsageError("Put only the title after the command.")
        return title
    if not text.strip():
        raise UsageError("Say which playbook.")
    return text.strip()


def file_name(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.casefold()).strip("-")[:60]
    return f"{slug or 'playbook'}.yaml"


def _on(word: str) -> bool:
    if word.lower() in ("on", "yes", "true"):
        return True
    if word.lower() in ("off", "no", "false"):
        return False
    raise UsageError(f"Say on or off, not {safe(word)}.")


class Playbooks(ChatPlugin):
    def attach(self, chat) -> None:
        super().attach(chat)
        self.routes = {
            "list": self.list_, "create": self.create, "show": self.show, "edit": self.edit, "delete": self.delete,
            "editors": self.editors, "export": self.export, "checkadd": self.checkadd, "checkremove": self.checkremove,
            "checkrename": self.checkrename, "checkmove": self.checkmove, "settings": self.team_settings,
            "updates": self.update_settings,
        }

    def action_url(self) -> str:
        return self.chat.action_url

    # ---- routing --------------------------------------------------------------------------
    @subcommand("playbook", usage=PLAYBOOK_USAGE, order=20,
                summary="Reusable checklists for incidents: list, create, show, edit, delete, editors, export, "
                        "checkadd and friends, settings; `/incident playbook` shows how. " + IMPORT_HELP)
    def playbook(self, request: CommandRequest) -> Reply | None:
        word, _, rest = request.args.partition(" ")
        word = word.lower()
        if word in ("", "help"):
            return Reply(usage_table())
        route = self.routes.get(word)
        if route is None:
            return Reply(f"I don't know `playbook {safe(word)}`.\n{usage_table()}")
        try:
            return route(request, rest.strip())
        except UsageError as exc:
            detail = f"{exc} " if str(exc) else ""
            return Reply(f"{detail}Usage: `{USAGES[word]}`")

    def _find(self, request: CommandRequest, title: str):
        actor = self.chat.actor(request.user_id, request.team_id)
        return actor, playbooks.find_playbook(actor, request.team_id, title)

    # ---- list and show -----------------------------------------------------------------------
    def list_(self, request: CommandRequest, rest: str) -> Reply:
        if rest:
            raise UsageError("It takes no arguments.")
        actor = self.chat.actor(request.user_id, request.team_id)
        rows = [(s.playbook, s.checklists, s.items, [self.chat.username(user_id) for user_id in s.editor_ids])
                for s in playbooks.playbook_summaries(actor, request.team_id)]
        return Reply(view.playbook_list(rows))

    def show(self, request: CommandRequest, rest: str) -> Reply:
        _, playbook = self._find(request, title_only(rest))
        editors = [self.chat.username(e.user_id) for e in playbooks.list_editors(playbook)]
        return Reply(view.playbook_view(playbook, playbooks.checklists_of(playbook), editors))

    # ---- create and edit: one dialog ------------------------------------------------------------
    def create(self, request: CommandRequest, rest: str) -> None:
        if rest:
            raise UsageError("It takes no arguments: the dialog asks for everything.")
        # open the dialog at once: the trigger id expires 3 s after the command was typed
        state = self.chat.signed(PlaybookDialog(for_user=request.user_id, team_id=request.team_id))
        self.mm.open_dialog(request.trigger_id, self.chat.base_url + "/hooks/dialog", view.playbook_dialog(state))
        return None

    def edit(self, request: CommandRequest, rest: str) -> None:
        actor, playbook = self._find(request, title_only(rest))
        if not permissions.can_edit_playbook(actor, playbooks.facts_for(playbook)):
            raise Forbidden(f"Only editors of playbook {playbook.title!r} and admins can change it; ask an editor to add you.")
        text = view.checklists_as_text(playbooks.checklists_of(playbook))
        if len(text) > view.TEXTAREA_MAX:
            raise Invalid(f"The checklists of {playbook.title!r} are too long to edit in a dialog; change them with "
                          "`/incident playbook checkadd` and friends, or export, edit and import the YAML.")
        state = self.chat.signed(PlaybookDialog(for_user=request.user_id, team_id=playbook.team_id, playbook_id=playbook.id,
                                                version=playbook.version))
        self.mm.open_dialog(request.trigger_id, self.chat.base_url + "/hooks/dialog", view.playbook_dialog(
            state, editing=True, title=playbook.title, description=playbook.description, is_public=playbook.is_public,
            create_public_incidents=playbook.create_public_incidents, checklists_text=text))
        return None

    @listen_webhook(r"^dialog:playbook$")
    def dialog_submitted(self, event):
        submitted = self.chat.submission(event)
        if submitted is None:
            return {}
        state, form, actor, team_id = submitted
        body = event.body
        title = " ".join(str(form.get("title") or "").split())
        try:
            specs = parse_checklists_text(str(form.get("checklists") or ""))
            playbooks.require_items(specs)
        except Invalid as exc:
            return {"errors": {"checklists": inert(exc.message)}}
        fields = dict(description=str(form.get("description") or ""),
                      is_public=(form.get("visibility") or view.PUBLIC) != view.PRIVATE,
                      create_public_incidents=form.get("public_incidents") in (True, "true", "True", 1, "1"))
        editing_id = state.playbook_id
        if title and playbooks.title_taken(team_id, title, except_id=editing_id):
            return {"errors": {"title": inert(f"A playbook titled {title!r} already exists in this team; "
                                              "pick another title or edit that one.")}}
        try:
            if editing_id is None:
                playbook = playbooks.create_playbook(actor, team_id, title, checklists=specs, **fields)
                note = f"Playbook **{safe(playbook.title)}** created. See it with `/incident playbook show \"{playbook.title}\"`."
            else:
                playbook = playbooks.by_id(editing_id)
                if playbook is None or playbook.is_deleted:
                    return {"error": "That playbook was deleted meanwhile; nothing was saved."}
                playbook = playbooks.update_playbook(actor, playbook, title=title, checklists=specs, seen_version=state.version,
                                                     **fields)
                note = (f"Playbook **{safe(playbook.title)}** saved as version {playbook.version}. "
                        "Incidents already started from it keep their checklists.")
        except Invalid as exc:  # the checklists were checked above: what is left is the title
            return {"errors": {"title": inert(exc.message)}}
        except DomainError as exc:
            return {"error": inert(exc.message)}
        self.chat.tell(body.get("channel_id", ""), actor.user_id, note)
        return {}

    # ---- delete ------------------------------------------------------------------------------
    def delete(self, request: CommandRequest, rest: str) -> Reply:
        actor, playbook = self._find(request, title_only(rest))
        allowed = permissions.can_delete_playbook(
            actor, playbooks.facts_for(playbook),
            members_may_delete_public=playbooks.members_may_delete_public_playbooks(playbook.team_id))
        if not allowed:
            raise Forbidden(f"Only editors of playbook {playbook.title!r} and admins can delete it.")
        context = self.chat.signed(ConfirmPlaybookDelete(for_user=request.user_id, playbook_id=playbook.id,
                                                         team_id=request.team_id))
        self.mm.ephemeral(request.channel_id, request.user_id, "", props=view.delete_prompt(playbook, context, self.action_url()))
        return Reply()

    @listen_webhook(r"^action:playbook_delete$")
    def delete_confirmed(self, event):
        context = event.body["context"]
        playbook = playbooks.by_id(context.playbook_id)
        if playbook is None or playbook.is_deleted:
            return {"ephemeral_text": "That playbook is already deleted."}
        playbooks.delete_playbook(self.chat.actor(context.for_user, context.team_id), playbook)
        return {"ephemeral_text": f"Playbook **{safe(playbook.title)}** deleted. Incidents started from it keep their checklists."}

    # ---- editors -------------------------------------------------------------------------------
    def editors(self, request: CommandRequest, rest: str) -> Reply:
        if rest[:1] in QUOTES:
            title, tail = split_title(rest)
            words = tail.split()
        else:
            words = rest.split()
            if len(words) >= 3 and words[-2].lower() in ("add", "remove"):
                title, words = " ".join(words[:-2]), words[-2:]
            else:
                title, words = rest, []
        actor, playbook = self._find(request, title)
        if not words:
            names = [(self.chat.username(e.user_id), self.chat.username(e.added_by)) for e in playbooks.list_editors(playbook)]
            return Reply(view.editors_view(playbook, names))
        if len(words) != 2 or words[0].lower() not in ("add", "remove"):
            raise UsageError()
        user = self.chat.user_by_mention(words[1])
        if words[0].lower() == "add":
            if not self.mm.is_team_member(playbook.team_id, user["id"]):
                raise Invalid(f"@{user['username']} is not in this team; only team members can edit its playbooks.")
            playbooks.add_editor(actor, playbook, user["id"], username=user["username"])
            return Reply(f"@{user['username']} is now an editor of **{safe(playbook.title)}**.")
        playbooks.remove_editor(actor, playbook, user["id"], username=user["username"])
        return Reply(f"@{user['username']} is no longer an editor of **{safe(playbook.title)}**.")

    # ---- export and import ---------------------------------------------------------------------
    def export(self, request: CommandRequest, rest: str) -> Reply:
        _, playbook = self._find(request, title_only(rest))
        text = playbook_yaml.export_playbook_yaml(playbook)
        try:
            self.mm.direct_message(request.user_id,
                                   f"The playbook **{safe(playbook.title)}** (version {playbook.version}). "
                                   "Edit it and send it back to me with the message `import playbook` to update it.",
                                   uploads=[Upload(file_name(playbook.title), text.encode("utf-8"))])
        except MattermostError as exc:
            raise Invalid(f"I could not send you the file in a direct message ({exc.message}); try again later.") from None
        return Reply(f"I sent you **{safe(playbook.title)}** as a YAML file in a direct message.")

    @listen_to(r"^\s*import\s+playbook\b\s*(.*)$", re.IGNORECASE, direct_only=True)
    def import_in_dm(self, message, team_hint: str = "") -> None:
        try:
            answer = self.import_file(message.user_id, list(message.file_ids or []), team_hint.strip())
        except DomainError as exc:
            answer = inert(exc.message)
        self.mm.post(message.channel_id, answer)

    def import_file(self, user_id: str, file_ids: list[str], team_hint: str) -> str:
        team = self.team_for_dm(user_id, team_hint)
        if not file_ids:
            raise Invalid("Attach the playbook's YAML file to the message that says `import playbook`.")
        if len(file_ids) > 1:
            raise Invalid("Attach one YAML file at a time.")
        try:
            info = self.mm.file_info(file_ids[0])
            if int(info.get("size") or 0) > FILE_BYTES_MAX:
                raise Invalid(f"That file is {info.get('size')} bytes; a playbook file can be at most {FILE_BYTES_MAX}.")
            content = self.mm.file_content(file_ids[0])
        except MattermostError as exc:
            raise Invalid(f"I could not read the attached file ({exc.message}); attach it again.") from None
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Invalid("That file is not UTF-8 text; attach the YAML file `/incident playbook export` gives.") from None
        # read (safe_load only: nothing in the file is executed) and check before anything changes
        playbooks.require_items(playbook_yaml.parse_playbook_yaml(text).checklists)
        actor = self.chat.actor(user_id, team["id"])
        result = playbook_yaml.import_playbook_yaml(actor, team["id"], text)
        return view.import_summary(result)

    def team_for_dm(self, user_id: str, hint: str) -> dict:
        teams = [t for t in self.mm.my_teams() if self.mm.is_team_member(t["id"], user_id)]
        if hint:
            wanted = hint.casefold()
            teams = [t for t in teams if wanted in (t.get("name", "").casefold(), t.get("display_name", "").casefold())]
            if not teams:
                raise Invalid(f"You and I share no team called {hint!r}.")
        if len(teams) != 1:
            names = ", ".join(t.get("name", "") for t in teams) or "none"
            raise Invalid(f"I can't tell which team the playbook is for (yours with me: {names}); "
                          "say `import playbook <team>` with the file attached.")
        return teams[0]

    # ---- checklist edits, one at a time --------------------------------------------------------
    def _saved(self, playbook, what: str) -> Reply:
        return Reply(f"{what} Playbook **{safe(playbook.title)}** is now at version {playbook.version}; "
                     "incidents already started from it keep their checklists.")

    def checkadd(self, request: CommandRequest, rest: str) -> Reply:
        title, tail = split_title(rest)
        first, _, after = tail.partition(" ")
        checklist_index, text = 1, tail
        if is_number(first) and after.strip():
            checklist_index, text = int(first), after
        if not text.strip():
            raise UsageError("Say what the item is.")
        actor, playbook = self._find(request, title)
        saved = playbooks.add_playbook_item(actor, playbook, text, checklist_index)
        specs = playbooks.checklists_of(saved)
        number = f"{checklist_index}.{len(specs[checklist_index - 1].items)}"
        return self._saved(saved, f"Added item {number}: {safe(specs[checklist_index - 1].items[-1])}.")

    def checkremove(self, request: CommandRequest, rest: str) -> Reply:
        title, tail = split_title(rest)
        if len(tail.split()) != 1:
            raise UsageError()
        actor, playbook = self._find(request, title)
        specs = playbooks.checklists_of(playbook)
        counts = [len(s.items) for s in specs]
        ci, ii = locate_item(counts, *parse_item_ref(tail))
        if counts[ci] == 1 and permissions.can_edit_playbook(actor, playbooks.facts_for(playbook)):
            raise Invalid(f"Item {tail} is the only item of checklist {ci + 1}, and a checklist needs one; "
                          "add another item first.")
        removed = specs[ci].items[ii]
        saved = playbooks.remove_playbook_item(actor, playbook, tail)
        return self._saved(saved, f"Removed item {tail}: {safe(removed)}.")

    def checkrename(self, request: CommandRequest, rest: str) -> Reply:
        title, tail = split_title(rest)
        ref, _, text = tail.partition(" ")
        if not ref or not text.strip():
            raise UsageError()
        actor, playbook = self._find(request, title)
        saved = playbooks.rename_playbook_item(actor, playbook, ref, text)
        ci, ii = locate_item([len(s.items) for s in playbooks.checklists_of(saved)], *parse_item_ref(ref))
        return self._saved(saved, f"Item {ref} is now: {safe(playbooks.checklists_of(saved)[ci].items[ii])}.")

    def checkmove(self, request: CommandRequest, rest: str) -> Reply:
        title, tail = split_title(rest)
        words = tail.split()
        if len(words) != 2:
            raise UsageError()
        if not is_number(words[1]) or int(words[1]) < 1:
            raise Invalid(f"{safe(words[1])} is not a position: use a whole number from 1.")
        actor, playbook = self._find(request, title)
        ci, ii = locate_item([len(s.items) for s in playbooks.checklists_of(playbook)], *parse_item_ref(words[0]))
        moved = playbooks.checklists_of(playbook)[ci].items[ii]
        saved = playbooks.move_playbook_item(actor, playbook, words[0], int(words[1]))
        return self._saved(saved, f"Moved {safe(moved)} to position {words[1]}.")

    # ---- the team setting ------------------------------------------------------------------------
    def update_settings(self, request: CommandRequest, rest: str) -> Reply:
        title, tail = split_title(rest)
        actor, playbook = self._find(request, title)
        if tail:
            setting, _, value = tail.partition(" ")
            updates_flow.configure_playbook(self.chat.flows, actor, playbook, setting.lower(), value)
        lines = updates_flow.describe_playbook(self.chat.flows, playbook)
        return Reply(f"**Updates of playbook {safe(playbook.title)}**\n" + "\n".join(f"- {line}" for line in lines))

    def team_settings(self, request: CommandRequest, rest: str) -> Reply:
        words = rest.split()
        if not words:
            allowed = playbooks.members_may_delete_public_playbooks(request.team_id)
            return Reply("Members who are not editors " + ("**may**" if allowed else "**may not**")
                         + " delete public playbooks in this team (`members-can-delete` is "
                         + ("on" if allowed else "off") + ").")
        if len(words) != 2 or words[0].lower() != "members-can-delete":
            raise UsageError()
        allowed = _on(words[1])
        playbooks.set_members_may_delete_public_playbooks(self.chat.actor(request.user_id, request.team_id),
                                                          request.team_id, allowed)
        return Reply("Team members " + ("may now" if allowed else "may no longer")
                     + " delete public playbooks they do not edit.")
