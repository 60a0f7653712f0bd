"""Who does what by when, as people see it: item owners on the checklist, the DMs, to-dos, roles.

The checklist message is read by many people at once, so its times are UTC; a DM and a to-do
list are read by one person, in their own Mattermost timezone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from typing import Any, Callable

from render.callbacks import Callback, TickAssigned
from render.dates import when
from render.text import safe

RED = "#D24B4E"
GREEN = "#3DB887"
AMBER = "#FFBC1F"
GREY = "#8A8A8A"
TODO_SHOWN_MAX = 25

Sign = Callable[[dict[str, Any]], dict[str, Any]]


def clock(ms: int | None) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%H:%M UTC") if ms else ""


# ---- on the checklist message -------------------------------------------------------------------
@dataclass(frozen=True)
class Owner:
    """What the checklist shows beside an item: who has it (or the role waiting for it), when it is due."""

    username: str | None = None
    left: bool = False  # they have it but are no longer in the channel
    role: str | None = None  # the playbook's role, shown while nobody has the item
    due_at: int | None = None


def owner_suffix(owner: Owner | None, now: int) -> str:
    """` → @bob · due 14:30 UTC` for an open item (empty when there is nothing to say)."""
    if owner is None:
        return ""
    parts = []
    if owner.username:
        parts.append(f" → @{owner.username}" + (" _(left the channel)_" if owner.left else ""))
    elif owner.role:
        parts.append(f" → _{owner.role}_ (nobody holds it yet)")
    if owner.due_at:
        parts.append(f" · ⚠️ **overdue** since {clock(owner.due_at)}" if owner.due_at <= now else f" · due {clock(owner.due_at)}")
    return "".join(parts)


def is_overdue(owner: Owner | None, now: int) -> bool:
    return bool(owner and owner.due_at and owner.due_at <= now)


# ---- the DM about one item ------------------------------------------------------------------------
@dataclass(frozen=True)
class ItemDM:
    """Everything an item's DM shows, read from the database when it is (re)drawn."""

    kind: str  # "assigned": it is yours; "due": it is due now
    for_user: str
    incident_id: int
    incident_name: str
    incident_url: str
    active: bool
    item_id: int
    number: str | None  # None: the item was removed
    title: str
    checked_by: str | None = None  # who ticked it, when ticked
    checked_at: int | None = None
    owner: str | None = None  # who has it now
    given_by: str | None = None
    due_at: int | None = None
    zone: tzinfo = timezone.utc

    @property
    def mine(self) -> bool:
        """Still for this person to do: theirs, or (a reminder to the commander) nobody's."""
        return self.owner == self.for_user or (self.kind == "due" and self.owner is None)

    def state_key(self, owner_name: str | None) -> str:
        """What the post shows, in short: it is redrawn only when this changes."""
        seen = "|".join(str(part) for part in (self.kind, self.active, self.number, self.title, self.checked_by,
                                               self.mine, owner_name, self.due_at))
        return hashlib.sha256(seen.encode()).hexdigest()[:40]


def item_dm(view: ItemDM, owner_name: str | None, given_by_name: str | None, checked_by_name: str | None, sign: Sign,
            action_url: str) -> dict[str, Any]:
    """`{"message", "props"}` of the DM; its button ticks the item while it is still to do."""
    place = f"[{safe(view.incident_name)}]({view.incident_url})"
    heading = f"{view.number} {safe(view.title)}" if view.number else safe(view.title)
    due = f"Due {when(view.due_at, view.zone)}." if view.due_at else "No deadline."
    if view.kind == "due":
        intro = f"⏰ **{heading}** in {place} was due at {when(view.due_at, view.zone)}."
        if view.owner is None:
            intro += f" Nobody has it: give it to someone with `/incident assign {view.number} @user` in the incident channel."
    else:
        by = f"@{given_by_name} gave you" if given_by_name else "You have"
        intro = f"{by} **{heading}** in {place}. {due}"
    actions: list[dict[str, Any]] = []
    if view.number is None:
        status, colour = "This item was removed from the checklist.", GREY
    elif view.checked_by:
        status, colour = f"~~{heading}~~ ticked by @{checked_by_name or 'someone'} at {when(view.checked_at, view.zone)}.", GREEN
    elif not view.active:
        status, colour = "The incident has ended.", GREY
    elif not view.mine:
        status, colour = (f"No longer yours: @{owner_name} has it now." if owner_name else "No longer yours: nobody has it now."), GREY
    else:
        status, colour = "Tick it here when it is done.", RED if view.kind == "due" else AMBER
        actions.append(_button("tickassigned", "☑ Done", TickAssigned(for_user=view.for_user, incident_id=view.incident_id,
                                                                      item_id=view.item_id, surface="dm"), sign, action_url))
    attachment = {"fallback": f"{view.number or ''} {view.title}".strip(), "color": colour, "text": f"{intro}\n{status}",
                  "actions": actions}
    return {"message": "", "props": {"attachments": [attachment]}}


def _button(action_id: str, name: str, context: Callback, sign: Sign, action_url: str, style: str = "primary") -> dict[str, Any]:
    return {"id": action_id, "name": name, "type": "button", "style": style,
            "integration": {"url": action_url, "context": sign(context.payload())}}


# ---- a person's to-do ------------------------------------------------------------------------------
@dataclass(frozen=True)
class TodoLine:
    incident_id: int
    incident_name: str
    incident_url: str
    item_id: int
    number: str
    title: str
    due_at: int | None


def todo_message(lines: list[TodoLine], now: int, zone: tzinfo, for_user: str, surface: str, sign: Sign,
                 action_url: str) -> tuple[str, list[dict[str, Any]]]:
    """The text and one attachment per item, each with a *Done* button; overdue first."""
    if not lines:
        return "You have no open items in the active incidents you can see. 🎉", []
    overdue = sum(1 for line in lines if line.due_at and line.due_at <= now)
    text = f"#### Your open items ({len(lines)})" + (f" · ⚠️ {overdue} overdue" if overdue else "")
    attachments = []
    for line in lines[:TODO_SHOWN_MAX]:
        late = bool(line.due_at and line.due_at <= now)
        due = (f" · ⚠️ **overdue** since {when(line.due_at, zone)}" if late else f" · due {when(line.due_at, zone)}") if line.due_at else ""
        attachments.append({
            "fallback": f"{line.incident_name}: {line.number} {line.title}",
            "color": RED if late else AMBER,
            "text": f"[{safe(line.incident_name)}]({line.incident_url}) · {line.number} {safe(line.title)}{due}",
            "actions": [_button(f"todo{line.item_id}", f"☑ Done {line.number}"[:48],
                                TickAssigned(for_user=for_user, incident_id=line.incident_id, item_id=line.item_id,
                                             surface=surface), sign, action_url)],
        })
    if len(lines) > TODO_SHOWN_MAX:
        text += f"\n_The first {TODO_SHOWN_MAX} are shown; tick some to see the rest._"
    return text, attachments


# ---- roles -------------------------------------------------------------------------------------------
def roles_text(incident_name: str, roles: list[tuple[str, str | None]]) -> str:
    rows = [f"#### Roles in {safe(incident_name)}", "| Role | Who |", "| --- | --- |"]
    rows += [f"| {role} | {'@' + name if name else '_nobody yet_'} |" for role, name in roles]
    return "\n".join(rows + ["", "Give a role with `/incident role <role> @user`; its items waiting for it become theirs."])
