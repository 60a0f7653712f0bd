"""Changing an incident's checklist: ticks (by command or click) and item edits.

Every change ends the same way: the synchronizer is told, and the message follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models.incidents import Incident
from services import checklists, incidents
from services.actor import Actor
from services.checklists import TickOutcome, TickResult
from services.errors import DomainError, NotFound

from .context import FlowContext


def tick(ctx: FlowContext, actor: Actor, incident: Incident, ref: str | int, checked: bool) -> TickResult:
    """By command: `ref` as typed (`3`, `2.3`)."""
    result = checklists.set_item_state(actor, incident, ref, checked)
    if result.outcome is not TickOutcome.ALREADY:
        ctx.checklists.changed(incident.id, wait=True)
    return result


@dataclass(frozen=True)
class ClickAnswer:
    """A click on an item's button: the message as it is now, and what happened."""

    message: dict[str, Any]
    result: TickResult | None = None
    refused: str | None = None  # why the click changed nothing, for the person


def click_item(ctx: FlowContext, actor: Actor, incident_id: int, item_id: int, checked: bool) -> ClickAnswer:
    """A button on the message. The answer carries the new message, which Mattermost applies."""
    try:
        # by id: the incident is read (and the actor's right checked) under its lock, once
        result = checklists.set_item_state(actor, incident_id, item_id, checked)
    except DomainError as exc:
        return ClickAnswer(ctx.checklist_message(_existing(incident_id)), refused=exc.message)
    # the incident as the tick left it, read under its lock: no read back after the write
    answer = ClickAnswer(ctx.checklist_message(result.incident, result.checklists), result=result)
    ctx.checklists.answered(incident_id)
    return answer


def add_item(ctx: FlowContext, actor: Actor, incident: Incident, text: str, checklist_number: int) -> Any:
    item = checklists.add_item(actor, incident, text, checklist_number)
    ctx.checklists.changed(incident.id, wait=True)
    return item


def remove_item(ctx: FlowContext, actor: Actor, incident: Incident, ref: str | int) -> Any:
    item = checklists.remove_item(actor, incident, ref)
    ctx.checklists.changed(incident.id, wait=True)
    return item


def rename_item(ctx: FlowContext, actor: Actor, incident: Incident, ref: str | int, text: str) -> Any:
    item = checklists.rename_item(actor, incident, ref, text)
    ctx.checklists.changed(incident.id, wait=True)
    return item


def move_item(ctx: FlowContext, actor: Actor, incident: Incident, ref: str | int, position: int) -> Any:
    item = checklists.move_item(actor, incident, ref, position)
    ctx.checklists.changed(incident.id, wait=True)
    return item


def _existing(incident_id: int) -> Incident:
    incident = incidents.by_id(incident_id)
    if incident is None:
        raise NotFound("This incident no longer exists.")
    return incident
