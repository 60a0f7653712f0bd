"""What a playbook says about who gets an item and when it is due, applied when an incident starts.

A playbook item is stored as written (`[comms] Update the status page +30m`), so showing,
editing and exporting a playbook keep the markup. The incident's copy of the item loses it: its
title is the plain text, and an `ItemAssignment` row remembers the role and the offset. Items of
the commander role are the commander's at once; the others wait for their role to be filled.
"""
from __future__ import annotations

from models import Checklist, ChecklistItem, Incident
from models.assignments import ItemAssignment

from .checklist_rules import split_item_markup
from .errors import Invalid

COMMANDER = "commander"


def take_from_titles(incident: Incident, at: int) -> int:
    """Inside the start's transaction; returns how many items had markup."""
    items = list(ChecklistItem.select().join(Checklist).where(Checklist.incident == incident.id))
    taken = 0
    for item in items:
        try:
            markup = split_item_markup(item.title)
        except Invalid:  # a version saved before the markup was checked: the text stays as written
            continue
        if markup.role is None and markup.due_offset is None:
            continue
        ChecklistItem.update(title=markup.title).where(ChecklistItem.id == item.id).execute()
        commanders = markup.role == COMMANDER
        ItemAssignment.create(incident=incident.id, item=item.id, role=markup.role, due_offset=markup.due_offset,
                              assignee_id=incident.commander_id if commanders else None,
                              assigned_at=at if commanders else None, announced=not commanders)
        taken += 1
    return taken
