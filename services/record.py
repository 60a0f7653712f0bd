"""The incident's record: pinned posts on its timeline, follow-ups that outlive it, members coming
and going, and everything the timeline and the retrospective read back."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import peewee

from models import FollowUp, Incident, PinnedPost, TimelineEvent, db, prepared
from models.clock import now_ms

from . import timeline
from .actor import Actor
from .errors import Conflict, Invalid, NotFound
from .incidents import require_change, require_view
from .text import one_line, paragraphs

FOLLOWUP_MAX = 500
SUMMARY_MAX = 300


# ---- pinned posts -------------------------------------------------------------------------------
def pin(actor: Actor, incident: Incident, post_id: str, summary: str = "") -> PinnedPost:
    """Put a post of the incident's channel on its timeline (the caller checked where it is)."""
    require_change(actor, incident)
    note = one_line(summary)[:SUMMARY_MAX]
    try:
        with db.atomic():
            pinned = PinnedPost.create(incident=incident.id, post_id=post_id, summary=note, pinned_by=actor.user_id,
                                       pinned_at=now_ms())
            timeline.record(incident, "post_pinned", actor.user_id, at=pinned.pinned_at, post_id=post_id)
    except peewee.IntegrityError:
        raise Conflict("That post is on the timeline already.") from None
    return pinned


def unpin(actor: Actor, incident: Incident, post_id: str) -> bool:
    """Take a post off the timeline; False if it was not on it."""
    require_change(actor, incident)
    with db.atomic():
        removed = PinnedPost.delete().where((PinnedPost.incident == incident.id) & (PinnedPost.post_id == post_id)).execute()
        if removed:
            timeline.record(incident, "post_unpinned", actor.user_id, post_id=post_id)
    return bool(removed)


def pins_of(incident: Incident) -> list[PinnedPost]:
    return list(PinnedPost.select().where(PinnedPost.incident == incident.id).order_by(PinnedPost.pinned_at, PinnedPost.id))


# ---- follow-ups -----------------------------------------------------------------------------------
def add_followup(actor: Actor, incident: Incident, text: str, owner_id: str | None = None) -> FollowUp:
    """A follow-up action; allowed on ended incidents too (that is when most are written)."""
    require_change(actor, incident)
    cleaned = paragraphs(text)
    if not cleaned:
        raise Invalid("Say what has to be done, e.g. `/incident followup Add an alert on disk usage @bob`.")
    if len(cleaned) > FOLLOWUP_MAX:
        raise Invalid(f"A follow-up is at most {FOLLOWUP_MAX} characters; this one has {len(cleaned)}.")
    at = now_ms()
    for _ in range(3):  # two at once may pick the same number: the unique index makes one retry
        number = (FollowUp.select(peewee.fn.MAX(FollowUp.number)).where(FollowUp.incident == incident.id).scalar() or 0) + 1
        try:
            with db.atomic():
                followup = FollowUp.create(incident=incident.id, number=number, text=cleaned, owner_id=owner_id,
                                           created_by=actor.user_id, created_at=at)
                timeline.record(incident, "followup_added", actor.user_id, at=at, number=number, owner_id=owner_id)
            return followup
        except peewee.IntegrityError:
            continue
    raise Conflict("Several follow-ups arrived at once; try again.")


def finish_followup(actor: Actor, incident: Incident, number: int) -> FollowUp:
    require_change(actor, incident)
    followup = FollowUp.get_or_none((FollowUp.incident == incident.id) & (FollowUp.number == number))
    if followup is None:
        raise NotFound(f"{incident.name!r} has no follow-up {number}; `/incident followups` lists them.")
    at = now_ms()
    with db.atomic():
        done = (FollowUp.update(done_at=at, done_by=actor.user_id)
                .where((FollowUp.id == followup.id) & FollowUp.done_at.is_null()).execute())
        if not done:
            raise Conflict(f"Follow-up {number} is done already.")
        timeline.record(incident, "followup_done", actor.user_id, at=at, number=number)
    return FollowUp.get_by_id(followup.id)


def followups_of(actor: Actor, incident: Incident) -> list[FollowUp]:
    require_view(actor, incident)
    return list(FollowUp.select().where(FollowUp.incident == incident.id).order_by(FollowUp.number))


def all_followups(incident: Incident) -> list[FollowUp]:
    """For the retrospective, which the bot writes (no viewer to check)."""
    return list(FollowUp.select().where(FollowUp.incident == incident.id).order_by(FollowUp.number))


def open_followups_of(incident_id: int) -> int:
    """Open follow-ups of one incident (what `/incident info` shows: SQL made once, models/prepared.py)."""
    return int(prepared.rows("open follow-ups of an incident", _open_of_query, incident_id)[0][0])


def _open_of_query(incident_id: int) -> Any:
    return FollowUp.select(peewee.fn.COUNT(FollowUp.id)).where((FollowUp.incident == incident_id) & FollowUp.done_at.is_null())


def open_followups(incident_ids: list[int]) -> dict[int, int]:
    """Open follow-ups per incident, for lists of incidents."""
    if not incident_ids:
        return {}
    rows: list[Any] = list(FollowUp.select(FollowUp.incident, peewee.fn.COUNT(FollowUp.id))
                           .where(FollowUp.incident.in_(incident_ids) & FollowUp.done_at.is_null())
                           .group_by(FollowUp.incident).tuples())
    return {int(incident_id): int(count) for incident_id, count in rows}


# ---- members coming and going -------------------------------------------------------------------------
def member_changed(incident: Incident, user_id: str, joined: bool, by: str | None) -> bool:
    """Record that someone joined or left the channel, unless that is what the record says
    already (every replica hears the event; the caller holds the incident's lock). The starter
    joining their new channel is part of the start, not news."""
    kinds = ("member_joined", "member_left")
    last = (TimelineEvent.select().where((TimelineEvent.incident == incident.id) & TimelineEvent.kind.in_(kinds))
            .order_by(TimelineEvent.at.desc(), TimelineEvent.id.desc()))
    seen = False
    for event in last:
        if (event.data or {}).get("user_id") == user_id:
            seen = True
            if event.kind == ("member_joined" if joined else "member_left"):
                return False
            break
    if joined and not seen and user_id == incident.creator_id:
        return False
    timeline.record(incident, "member_joined" if joined else "member_left", by, user_id=user_id)
    return True


# ---- reading the record back ------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """One line of the timeline, before it is put in words: the event and what it refers to."""

    at: int
    kind: str
    actor_id: str | None
    data: dict[str, Any]


def entries(incident: Incident, *, with_ticks: bool = False) -> list[Entry]:
    """The timeline in order; checklist ticks only when asked (there can be hundreds)."""
    ticks = {"item_checked", "item_unchecked"}
    return [Entry(e.at, e.kind, e.actor_id, dict(e.data or {})) for e in timeline.events_for(incident)
            if with_ticks or e.kind not in ticks]
