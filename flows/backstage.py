"""Reading across incidents: the backstage list."""

from __future__ import annotations

from services import backstage
from services.actor import Actor
from services.backstage import Filters, Page

from .context import FlowContext


def browse(ctx: FlowContext, actor: Actor, team_id: str, filters: Filters) -> Page:
    """One page of the incidents the actor may see; Mattermost is asked once for their channels."""
    member_of = ctx.chat.member_channel_ids(actor.user_id, team_id) if backstage.needs_channels(actor, team_id) else frozenset()
    return backstage.browse(actor, team_id, filters, member_of=member_of)
