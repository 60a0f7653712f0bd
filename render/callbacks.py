"""What a button or a dialog carries back to the bot, as typed values with readable names.

Each click or submission comes back with the `context` (buttons) or `state` (dialogs) the bot
put in it, signed (`chat/signing.py`). These classes are those payloads: the renderers build
them, `chat/web.py` turns what comes back into one of them (refusing it if it is not signed by
the bot, or if it was made for another person) and hands it to the handler for its name.

Messages posted before the names were spelled out carry one-letter keys (`{"a": "tick",
"i": 7, "it": 31, "c": true, "v": 4}`); each class's `legacy` reads those, so old buttons
keep working.

Every payload carries the time it was made (`issued_at`, signed with the rest), so a button
lifted from an old message stops working after a while (`chat/web.py`); a message gets fresh
buttons whenever it is rendered again. Payloads from before that have `issued_at` 0.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from dataclasses import dataclass
from typing import Any, ClassVar

NAME = "callback"  # the payload's own name: which handler it is for


_SCALARS = (str, int, float, type(None))  # bool is an int


@functools.cache
def _fields(cls: type) -> tuple[tuple[str, Any], ...]:
    """(name, default) of each field; dataclasses.MISSING for those without one."""
    return tuple((field.name, field.default) for field in dataclasses.fields(cls))


def _is_default(value: Any, default: Any) -> bool:
    return type(value) is type(default) and value == default  # 0 is not False


@dataclass(frozen=True, kw_only=True)
class Callback:
    kind: ClassVar[str]           # "action" (a button) or "dialog"
    name: ClassVar[str]           # which one; handlers listen for `<kind>:<name>`
    not_yours: ClassVar[str] = "This was meant for someone else."
    legacy: ClassVar[dict[str, str]] = {}  # one-letter key of older messages -> field

    for_user: str = ""  # when set, only this person may use it
    # when it was signed, in Unix seconds (0: before payloads carried it); not part of what it means
    issued_at: int = dataclasses.field(default=0, compare=False)

    def payload(self) -> dict[str, Any]:
        """The fields to sign, under readable names; made now unless it says when.

        A field at its default is left out (it reads back as the default): a checklist's
        buttons are most of its message's bytes, which Mattermost stores and sends to every
        member on every tick (issue 14)."""
        # what dataclasses.asdict gives, without its deep copy of every value (a checklist
        # message makes one payload per item on every render: issue 14); nested values are
        # still copied, so a payload never shares a dict with the callback
        fields = {name: getattr(self, name) for name, _ in _fields(type(self))}
        if not all(isinstance(value, _SCALARS) for value in fields.values()):
            fields = dataclasses.asdict(self)
        fields = {name: fields[name] for name, default in _fields(type(self)) if not _is_default(fields[name], default)}
        return {NAME: self.name, **fields, "issued_at": self.issued_at or int(time.time())}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> "Callback":
        fields = {cls.legacy.get(key, key): value for key, value in payload.items()
                  if key not in (NAME, "a", "d", "selected_option")}
        return cls(**fields)


# ---- buttons ---------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class TickItem(Callback):
    """An item's button on the checklist message: tick it (or untick it)."""

    kind, name = "action", "tick"
    legacy = {"i": "incident_id", "it": "item_id", "c": "checked", "v": "seen_version"}
    incident_id: int
    item_id: int
    checked: bool               # the state wanted: a repeated click is harmless
    seen_version: int | None = None  # older messages' buttons named the incident version they showed; unused


@dataclass(frozen=True, kw_only=True)
class EditChecklist(Callback):
    kind, name = "action", "edit_ask"
    legacy = {"i": "incident_id"}
    incident_id: int


@dataclass(frozen=True, kw_only=True)
class AskEnd(Callback):
    kind, name = "action", "end_ask"
    legacy = {"i": "incident_id"}
    incident_id: int


@dataclass(frozen=True, kw_only=True)
class ConfirmEnd(Callback):
    """Yes, end it: bound to one run, so a confirmation from before a restart cannot end it."""

    kind, name = "action", "end_confirm"
    not_yours = "This confirmation was for someone else."
    legacy = {"i": "incident_id", "u": "for_user", "r": "run"}
    incident_id: int
    run: int


@dataclass(frozen=True, kw_only=True)
class StartFromPost(Callback):
    """The prompt after someone reacted to a post with the trigger emoji."""

    kind, name = "action", "start_from_post"
    not_yours = "This prompt was for someone else."
    legacy = {"p": "post_id", "t": "team_id", "u": "for_user", "x": "from_private_channel"}
    post_id: str
    team_id: str
    from_private_channel: bool = False


@dataclass(frozen=True, kw_only=True)
class ConfirmPlaybookDelete(Callback):
    kind, name = "action", "playbook_delete"
    not_yours = "This confirmation was for someone else."
    legacy = {"p": "playbook_id", "t": "team_id", "u": "for_user"}
    playbook_id: int
    team_id: str


@dataclass(frozen=True, kw_only=True)
class BackstagePage(Callback):
    kind, name = "action", "backstage_page"
    not_yours = "This list was for someone else; run /incident backstage yourself."
    legacy = {"u": "for_user", "t": "team_id", "f": "filters", "p": "page"}
    team_id: str
    filters: dict[str, Any]
    page: int = 1


@dataclass(frozen=True, kw_only=True)
class PostUpdate(Callback):
    """*Post update* on an "update due" reminder: opens the update dialog."""

    kind, name = "action", "post_update"
    incident_id: int


@dataclass(frozen=True, kw_only=True)
class SnoozeReminder(Callback):
    """*Snooze 15m* on the reminder for the update due at `due_at` (a later reminder has its own)."""

    kind, name = "action", "snooze"
    incident_id: int
    due_at: int


@dataclass(frozen=True, kw_only=True)
class FollowupDone(Callback):
    """*Done* beside a follow-up in `/incident followups`."""

    kind, name = "action", "followup_done"
    incident_id: int
    number: int


@dataclass(frozen=True, kw_only=True)
class AskAssign(Callback):
    """*Assign…* on the checklist message: opens the assign dialog."""

    kind, name = "action", "assign_ask"
    incident_id: int


@dataclass(frozen=True, kw_only=True)
class TickAssigned(Callback):
    """*Done* on an item's DM (`surface` "dm") or on a to-do list ("todo": ephemeral, "todo_dm": a DM post)."""

    kind, name = "action", "tick_assigned"
    not_yours = "This button was for someone else; `/incident todo` lists your own items."
    incident_id: int
    item_id: int
    surface: str = "dm"


# ---- dialogs ---------------------------------------------------------------------------------
# Mattermost shows a dialog, state included, to the one person it was opened for, so the state
# alone proves nothing about who submits it: every dialog is bound to that person.
NOT_YOUR_DIALOG = "This dialog was opened for someone else."


@dataclass(frozen=True, kw_only=True)
class StartDialog(Callback):
    kind, name = "dialog", "start"
    not_yours = NOT_YOUR_DIALOG
    legacy = {"u": "for_user", "t": "team_id", "p": "source_post_id"}
    team_id: str
    source_post_id: str = ""


@dataclass(frozen=True, kw_only=True)
class ChecklistDialog(Callback):
    kind, name = "dialog", "checklist_edit"
    not_yours = NOT_YOUR_DIALOG
    legacy = {"u": "for_user", "i": "incident_id"}
    incident_id: int


@dataclass(frozen=True, kw_only=True)
class PlaybookDialog(Callback):
    """Create a playbook, or edit one (`playbook_id`, at the `version` the dialog showed)."""

    kind, name = "dialog", "playbook"
    not_yours = NOT_YOUR_DIALOG
    legacy = {"u": "for_user", "t": "team_id", "i": "playbook_id", "v": "version"}
    team_id: str
    playbook_id: int | None = None
    version: int | None = None


@dataclass(frozen=True, kw_only=True)
class UpdateDialog(Callback):
    kind, name = "dialog", "update"
    not_yours = NOT_YOUR_DIALOG
    incident_id: int


@dataclass(frozen=True, kw_only=True)
class AssignDialog(Callback):
    kind, name = "dialog", "assign"
    not_yours = NOT_YOUR_DIALOG
    incident_id: int


KNOWN: dict[tuple[str, str], type[Callback]] = {
    (cls.kind, cls.name): cls
    for cls in (TickItem, EditChecklist, AskEnd, ConfirmEnd, StartFromPost, ConfirmPlaybookDelete, BackstagePage,
                PostUpdate, SnoozeReminder, FollowupDone, AskAssign, TickAssigned, StartDialog, ChecklistDialog, PlaybookDialog,
                UpdateDialog, AssignDialog)
}


def read(kind: str, payload: dict[str, Any]) -> Callback:
    """The typed callback a verified payload stands for; KeyError/TypeError if it is none."""
    name = payload.get(NAME, payload.get("a" if kind == "action" else "d"))
    return KNOWN[(kind, str(name))].from_payload(payload)
