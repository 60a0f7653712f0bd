"""Playbooks as YAML text, for sharing between teams and servers.

    title: Database outage
    description: What to do when the primary stops answering.
    public: true                    # visible to the whole team
    create_public_incidents: false
    checklists:
      - title: Triage
        items:
          - Page the on-call DBA
          - Check replication lag

Import reads with a SafeLoader that also refuses aliases, and names the first problem it finds.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Sequence
from dataclasses import dataclass, field

import yaml

from models import Playbook
from models.playbooks import title_key

from . import permissions
from .actor import Actor
from .checklist_rules import ChecklistSpec, validate_specs
from .errors import Conflict, Invalid
from .playbooks import checklists_of, create_playbook, facts_for, update_playbook

YAML_TEXT_MAX = 200_000
TOP_FIELDS = ("title", "description", "public", "create_public_incidents", "checklists")
CHECKLIST_FIELDS = ("title", "items")


@dataclass
class ImportResult:
    playbook: Playbook
    created: bool
    changes: list[str] = field(default_factory=list)  # one short line per change, for the user


def export_playbook_yaml(playbook: Playbook) -> str:
    document = {
        "title": playbook.title,
        "description": playbook.description,
        "public": playbook.is_public,
        "create_public_incidents": playbook.create_public_incidents,
        "checklists": [{"title": s.title, "items": list(s.items)} for s in checklists_of(playbook)],
    }
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=1000)


def _unknown(fields: Iterable[Any], allowed: Sequence[str], where: str) -> None:
    unknown = [k for k in fields if k not in allowed]
    if unknown:
        raise Invalid(
            f"Unknown field {_show(unknown[0])} {where}; the fields are: {', '.join(allowed)}."
        )


def _show(value: object) -> str:
    """A value someone wrote, for a message: short scalars as written, anything else by kind.

    Never the repr of a collection: YAML aliases can make a tiny file expand to gigabytes.
    """
    if isinstance(value, (str, int, float, bool)) or value is None:
        text = repr(value)
        return text if len(text) <= 40 else text[:39] + "…"
    return f"a {type(value).__name__}"


class _NoAliasLoader(yaml.SafeLoader):
    """safe_load without anchors and aliases (`&a` / `*a`): a playbook never needs them, and
    they are how a few hundred bytes become a structure too big to look at."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.events.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed",
                                              self.peek_event().start_mark)  # type: ignore[no-untyped-call]
        return super().compose_node(parent, index)


def _bool(document: dict[str, Any], key: str, default: bool) -> bool:
    value = document.get(key, default)
    if not isinstance(value, bool):
        raise Invalid(f"{key!r} must be true or false, not {_show(value)}.")
    return value


@dataclass
class _ParsedPlaybook:
    title: str
    description: str
    is_public: bool
    create_public_incidents: bool
    checklists: list[ChecklistSpec]


def parse_playbook_yaml(text: str) -> _ParsedPlaybook:
    if len(text or "") > YAML_TEXT_MAX:
        raise Invalid(f"That YAML is {len(text)} characters long; the limit is {YAML_TEXT_MAX}.")
    try:
        document = yaml.load(text or "", Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "it is not valid YAML"
        raise Invalid(f"The playbook YAML could not be read{where}: {problem}.") from None
    if not isinstance(document, dict):
        raise Invalid("The playbook YAML must be a mapping with at least a `title:` field.")
    _unknown(document, TOP_FIELDS, "in the playbook")
    title = document.get("title")
    if not isinstance(title, str) or not title.strip():
        raise Invalid("The playbook YAML needs a `title:` with some text.")
    description = document.get("description") or ""
    if not isinstance(description, str):
        raise Invalid("`description` must be text.")
    raw_checklists = document.get("checklists") or []
    if not isinstance(raw_checklists, list):
        raise Invalid("`checklists` must be a list of checklists, each with a `title` and `items`.")
    specs = []
    for number, raw in enumerate(raw_checklists, start=1):
        if not isinstance(raw, dict):
            raise Invalid(f"Checklist {number} must be a mapping with `title` and `items`.")
        _unknown(raw, CHECKLIST_FIELDS, f"in checklist {number}")
        items = raw.get("items") or []
        if not isinstance(items, list):
            raise Invalid(f"`items` of checklist {number} must be a list.")
        for item_number, item in enumerate(items, start=1):
            if not isinstance(item, str):
                raise Invalid(
                    f"Item {item_number} of checklist {number} is {_show(item)}, not text; put it in quotes."
                )
        checklist_title = raw.get("title")
        if not isinstance(checklist_title, str):
            raise Invalid(f"Checklist {number} needs a `title:` with some text.")
        specs.append(ChecklistSpec(checklist_title, list(items)))
    return _ParsedPlaybook(
        title=title.strip(),
        description=description,
        is_public=_bool(document, "public", True),
        create_public_incidents=_bool(document, "create_public_incidents", False),
        checklists=validate_specs(specs),
    )


def _describe_checklist_changes(before: list[ChecklistSpec], after: list[ChecklistSpec]) -> list[str]:
    changes = []
    old = {s.title: s for s in before}
    new = {s.title: s for s in after}
    for title in new.keys() - old.keys():
        changes.append(f"checklist {title!r} added with {len(new[title].items)} items")
    for title in old.keys() - new.keys():
        changes.append(f"checklist {title!r} removed")
    for spec in after:
        if spec.title not in old or old[spec.title].items == spec.items:
            continue
        added = Counter(spec.items) - Counter(old[spec.title].items)
        removed = Counter(old[spec.title].items) - Counter(spec.items)
        parts = []
        if added:
            parts.append(f"{sum(added.values())} items added")
        if removed:
            parts.append(f"{sum(removed.values())} items removed")
        if not parts:
            parts.append("items reordered")
        changes.append(f"checklist {spec.title!r}: " + ", ".join(parts))
    if not changes and [s.title for s in before] != [s.title for s in after]:
        changes.append("checklists reordered")
    return changes


def import_playbook_yaml(actor: Actor, team_id: str, text: str) -> ImportResult:
    """Create the playbook, or update the team's playbook with that title if the actor edits it."""
    parsed = parse_playbook_yaml(text)
    existing = Playbook.get_or_none(
        (Playbook.team_id == team_id) & (Playbook.title_key == title_key(parsed.title))
    )
    if existing is None:
        playbook = create_playbook(
            actor, team_id, parsed.title, description=parsed.description, checklists=parsed.checklists,
            create_public_incidents=parsed.create_public_incidents, is_public=parsed.is_public,
        )
        total = sum(len(s.items) for s in parsed.checklists)
        return ImportResult(playbook, True, [f"created with {len(parsed.checklists)} checklists and {total} items"])
    if not permissions.can_edit_playbook(actor, facts_for(existing)):
        raise Conflict(
            f"A playbook titled {parsed.title!r} already exists and you are not one of its editors; "
            "ask an editor to add you, or import under another title."
        )
    before = checklists_of(existing)
    changes = []
    if existing.title != parsed.title:
        changes.append(f"title {existing.title!r} -> {parsed.title!r}")
    if existing.description != parsed.description:
        changes.append("description changed")
    if existing.is_public != parsed.is_public:
        changes.append("now public" if parsed.is_public else "now private")
    if existing.create_public_incidents != parsed.create_public_incidents:
        changes.append("incidents now start " + ("public" if parsed.create_public_incidents else "private"))
    changes += _describe_checklist_changes(before, parsed.checklists)
    if not changes:
        return ImportResult(existing, False, [])
    playbook = update_playbook(
        actor, existing, title=parsed.title, description=parsed.description, is_public=parsed.is_public,
        create_public_incidents=parsed.create_public_incidents, checklists=parsed.checklists,
    )
    return ImportResult(playbook, False, changes)
