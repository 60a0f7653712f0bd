"""The numbers of an incident's details page: duration, members involved, messages, and
when each checklist item was completed.

No Mattermost I/O here: the chat layer pages through the channel's posts and feeds them
to a `PostTally` one at a time (so memory stays flat however long the channel is), and
says which user ids are bots through the `is_bot` it passes in. The rest comes from the
database: the commander history and checklist actions (timeline) and the items.

Definitions (issue 5):
- duration: start to end, or to `now` while ongoing;
- members involved: distinct users who posted in the channel, were commander, or touched
  the checklist; leaving does not reduce it, joining without participating does not add;
  bots never count;
- messages: posts by users and bots (the incident bot included); system messages (joins,
  header changes ...) and ephemeral messages do not count.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from models import Incident
from models.clock import now_ms

from . import timeline
from .checklists import checklists_of

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS

CHECKLIST_KINDS = frozenset({"item_checked", "item_unchecked", "item_added", "item_removed", "item_renamed", "item_moved"})


def format_duration(ms: int) -> str:
    """`< 1m`, `45m`, `2h 45m`, `4d 15m` (whole minutes, zero parts left out)."""
    if ms < MINUTE_MS:
        return "< 1m"
    days, rest = divmod(int(ms), DAY_MS)
    hours, rest = divmod(rest, HOUR_MS)
    minutes = rest // MINUTE_MS
    parts = [f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n]
    return " ".join(parts)


def duration_ms(incident: Incident, now: int | None = None) -> int:
    end = incident.ended_at if not incident.is_active and incident.ended_at else (now_ms() if now is None else now)
    return max(0, end - incident.created_at)


def is_system_post(post: dict[str, Any]) -> bool:
    return (post.get("type") or "").startswith("system_")


@dataclass
class PostTally:
    """Counts a channel's posts as they stream by (any order, each post once)."""

    messages: int = 0
    posters: set[str] = field(default_factory=set)

    def add(self, post: dict[str, Any]) -> None:
        if is_system_post(post) or post.get("delete_at"):
            return
        self.messages += 1
        if (post.get("props") or {}).get("from_webhook") == "true":
            return  # a webhook speaks for a system, not for the person who made it
        if post.get("user_id"):
            self.posters.add(post["user_id"])

    def add_all(self, posts: Iterable[dict[str, Any]]) -> "PostTally":
        for post in posts:
            self.add(post)
        return self


@dataclass(frozen=True)
class ItemCompletion:
    checklist_number: int  # 1-based, as people see them ("2.3")
    item_number: int
    checklist_title: str
    title: str
    done: bool
    after_ms: int | None  # completion time relative to the incident's start; None if not done

    @property
    def label(self) -> str:
        return f"{self.checklist_number}.{self.item_number} {self.title}"


@dataclass(frozen=True)
class IncidentStats:
    duration_ms: int
    is_active: bool
    members_involved: int
    messages: int
    items: list[ItemCompletion]

    @property
    def duration(self) -> str:
        return format_duration(self.duration_ms)

    @property
    def items_done(self) -> int:
        return sum(1 for item in self.items if item.done)


def item_completions(incident: Incident) -> list[ItemCompletion]:
    """Every item of every checklist, in order, with when it was ticked (if it is)."""
    found = []
    for checklist, items in checklists_of(incident):
        for item in items:
            done = item.is_checked and item.checked_at is not None
            found.append(ItemCompletion(
                checklist.position + 1, item.position + 1, checklist.title, item.title, done,
                max(0, item.checked_at - incident.created_at) if item.is_checked and item.checked_at is not None else None,
            ))
    return found


def people_of_record(incident: Incident) -> tuple[set[str], set[str]]:
    """(everyone who was commander, everyone who touched the checklist), from the database."""
    commanders = {incident.creator_id, incident.commander_id}
    checklist_people: set[str] = set()
    for event in timeline.events_for(incident):
        if event.kind == "commander_changed":
            commanders.update(v for v in (event.data.get("previous_id"), event.data.get("commander_id")) if v)
        elif event.kind in CHECKLIST_KINDS and event.actor_id:
            checklist_people.add(event.actor_id)
    for _, items in checklists_of(incident):
        checklist_people.update(item.checked_by for item in items if item.checked_by)
    commanders.discard(None)
    return commanders, checklist_people


def members_involved(posters: set[str], commanders: set[str], checklist_people: set[str],
                     is_bot: Callable[[str], bool]) -> set[str]:
    return {user_id for user_id in posters | commanders | checklist_people if user_id and not is_bot(user_id)}


def incident_stats(incident: Incident, tally: PostTally, is_bot: Callable[[str], bool], now: int | None = None) -> IncidentStats:
    commanders, checklist_people = people_of_record(incident)
    involved = members_involved(tally.posters, commanders, checklist_people, is_bot)
    return IncidentStats(
        duration_ms=duration_ms(incident, now),
        is_active=incident.is_active,
        members_involved=len(involved),
        messages=tally.messages,
        items=item_completions(incident),
    )
