"""What `/incident info` shows: everything about one incident a viewer may know, read at once."""

from __future__ import annotations

from models.incidents import Incident
from render.info import IncidentInfo, PlaybookOrigin
from services import checklists, permissions, playbooks, record, updates
from services.actor import Actor

from . import assignments as assignments_flow
from .context import FlowContext


def describe(ctx: FlowContext, actor: Actor, incident: Incident) -> IncidentInfo:
    return IncidentInfo(
        incident=incident,
        commander=ctx.username(incident.commander_id),
        creator=ctx.username(incident.creator_id),
        checklists=checklists.checklists_of(incident),
        owners=assignments_flow.owners(ctx, incident),
        roles=assignments_flow.roles(ctx, incident),
        next_due=updates.next_due(incident) if incident.is_active else None,
        open_followups=record.open_followups_of(incident.id),
        origin=_origin(actor, incident),
        now=ctx.now(),
    )


def _origin(actor: Actor, incident: Incident) -> PlaybookOrigin | None:
    """Which playbook (and version) the incident came from, as far as the viewer may know."""
    if incident.playbook_id is None:
        return None
    version = int(incident.playbook_version or 0)
    playbook = playbooks.by_id(incident.playbook_id)
    if playbook is None:
        return PlaybookOrigin(None, version, exists=False, deleted=True)
    if not permissions.can_view_playbook(actor, playbooks.facts_for(playbook)):
        return PlaybookOrigin(None, version, exists=True, deleted=False)
    return PlaybookOrigin(playbook.title, version, exists=True, deleted=playbook.is_deleted)
