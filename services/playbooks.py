"""Playbooks: create, edit (each save is a new version), delete, find, editors.

Every save writes a new `PlaybookVersion` and bumps `Playbook.version` with an
optimistic check (`WHERE version = <the one the caller loaded>`), so two people
saving at once cannot silently overwrite each other: the second gets a Conflict.
Incidents copy a version's checklists at start; nothing here touches incidents.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import peewee
from peewee import fn

from models import (
    Playbook,
    PlaybookChecklist,
    PlaybookEditor,
    PlaybookItem,
    PlaybookVersion,
    TeamSettings,
    db,
    prepared,
)
from models.clock import now_ms
from models.playbooks import TITLE_MAX, title_key

from . import events, permissions
from .actor import Actor
from .checklist_rules import (
    ChecklistSpec,
    check_room_for,
    clean_checklist_title,
    clean_item_text,
    locate_checklist,
    locate_item,
    locate_target_position,
    parse_checklists_text,
    validate_specs,
)
from .errors import Conflict, Forbidden, Invalid, NotFound
from .naming import parse_item_ref
from .text import one_line


# --- reading -------------------------------------------------------------------------------

def facts_for(playbook: Playbook) -> permissions.PlaybookFacts:
    editors = {
        e.user_id: e.added_by
        for e in PlaybookEditor.select().where(PlaybookEditor.playbook == playbook.id)
    }
    return permissions.PlaybookFacts(playbook.team_id, playbook.is_public, editors)


def checklists_of(playbook: Playbook, version: int | None = None) -> list[ChecklistSpec]:
    """The checklists of a version (default: the current one), as plain values."""
    number = playbook.version if version is None else version
    pv = PlaybookVersion.get_or_none(
        (PlaybookVersion.playbook == playbook.id) & (PlaybookVersion.number == number)
    )
    if pv is None:
        raise NotFound(f"Playbook {playbook.title!r} has no version {number}.")
    specs = []
    checklists = (
        PlaybookChecklist.select()
        .where(PlaybookChecklist.playbook_version == pv.id)
        .order_by(PlaybookChecklist.position)
    )
    for checklist in checklists:
        items = (
            PlaybookItem.select()
            .where(PlaybookItem.checklist == checklist.id)
            .order_by(PlaybookItem.position)
        )
        specs.append(ChecklistSpec(checklist.title, [i.title for i in items]))
    return specs


def by_id(playbook_id: int | None) -> Playbook | None:
    """Any playbook, deleted ones too (for the record of what an incident came from)."""
    return Playbook.get_or_none(Playbook.id == playbook_id) if playbook_id is not None else None


def get_playbook(actor: Actor, playbook_id: int) -> Playbook:
    """A playbook the actor may see; private ones the actor may not see are 'not found'."""
    playbook = Playbook.get_or_none(Playbook.id == playbook_id)
    if playbook is None or playbook.is_deleted or not permissions.can_view_playbook(actor, facts_for(playbook)):
        raise NotFound("That playbook does not exist or was deleted.")
    return playbook


def list_playbooks(actor: Actor, team_id: str) -> list[Playbook]:
    """The team's playbooks the actor may see, by title."""
    return [summary.playbook for summary in _visible(actor, team_id)[0]]


@dataclass(frozen=True)
class PlaybookSummary:
    playbook: Playbook
    checklists: int
    items: int
    editor_ids: list[str]  # in the order they became editors


def playbook_summaries(actor: Actor, team_id: str) -> list[PlaybookSummary]:
    """The list's rows: the visible playbooks with their current version's sizes and editors, in
    three queries however many playbooks the team has."""
    visible, editors = _visible(actor, team_id)
    sizes = _current_sizes(team_id)
    return [PlaybookSummary(p.playbook, *sizes.get(p.playbook.id, (0, 0)), editor_ids=list(editors.get(p.playbook.id, {})))
            for p in visible]


def _team_playbooks(team_id: str) -> peewee.Expression:
    return (Playbook.team_id == team_id) & Playbook.deleted_at.is_null()


def _visible(actor: Actor, team_id: str) -> tuple[list[PlaybookSummary], dict[int, dict[str, str]]]:
    """(the visible playbooks, by title, with no sizes; every team playbook's editors -> added by)."""
    editors: dict[int, dict[str, str]] = {}
    # every /incident start reads them for its dialog: SQL made once (models/prepared.py)
    for playbook_id, user_id, added_by in prepared.rows("editors of a team's playbooks", _editors_query, team_id):
        editors.setdefault(playbook_id, {})[user_id] = added_by
    playbooks = prepared.select(Playbook, "a team's playbooks", _playbooks_query, team_id)
    visible = [PlaybookSummary(p, 0, 0, []) for p in playbooks
               if permissions.can_view_playbook(actor, permissions.PlaybookFacts(p.team_id, p.is_public,
                                                                                  editors.get(p.id, {})))]
    return visible, editors


def _editors_query(team_id: str) -> Any:
    return (PlaybookEditor.select(PlaybookEditor.playbook, PlaybookEditor.user_id, PlaybookEditor.added_by)
            .join(Playbook).where(_team_playbooks(team_id)).order_by(PlaybookEditor.added_at, PlaybookEditor.id))


def _playbooks_query(team_id: str) -> Any:
    return Playbook.select().where(_team_playbooks(team_id)).order_by(Playbook.title_key)


def _current_sizes(team_id: str) -> dict[int, tuple[int, int]]:
    """playbook id -> (checklists, items) of its current version, counted by the database."""
    query = (PlaybookVersion
             .select(PlaybookVersion.playbook, fn.COUNT(PlaybookChecklist.id.distinct()), fn.COUNT(PlaybookItem.id))
             .join(Playbook, on=(PlaybookVersion.playbook == Playbook.id) & (PlaybookVersion.number == Playbook.version))
             .switch(PlaybookVersion)
             .join(PlaybookChecklist, peewee.JOIN.LEFT_OUTER, on=PlaybookChecklist.playbook_version == PlaybookVersion.id)
             .join(PlaybookItem, peewee.JOIN.LEFT_OUTER, on=PlaybookItem.checklist == PlaybookChecklist.id)
             .where(_team_playbooks(team_id))
             .group_by(PlaybookVersion.playbook))
    rows: list[Any] = list(query.tuples())
    return {playbook_id: (checklists, items) for playbook_id, checklists, items in rows}


def find_playbook(actor: Actor, team_id: str, title: str) -> Playbook:
    """By exact title (any case), else by a unique partial match among visible playbooks."""
    wanted = title_key(title or "")
    if not wanted:
        raise Invalid("Say which playbook, by its title.")
    visible = list_playbooks(actor, team_id)
    exact = [p for p in visible if p.title_key == wanted]
    if exact:
        return exact[0]
    partial = [p for p in visible if wanted in (p.title_key or "")]
    if len(partial) == 1:
        return partial[0]
    if partial:
        names = ", ".join(repr(p.title) for p in partial[:10])
        raise Invalid(f"{title!r} matches several playbooks: {names}; use the full title.")
    raise NotFound(f"There is no playbook titled {title!r} in this team; list them with `/incident playbook list`.")


# --- team setting --------------------------------------------------------------------------

def members_may_delete_public_playbooks(team_id: str) -> bool:
    settings = TeamSettings.get_or_none(TeamSettings.team_id == team_id)
    return bool(settings and settings.members_may_delete_public_playbooks)


def set_members_may_delete_public_playbooks(actor: Actor, team_id: str, allowed: bool) -> None:
    if not permissions.can_change_team_settings(actor, team_id):
        raise Forbidden("Only team and system admins can change who may delete public playbooks.")
    (
        TeamSettings.insert(team_id=team_id, members_may_delete_public_playbooks=allowed)
        .on_conflict(
            conflict_target=[TeamSettings.team_id],
            update={TeamSettings.members_may_delete_public_playbooks: allowed},
        )
        .execute()
    )


# --- writing -------------------------------------------------------------------------------

def _clean_title(title: str) -> str:
    cleaned = one_line(title)
    if not cleaned:
        raise Invalid("A playbook needs a title.")
    if len(cleaned) > TITLE_MAX:
        raise Invalid(f"The playbook title is {len(cleaned)} characters long; use at most {TITLE_MAX}.")
    return cleaned


def _title_taken_message(title: str) -> str:
    return f"A playbook titled {title!r} already exists in this team; pick another title or edit that one."


def title_taken(team_id: str, title: str, *, except_id: int | None = None) -> bool:
    """Titles are unique in a team, whatever their case (deleted playbooks keep theirs)."""
    query = Playbook.select().where((Playbook.team_id == team_id) & (Playbook.title_key == title_key(title)))
    if except_id is not None:
        query = query.where(Playbook.id != except_id)
    return bool(query.exists())


def _check_title_free(team_id: str, title: str, except_id: int | None = None) -> None:
    if title_taken(team_id, title, except_id=except_id):
        raise Conflict(_title_taken_message(title))


def require_items(specs: list[ChecklistSpec]) -> None:
    """A playbook's checklists each need at least one item (the dialog and import say so)."""
    if not any(spec.items for spec in specs):
        raise Invalid("A playbook needs at least one checklist item: write one item per line.")
    for number, spec in enumerate(specs, start=1):
        if not spec.items:
            raise Invalid(f"Checklist {number} ({spec.title}) has no items: add at least one under it, or remove it.")


def _write_version(playbook_id: int, number: int, specs: list[ChecklistSpec], actor: Actor, at: int) -> None:
    pv = PlaybookVersion.create(playbook=playbook_id, number=number, created_by=actor.user_id, created_at=at)
    for position, spec in enumerate(specs):
        checklist = PlaybookChecklist.create(playbook_version=pv.id, position=position, title=spec.title)
        if spec.items:
            PlaybookItem.insert_many(
                [{"checklist": checklist.id, "position": p, "title": t} for p, t in enumerate(spec.items)]
            ).execute()


def create_playbook(
    actor: Actor,
    team_id: str,
    title: str,
    *,
    description: str = "",
    checklists_text: str = "",
    checklists: list[ChecklistSpec] | None = None,
    create_public_incidents: bool = False,
    is_public: bool = True,
) -> Playbook:
    """A new playbook at version 1 with its creator as its first editor."""
    if not permissions.can_create_playbook(actor, team_id):
        raise Forbidden("You can only create playbooks in a team you belong to.")
    title = _clean_title(title)
    specs = validate_specs(checklists) if checklists is not None else parse_checklists_text(checklists_text)
    _check_title_free(team_id, title)
    at = now_ms()
    try:
        with db.atomic():
            playbook = Playbook.create(
                team_id=team_id, title=title, title_key=title_key(title), description=description or "",
                is_public=is_public, create_public_incidents=create_public_incidents, version=1,
                created_by=actor.user_id, created_at=at, updated_at=at,
            )
            _write_version(playbook.id, 1, specs, actor, at)
            PlaybookEditor.create(playbook=playbook.id, user_id=actor.user_id, added_by=actor.user_id, added_at=at)
    except peewee.IntegrityError:
        # Someone created the same title between the check and the insert.
        raise Conflict(_title_taken_message(title)) from None
    events.publish("playbook_created", playbook_id=playbook.id, team_id=team_id, actor_id=actor.user_id)
    return playbook


def _require_live(playbook: Playbook) -> None:
    if playbook.is_deleted:
        raise NotFound(f"Playbook {playbook.title!r} was deleted.")


def require_edit(actor: Actor, playbook: Playbook) -> None:
    """The actor may change this playbook (its content or its settings)."""
    _require_edit(actor, playbook)


def _require_edit(actor: Actor, playbook: Playbook) -> None:
    _require_live(playbook)
    facts = facts_for(playbook)
    if not permissions.can_view_playbook(actor, facts):
        raise NotFound("That playbook does not exist or was deleted.")
    if not permissions.can_edit_playbook(actor, facts):
        raise Forbidden(
            f"Only editors of playbook {playbook.title!r} and admins can change it; ask an editor to add you."
        )


def _save(actor: Actor, playbook: Playbook, specs: list[ChecklistSpec], **fields: Any) -> Playbook:
    """Write the next version; Conflict if the playbook changed since `playbook` was loaded."""
    at = now_ms()
    next_version = playbook.version + 1
    try:
        with db.atomic():
            changed = (
                Playbook.update(version=next_version, updated_at=at, **fields)
                .where(
                    (Playbook.id == playbook.id)
                    & (Playbook.version == playbook.version)
                    & Playbook.deleted_at.is_null()
                )
                .execute()
            )
            if not changed:
                raise Conflict(
                    f"Playbook {playbook.title!r} was changed or deleted by someone else meanwhile; "
                    "look at it again and retry."
                )
            _write_version(playbook.id, next_version, specs, actor, at)
    except peewee.IntegrityError:
        raise Conflict(_title_taken_message(fields.get("title", playbook.title))) from None
    events.publish("playbook_updated", playbook_id=playbook.id, team_id=playbook.team_id, actor_id=actor.user_id)
    return Playbook.get_by_id(playbook.id)


def update_playbook(
    actor: Actor,
    playbook: Playbook,
    *,
    title: str | None = None,
    description: str | None = None,
    is_public: bool | None = None,
    create_public_incidents: bool | None = None,
    checklists_text: str | None = None,
    checklists: list[ChecklistSpec] | None = None,
    seen_version: int | None = None,
) -> Playbook:
    """Change any of the given fields; saves a new version. Running incidents keep theirs.

    `seen_version`: the version the editor was shown (a dialog opened a while ago); saving
    fails with Conflict if the playbook has moved on since."""
    _require_edit(actor, playbook)
    if seen_version is not None:
        playbook.version = seen_version
    fields: dict[str, Any] = {}
    if title is not None:
        cleaned = _clean_title(title)
        _check_title_free(playbook.team_id, cleaned, except_id=playbook.id)
        fields.update(title=cleaned, title_key=title_key(cleaned))
    if description is not None:
        fields["description"] = description
    if is_public is not None:
        fields["is_public"] = is_public
    if create_public_incidents is not None:
        fields["create_public_incidents"] = create_public_incidents
    if checklists is not None:
        specs = validate_specs(checklists)
    elif checklists_text is not None:
        specs = parse_checklists_text(checklists_text)
    else:
        specs = checklists_of(playbook)
    return _save(actor, playbook, specs, **fields)


def delete_playbook(actor: Actor, playbook: Playbook) -> None:
    """Soft delete: incidents started from it keep their copy and their playbook id."""
    _require_live(playbook)
    facts = facts_for(playbook)
    if not permissions.can_view_playbook(actor, facts):
        raise NotFound("That playbook does not exist or was deleted.")
    allowed = permissions.can_delete_playbook(
        actor, facts, members_may_delete_public=members_may_delete_public_playbooks(playbook.team_id)
    )
    if not allowed:
        raise Forbidden(f"Only editors of playbook {playbook.title!r} and admins can delete it.")
    (
        Playbook.update(deleted_at=now_ms(), deleted_by=actor.user_id, title_key=None)
        .where(Playbook.id == playbook.id)
        .execute()
    )
    events.publish("playbook_deleted", playbook_id=playbook.id, team_id=playbook.team_id, actor_id=actor.user_id)


# --- checklist edits, one at a time (numbered like incident checklists) -----------------------

def _edit_checklists(actor: Actor, playbook: Playbook, change: Callable[[list[ChecklistSpec]], None]) -> Playbook:
    _require_edit(actor, playbook)
    specs = checklists_of(playbook)
    change(specs)
    return _save(actor, playbook, validate_specs(specs))


def _locate(specs: list[ChecklistSpec], ref: str) -> tuple[int, int]:
    return locate_item([len(s.items) for s in specs], *parse_item_ref(ref))


def add_playbook_item(actor: Actor, playbook: Playbook, text: str, checklist_index: int = 1) -> Playbook:
    text = clean_item_text(text)

    def change(specs: list[ChecklistSpec]) -> None:
        ci = locate_checklist([len(s.items) for s in specs], checklist_index)
        check_room_for(len(specs[ci].items), checklist_index)
        specs[ci].items.append(text)

    return _edit_checklists(actor, playbook, change)


def remove_playbook_item(actor: Actor, playbook: Playbook, ref: str) -> Playbook:
    def change(specs: list[ChecklistSpec]) -> None:
        ci, ii = _locate(specs, ref)
        del specs[ci].items[ii]

    return _edit_checklists(actor, playbook, change)


def rename_playbook_item(actor: Actor, playbook: Playbook, ref: str, text: str) -> Playbook:
    text = clean_item_text(text)

    def change(specs: list[ChecklistSpec]) -> None:
        ci, ii = _locate(specs, ref)
        specs[ci].items[ii] = text

    return _edit_checklists(actor, playbook, change)


def move_playbook_item(actor: Actor, playbook: Playbook, ref: str, position: int) -> Playbook:
    def change(specs: list[ChecklistSpec]) -> None:
        ci, ii = _locate(specs, ref)
        target = locate_target_position(len(specs[ci].items), ci + 1, position)
        specs[ci].items.insert(target, specs[ci].items.pop(ii))

    return _edit_checklists(actor, playbook, change)


def add_playbook_checklist(actor: Actor, playbook: Playbook, title: str) -> Playbook:
    title = clean_checklist_title(title)
    return _edit_checklists(actor, playbook, lambda specs: specs.append(ChecklistSpec(title)))


# --- editors -------------------------------------------------------------------------------

def list_editors(playbook: Playbook) -> list[PlaybookEditor]:
    return list(
        PlaybookEditor.select()
        .where(PlaybookEditor.playbook == playbook.id)
        .order_by(PlaybookEditor.added_at, PlaybookEditor.id)
    )


def add_editor(actor: Actor, playbook: Playbook, user_id: str, *, username: str | None = None) -> PlaybookEditor:
    """Make `user_id` an editor. The chat layer checks they are in the team first."""
    _require_live(playbook)
    who = f"@{username}" if username else "That user"
    facts = facts_for(playbook)
    if not permissions.can_view_playbook(actor, facts):
        raise NotFound("That playbook does not exist or was deleted.")
    if facts.is_editor(user_id):
        raise Conflict(f"{who} is already an editor of playbook {playbook.title!r}.")
    if not permissions.can_add_editor(actor, facts, user_id):
        if not playbook.is_public:
            raise Forbidden(f"Only team and system admins can add editors to the private playbook {playbook.title!r}.")
        raise Forbidden(f"Only editors of playbook {playbook.title!r} and admins can add other editors.")
    try:
        return PlaybookEditor.create(playbook=playbook.id, user_id=user_id, added_by=actor.user_id, added_at=now_ms())
    except peewee.IntegrityError:
        raise Conflict(f"{who} is already an editor of playbook {playbook.title!r}.") from None


def remove_editor(actor: Actor, playbook: Playbook, user_id: str, *, username: str | None = None) -> None:
    _require_live(playbook)
    who = f"@{username}" if username else "That user"
    facts = facts_for(playbook)
    if not permissions.can_view_playbook(actor, facts):
        raise NotFound("That playbook does not exist or was deleted.")
    if not facts.is_editor(user_id):
        raise NotFound(f"{who} is not an editor of playbook {playbook.title!r}.")
    if not permissions.can_remove_editor(actor, facts, user_id):
        if not playbook.is_public:
            raise Forbidden(
                f"Only team and system admins can remove editors from the private playbook {playbook.title!r}."
            )
        if facts.is_editor(actor.user_id):
            raise Forbidden(f"{who} was added by someone else; only a team or system admin can remove them.")
        raise Forbidden(f"Only editors of playbook {playbook.title!r} and admins can remove editors.")
    PlaybookEditor.delete().where(
        (PlaybookEditor.playbook == playbook.id) & (PlaybookEditor.user_id == user_id)
    ).execute()
