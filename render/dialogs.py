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
