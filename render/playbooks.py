"""Playbook payloads: the create/edit dialog, the list, the numbered view, the delete prompt.

Dialog limits (Mattermost): title <= 24 characters, textarea default and value <= 3000.
"""

from __future__ import annotations

from typing import Callable

from render.text import safe

TEXTAREA_MAX = 3000
DESCRIPTION_MAX = 3000
PUBLIC, PRIVATE = "public", "private"


def checklists_as_text(specs) -> str:
    """The checklists as the dialog's text: one item per line, `## Name` before each checklist."""
    lines: list[str] = []
    for spec in specs:
        lines.append(f"## {spec.title}")
        lines.extend(spec.items)
    return "\n".join(lines)


def playbook_dialog(state: str, *, editing: bool = False, title: str = "", description: str = "", is_public: bool = True,
                    create_public_incidents: bool = False, checklists_text: str = "") -> dict:
    """The *Create playbook* dialog, or the *Edit playbook* one prefilled with the current version."""
    elements = [
        {"display_name": "Title", "name": "title", "type": "text", "default": title, "max_length": 64,
         "placeholder": "e.g. Database outage", "help_text": "Unique in this team."},
        {"display_name": "Description", "name": "description", "type": "textarea", "optional": True,
         "default": description[:DESCRIPTION_MAX], "max_length": DESCRIPTION_MAX},
        {"display_name": "Who can see the playbook", "name": "visibility", "type": "radio",
         "default": PUBLIC if is_public else PRIVATE,
         "options": [{"text": "Public: the whole team", "value": PUBLIC},
                     {"text": "Private: its editors and admins", "value": PRIVATE}]},
        {"display_name": "Create public incidents", "name": "public_incidents", "type": "bool", "optional": True,
         "default": "true" if create_public_incidents else "false",
         "placeholder": "Incidents started from it are public (off: private)"},
        {"display_name": "Checklists", "name": "checklists", "type": "textarea", "default": checklists_text,
         "max_length": TEXTAREA_MAX, "placeholder": "One item per line.\n## Name starts another checklist.",
         "help_text": "One item per line; a line `## Name` starts another checklist."},
    ]
    return {"callback_id": "playbook", "title": "Edit playbook" if editing else "Create playbook",
            "submit_label": "Save" if editing else "Create", "notify_on_cancel": False, "state": state,
            "elements": elements}


def visibility(playbook) -> str:
    return "public" if playbook.is_public else ":lock: private"


def incidents_kind(playbook) -> str:
    return "public" if playbook.create_public_incidents else "private"


def playbook_list(rows: list[tuple]) -> str:
    """`rows`: (playbook, checklist count, item count, editor usernames)."""
    if not rows:
        return "There are no playbooks in this team that you can see. Create one with `/incident playbook create`."
    lines = [f"**Playbooks ({len(rows)})**", "| Playbook | Visibility | Checklists | Items | Editors |",
             "| --- | --- | --- | --- | --- |"]
    for playbook, checklist_count, item_count, editors in rows:
        lines.append(f"| {safe(playbook.title)} | {visibility(playbook)} | {checklist_count} | {item_count} | "
                     f"{', '.join('@' + name for name in editors)} |")
    return "\n".join(lines)


def playbook_view(playbook, specs, editors: list[str]) -> str:
    lines = [f"#### {safe(playbook.title)}",
             f"Visibility: {visibility(playbook)} · Incidents started from it: {incidents_kind(playbook)} · "
             f"Version {playbook.version} · Editors: {', '.join('@' + name for name in editors) or '--'}"]
    if playbook.description.strip():
        lines.extend("> " + safe(line) if line.strip() else ">" for line in playbook.description.splitlines())
    for number, spec in enumerate(specs, start=1):
        lines.append(f"**{number}. {safe(spec.title)}**")
        if not spec.items:
            lines.append("_No items._")
        for item_number, item in enumerate(spec.items, start=1):
            lines.append(f"{number}.{item_number} {safe(item)}")
    return "\n".join(lines)


def editors_view(playbook, editors: list[tuple[str, str]]) -> str:
    """`editors`: (username, username of who added them), the creator first."""
    parts = []
    for name, added_by in editors:
        note = " (joined)" if name == added_by else f" (added by @{added_by})"
        parts.append(f"@{name}{note}")
    return f"Editors of **{safe(playbook.title)}**: " + (", ".join(parts) or "none")


def delete_prompt(playbook, context: dict, action_url: str) -> dict:
    """The props of the ephemeral *Delete?* post, its button carrying a signed context."""
    return {"attachments": [{
        "text": f"Delete the playbook **{safe(playbook.title)}**? Incidents started from it keep their checklists.",
        "actions": [{"id": "playbookdelete", "name": "Yes, delete it", "type": "button", "style": "danger",
                     "integration": {"url": action_url, "context": context}}],
    }]}


def import_summary(result, username: Callable[[str], str] | None = None) -> str:
    playbook = result.playbook
    if result.created:
        return (f"Created the playbook **{safe(playbook.title)}** ({visibility(playbook)}; "
                f"{'; '.join(safe(c) for c in result.changes)}).")
    if not result.changes:
        return f"The playbook **{safe(playbook.title)}** already matches that file; nothing changed."
    changes = "\n".join(f"- {safe(change)}" for change in result.changes)
    return f"Updated the playbook **{safe(playbook.title)}** to version {playbook.version}:\n{changes}"
