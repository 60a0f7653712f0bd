"""Interactive dialogs the bot opens (Mattermost limits: title <= 24 chars, text default <= 150)."""

from __future__ import annotations


def start_incident(state: str, playbooks: list[tuple[str, str]], name: str = "", summary: str = "",
                   private_default: str = "") -> dict:
    """The *Start incident* dialog. `playbooks` are (value, label) pairs."""
    elements = [
        {"display_name": "Name", "name": "name", "type": "text", "default": name[:64], "max_length": 64,
         "placeholder": "What is happening? e.g. Checkout errors"},
        {"display_name": "Playbook", "name": "playbook", "type": "select", "optional": True,
         "options": [{"text": label, "value": value} for value, label in playbooks],
         "help_text": "Its checklists are copied into the incident."},
        {"display_name": "Summary", "name": "summary", "type": "textarea", "optional": True, "default": summary[:3000],
         "max_length": 3000},
        {"display_name": "Visibility", "name": "visibility", "type": "radio", "default": private_default or "playbook",
         "options": [{"text": "As the playbook says (public without one)", "value": "playbook"},
                     {"text": "Public: the whole team can see it", "value": "public"},
                     {"text": "Private: only channel members", "value": "private"}]},
    ]
    return {"callback_id": "start", "title": "Start incident", "submit_label": "Start", "notify_on_cancel": False,
            "state": state, "elements": elements}


EDIT_CHANGES = [("add", "Add an item"), ("rename", "Rename an item"), ("remove", "Remove an item"), ("move", "Move an item")]


def edit_checklist(state: str, checklists) -> dict:
    """The *Edit checklist* dialog: one change per submit, applied exactly like the commands."""
    items = [{"text": f"{c.position + 1}.{i.position + 1} {' '.join(i.title.split())}"[:80], "value": str(i.id)}
             for c, its in checklists for i in its]
    lists = [{"text": f"{c.position + 1}. {c.title}"[:80], "value": str(c.position + 1)} for c, _ in checklists]
    elements = [
        {"display_name": "Change", "name": "change", "type": "radio", "default": "add",
         "options": [{"text": text, "value": value} for value, text in EDIT_CHANGES]},
        {"display_name": "Item", "name": "item", "type": "select", "optional": True, "options": items,
         "help_text": "The item to rename, remove or move."},
        {"display_name": "Text", "name": "text", "type": "text", "optional": True, "max_length": 500,
         "help_text": "The new item, or the item's new name."},
        {"display_name": "Checklist", "name": "checklist", "type": "select", "optional": True, "options": lists,
         "default": "1", "help_text": "Where a new item goes."},
        {"display_name": "Position", "name": "position", "type": "text", "subtype": "number", "optional": True,
         "help_text": "Where to move the item in its checklist (1 is the top)."},
    ]
    return {"callback_id": "checklist_edit", "title": "Edit checklist", "submit_label": "Apply",
            "notify_on_cancel": False, "state": state, "elements": elements}
