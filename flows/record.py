"""The incident's record: pinning posts to the timeline, follow-ups, members coming and going,
the timeline read back, and the retrospective draft."""

from __future__ import annotations

import logging
import re
from datetime import timezone, tzinfo
from typing import Any

from models.incidents import Incident
from render import record as view
from render.dates import user_zone
from render.text import inert, safe
from services import checklists, incidents, record, updates
from services.actor import Actor
from services.errors import Invalid, NotFound

from .context import FlowContext
from .port import ChatError, Upload

log = logging.getLogger("incident.flows.record")

_POST_ID = re.compile(r"(?:^|/pl/)([a-z0-9]{26})/?$")


# ---- the timeline ------------------------------------------------------------------------------
def post_id_from(reference: str) -> str:
    """A post's id from its permalink (`https://chat/team/pl/<id>`) or the id itself."""
    match = _POST_ID.search(reference.strip())
    if match is None:
        raise Invalid("Give the post's link (*Copy Link* on the post) or its id.")
    return match.group(1)


def pin(ctx: FlowContext, actor: Actor, incident: Incident, post_id: str, summary: str = "") -> dict[str, Any]:
    """Put a post of the incident's channel on its timeline. Posts from other channels are
    refused: whoever may read the incident may not be able to read them."""
    incidents.require_change(actor, incident)
    try:
        post = ctx.chat.get_post(post_id)
    except ChatError:
        raise NotFound("I cannot find that post (it was deleted, or is in a channel I cannot read).") from None
    if post.get("channel_id") != incident.channel_id or post.get("delete_at"):
        raise Invalid(f"Only posts of ~{incident.channel_name} go on its timeline: quote the post there first, then pin that.")
    record.pin(actor, incident, post_id, summary)
    return post


def unpin(ctx: FlowContext, actor: Actor, incident: Incident, post_id: str) -> bool:
    return record.unpin(actor, incident, post_id)


def timeline(ctx: FlowContext, actor: Actor, incident: Incident, zone: tzinfo, *, with_ticks: bool) -> str:
    incidents.require_view(actor, incident)
    return view.timeline_table(incident, record.entries(incident, with_ticks=with_ticks), words(ctx, incident), zone)


def words(ctx: FlowContext, incident: Incident) -> view.Words:
    titles = {item.id: item.title for _, items in checklists.checklists_of(incident) for item in items}

    def post_text(post_id: str) -> str | None:
        try:
            post = ctx.chat.get_post(post_id)
        except ChatError:
            return None
        return None if post.get("delete_at") else str(post.get("message") or "")

    return view.Words(ctx.username, lambda item_id: titles.get(item_id, "(removed)"), post_text,
                      lambda post_id: ctx.permalink(incident.team_id, post_id))


# ---- members -----------------------------------------------------------------------------------------
def member_changed(ctx: FlowContext, incident: Incident, user_id: str, joined: bool, by: str | None) -> None:
    if user_id == ctx.chat.bot_user_id:
        return
    with ctx.locks.hold(incident.id):  # every replica hears it: the record takes it once
        record.member_changed(incident, user_id, joined, by)


# ---- follow-ups ----------------------------------------------------------------------------------------
def add_followup(ctx: FlowContext, actor: Actor, incident: Incident, text: str, owner: dict[str, Any] | None) -> Any:
    """Record a follow-up; its owner is told in a DM."""
    followup = record.add_followup(actor, incident, text, owner["id"] if owner else None)
    if owner and owner["id"] != actor.user_id:
        try:
            ctx.chat.direct_message(owner["id"], f"@{actor.username} gave you follow-up {followup.number} of "
                                                 f"[{safe(incident.name)}]({ctx.channel_url(incident)}): {inert(followup.text)}")
        except ChatError as exc:
            log.warning("could not tell the owner of a follow-up of incident %s: %s", incident.id, exc)
    return followup


def finish_followup(ctx: FlowContext, actor: Actor, incident: Incident, number: int) -> Any:
    return record.finish_followup(actor, incident, number)


# ---- the retrospective draft -----------------------------------------------------------------------------
def retrospective(ctx: FlowContext, incident: Incident) -> str:
    """The draft as it stands, in the commander's timezone."""
    try:
        zone = user_zone(ctx.chat.user(incident.commander_id))
    except ChatError:
        zone = timezone.utc
    entries = record.entries(incident, with_ticks=True)
    people = {incident.commander_id, incident.creator_id}
    people |= {e.actor_id for e in entries if e.actor_id}
    people |= {str(e.data["user_id"]) for e in entries if e.kind == "member_joined" and e.data.get("user_id")}
    people.discard(ctx.chat.bot_user_id)
    lists = [(c.title, [(i.title, ctx.username(i.checked_by) if i.is_checked and i.checked_by else None,
                         i.checked_at if i.is_checked else None) for i in items])
             for c, items in checklists.checklists_of(incident)]
    said = words(ctx, incident)
    pins = [(ctx.permalink(incident.team_id, p.post_id), said.post_text(p.post_id), ctx.username(p.pinned_by), p.summary)
            for p in record.pins_of(incident)]
    followups = [(f.number, f.text, ctx.username(f.owner_id) if f.owner_id else None, f.is_done)
                 for f in record.all_followups(incident)]
    return view.retrospective(view.Retro(
        incident=incident, commander=ctx.username(incident.commander_id),
        participants=sorted(ctx.username(p) for p in people), zone=zone,
        updates=[(u.posted_at, ctx.username(u.author_id), u.severity, u.message) for u in updates.updates_of(incident)],
        entries=entries, checklists=lists, pins=pins, followups=followups, words=said,
        channel_link=f"[~{incident.channel_name}]({ctx.channel_url(incident)})"))


def file_name(incident: Incident) -> str:
    return f"retrospective-{incident.channel_name}.md"


def post_retrospective(ctx: FlowContext, incident: Incident) -> None:
    """At the end, before the channel is archived: the draft in the channel and to the commander."""
    draft = retrospective(ctx, incident).encode()
    note = "The retrospective draft, from the incident's record: fill in the sections marked _to be written_."
    try:
        file = ctx.chat.upload(incident.channel_id, Upload(file_name(incident), draft))
        ctx.chat.post(incident.channel_id, note, file_ids=[file["id"]])
    except ChatError as exc:
        log.warning("could not post the retrospective draft of incident %s: %s", incident.id, exc)
    send_retrospective(ctx, incident, incident.commander_id)


def send_retrospective(ctx: FlowContext, incident: Incident, user_id: str) -> None:
    """By DM, regenerated from the record as it is now."""
    draft = retrospective(ctx, incident).encode()
    try:
        ctx.chat.direct_message(user_id, f"The retrospective draft of **{safe(incident.name)}**, from its record as it is now.",
                                uploads=[Upload(file_name(incident), draft)])
    except ChatError as exc:
        log.warning("could not send the retrospective draft of incident %s: %s", incident.id, exc)
