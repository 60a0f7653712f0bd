"""Interactive dialogs the bot opens (Mattermost limits: title <= 24 chars, text default <= 150)."""

from __future__ import annotations


SEVERITY_OPTIONS = [{"text": "SEV1: critical", "value": "1"}, {"text": "SEV2: major", "value": "2"},
                    {"text": "SEV3: minor", "value": "3"}, {"text": "SEV4: low", "value": "4"}]


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
        {"display_name": "Severity", "name": "severity", "type": "select", "optional": True, "options": SEVERITY_OPTIONS,
         "help_text": "SEV1 is the most severe. Empty: as the playbook says (SEV3 without one)."},
        {"display_name": "Visibility", "name": "visibility", "type": "radio", "default": private_default or "playbook",
         "options": [{"text": "As the playbook says (public without one)", "value": "playbook"},
                     {"text": "Public: the whole team can see it", "value": "public"},
                     {"text": "Private: only channel members", "value": "private"}]},
    ]
    return {"callback_id": "start", "title": "Start incident", "submit_label": "Start", "notify_on_cancel": False,
            "state": state, "elements": elements}


def post_update(state: str, message: str, severity: int, cadence: str, cadences: tuple[str, ...]) -> dict:
    """The *Post update* dialog; `cadence` is the default for "next update in"."""
    elements = [
        {"display_name": "Update", "name": "message", "type": "textarea", "default": message[:3000], "max_length": 3000,
         "placeholder": "What changed, what is being done, what is next"},
        {"display_name": "Severity", "name": "severity", "type": "select", "default": str(severity),
         "options": SEVERITY_OPTIONS},
        {"display_name": "Next update in", "name": "next", "type": "select", "default": cadence,
         "options": [{"text": c, "value": c} for c in cadences]},
    ]
    return {"callback_id": "update", "title": "Post update", "submit_label": "Post", "notify_on_cancel": False,
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


def assign_item(state: str, checklists, forms: str) -> dict:
    """The *Assign…* dialog: an open item, a person (Mattermost's own user picker) and a deadline."""
    items = [{"text": f"{c.position + 1}.{i.position + 1} {' '.join(i.title.split())}"[:80], "value": str(i.id)}
             for c, its in checklists for i in its if not i.is_checked]
    elements = [
        {"display_name": "Item", "name": "item", "type": "select", "options": items},
        {"display_name": "Person", "name": "person", "type": "select", "data_source": "users",
         "help_text": "Someone in the incident channel."},
        {"display_name": "Due", "name": "due", "type": "text", "optional": True, "max_length": 40,
         "placeholder": "30m, 2h, 14:00, 2026-12-03 09:00", "help_text": f"Empty: the deadline stays. {forms}"[:150]},
    ]
    return {"callback_id": "assign", "title": "Assign an item", "submit_label": "Assign", "notify_on_cancel": False,
            "state": state, "elements": elements}
