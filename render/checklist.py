"""The checklist message: one attachment per checklist, each item a button that ticks it.

Buttons carry signed contexts (`render.callbacks`): an item's button is a `TickItem`, whose
wanted state makes a repeated click harmless and a click on an outdated message do what the
person saw. It names no version of the incident, so a button stays the same signed context
while its item does (issue 14: every click re-signed every button of the message).
"""

from __future__ import annotations

import functools
import time
from datetime import datetime, timezone
from typing import Callable, Mapping

from render.assignments import Owner, is_overdue, owner_suffix
from render.callbacks import AskAssign, AskEnd, Callback, EditChecklist, TickItem
from render.text import safe

GREEN = "#3DB887"
AMBER = "#FFBC1F"
GREY = "#8A8A8A"
BUTTON_LABEL_MAX = 48


def _when(ms: int | None) -> str:
    return _minute(ms // 60_000) if ms else ""


@functools.lru_cache(maxsize=1024)  # every render writes one per ticked item: most are the same few minutes
def _minute(minute: int) -> str:
    return datetime.fromtimestamp(minute * 60, tz=timezone.utc).strftime("%H:%M UTC")


def _label(number: str, title: str, checked: bool) -> str:
    mark = "☑" if checked else "☐"
    text = f"{mark} {number} {' '.join(title.split())}"
    return text if len(text) <= BUTTON_LABEL_MAX else text[: BUTTON_LABEL_MAX - 1] + "…"


# A burst of clicks renders one checklist many times a second, and most of its buttons are the
# same each time. An identical button signed less than REUSE_SIGNED_FOR seconds ago gets that
# signed context again: same fields, its issued_at at most that much older.
REUSE_SIGNED_FOR = 60
_SIGNED_KEPT = 1024  # a few big checklists being clicked at once; bounded, since every incident signs its own buttons
_signed: dict[tuple[Callable[[dict], dict], Callback], dict] = {}


def signed(sign: Callable[[dict], dict], context: Callback) -> dict:
    """`sign(context.payload())`, or a copy of the one made for an equal context (issued_at aside) just now."""
    key = (sign, context)
    made = _signed.get(key)
    if made is None or not 0 <= time.time() - made.get("issued_at", 0) < REUSE_SIGNED_FOR:
        if len(_signed) >= _SIGNED_KEPT:
            _signed.clear()  # old entries are past reuse anyway; no need for an LRU
        made = _signed[key] = sign(context.payload())
    return dict(made)


def progress(checklists) -> tuple[int, int]:
    done = sum(1 for _, items in checklists for item in items if item.is_checked)
    return done, sum(len(items) for _, items in checklists)


def checklist_message(incident, checklists, usernames: Callable[[str], str], sign: Callable[[dict], dict],
                      action_url: str, next_due: int | None = None, owners: Mapping[int, Owner] | None = None,
                      now: int = 0) -> dict:
    """`{"message", "props"}` for the incident's checklist post; `next_due`: when the next
    status update is due (None: no reminder); `owners`: item id -> who has it and by when
    (`now` tells which deadlines have passed)."""
    owners = owners or {}

    def button(action_id: str, name: str, context: Callback, style: str = "default") -> dict:
        return {"id": action_id, "name": name, "type": "button", "style": style,
                "integration": {"url": action_url, "context": signed(sign, context)}}

    active = incident.is_active
    attachments = []
    for checklist, items in checklists:
        done = sum(1 for item in items if item.is_checked)
        lines = []
        actions = []
        for item in items:
            number = f"{checklist.position + 1}.{item.position + 1}"
            if item.is_checked:
                who = usernames(item.checked_by) if item.checked_by else "someone"
                lines.append(f"{number} ~~{safe(item.title)}~~ — @{who} at {_when(item.checked_at)}")
            else:
                lines.append(f"{number} {safe(item.title)}{owner_suffix(owners.get(item.id), now)}")
            if active:
                context = TickItem(incident_id=incident.id, item_id=item.id, checked=not item.is_checked)
                actions.append(button(f"tick{item.id}", _label(number, item.title, item.is_checked), context,
                                      "good" if item.is_checked else "default"))
        if not items:
            lines.append("_No items yet: add one with `/incident checkadd <text>`._")
        complete = items and done == len(items)
        attachments.append({
            "fallback": f"{checklist.title}: {done}/{len(items)} done",
            "color": GREEN if complete else (AMBER if active else GREY),
            "title": f"{safe(checklist.title)} ({done}/{len(items)})",
            "text": "\n".join(lines),
            "actions": actions,
        })
    done, total = progress(checklists)
    overdue = sum(1 for _, items in checklists for item in items if not item.is_checked and is_overdue(owners.get(item.id), now))
    footer = {
        "fallback": f"Commander @{usernames(incident.commander_id)}",
        "color": GREY,
        "text": f"Commander: @{usernames(incident.commander_id)} · SEV{incident.severity} · Progress {done}/{total}"
                + (f" · Last update {_when(incident.last_update_at)}" if incident.last_update_at else "")
                + (f" · Next update due {_when(next_due)}" if active and next_due else "")
                + (f" · ⚠️ {overdue} overdue" if active and overdue else "")
                + ("" if active else " · **Ended**"),
        "actions": [button("editchecklist", "Edit checklist", EditChecklist(incident_id=incident.id)),
                    button("assignitem", "Assign…", AskAssign(incident_id=incident.id)),
                    button("endincident", "End incident", AskEnd(incident_id=incident.id), "danger")] if active else [],
    }
    attachments.append(footer)
    title = f"#### Checklist for {safe(incident.name)}" + ("" if active else " (ended)")
    return {"message": title, "props": {"attachments": attachments}}
