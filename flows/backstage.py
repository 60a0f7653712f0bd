"""Reading across incidents and channels: the backstage list, an incident's numbers, the CSV export."""

from __future__ import annotations

import logging
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from typing import Any, BinaryIO, Callable, Iterator, Sequence, cast

from models.incidents import Incident
from render import backstage as view
from render.chart import checklist_timeline_png
from render.text import safe
from services import backstage, metrics, record, updates
from services.actor import Actor
from services.backstage import Filters, Page
from services.errors import Invalid

from .context import FlowContext
from .long_work import ProgressNote
from .port import ChatError, Upload

log = logging.getLogger("incident.flows.backstage")

# export pages are written to disk as they arrive; above this the spool file leaves memory
SPOOL_BYTES = 1 << 20


def browse(ctx: FlowContext, actor: Actor, team_id: str, filters: Filters) -> Page:
    """One page of the incidents the actor may see; Mattermost is asked once for their channels."""
    return backstage.browse(actor, team_id, filters, member_of=_member_of(ctx, actor, team_id))


@dataclass(frozen=True)
class ActiveList:
    page: Page
    next_due: dict[int, int]  # incident id -> when its next update is due


def active_incidents(ctx: FlowContext, actor: Actor, team_id: str, page: int = 1) -> ActiveList:
    """A page of `/incident list`: as backstage, one question to Mattermost (not one per private
    incident) and one query for the page's update reminders."""
    found = backstage.active(actor, team_id, page, member_of=_member_of(ctx, actor, team_id))
    return ActiveList(found, updates.next_due_of([i.id for i in found.incidents]))


def _member_of(ctx: FlowContext, actor: Actor, team_id: str) -> frozenset[str]:
    """The channels of the team the actor is in, when what they may see depends on it."""
    return ctx.chat.member_channel_ids(actor.user_id, team_id) if backstage.needs_channels(actor, team_id) else frozenset()


# ---- an incident's numbers -------------------------------------------------------------------
# a channel read within this many pages is answered at once; a longer one continues in the background
QUICK_PAGES = 5


@dataclass(frozen=True)
class StatsAnswer:
    text: str
    complete: bool  # False: the numbers follow in a DM, once the whole history is read


def stats(ctx: FlowContext, actor: Actor, incident: Incident, zone: tzinfo) -> StatsAnswer:
    """The incident's numbers now if its channel is short, else by DM with progress; the
    checklist chart always by DM (files cannot ride on an ephemeral answer)."""
    tally = metrics.PostTally()
    pages = ctx.chat.channel_post_pages(incident.channel_id)
    read = 0
    try:
        for page in pages:
            tally.add_all(page)
            read += 1
            if read == QUICK_PAGES:
                break
        else:
            text = _stats_text(ctx, actor, incident, tally, zone)
            ctx.long_work.start(("chart", actor.user_id, incident.id), lambda: _send_chart(ctx, actor, incident, text))
            return StatsAnswer(text + "\n_The checklist chart is on its way to you in a direct message._", True)
    except ChatError as exc:
        raise Invalid(f"Mattermost would not give me the history of ~{incident.channel_name} ({exc.message}).") from None
    counted = tally.messages
    started = ctx.long_work.start(("stats", actor.user_id, incident.id),
                                  lambda: _finish_stats(ctx, actor, incident, tally, pages, zone))
    if not started:
        return StatsAnswer(f"I'm still counting the history of ~{incident.channel_name} for you; "
                           "the numbers will come in a direct message.", False)
    return StatsAnswer(f"~{incident.channel_name} has a long history ({counted} messages so far); I'll send you its "
                       "numbers and the checklist chart in a direct message when I have read it all.", False)


def _finish_stats(ctx: FlowContext, actor: Actor, incident: Incident, tally: metrics.PostTally,
                  pages: Iterator[list[dict[str, Any]]], zone: tzinfo) -> None:
    note = ProgressNote(ctx.chat, actor.user_id)
    try:
        for page in pages:
            tally.add_all(page)
            note.report(f"Counting the history of ~{incident.channel_name}: {tally.messages} messages so far…")
    except ChatError as exc:
        note.remove()
        _tell(ctx, actor.user_id, f"I could not read the whole history of ~{incident.channel_name} ({exc.message}); "
                                  "run `/incident stats` again in a minute.")
        return
    text = _stats_text(ctx, actor, incident, tally, zone)
    note.remove()
    _send_chart(ctx, actor, incident, text)


def _stats_text(ctx: FlowContext, actor: Actor, incident: Incident, tally: metrics.PostTally, zone: tzinfo) -> str:
    numbers = metrics.incident_stats(incident, tally, lambda user_id: _is_bot(ctx, user_id))
    return view.stats_text(incident, numbers, zone=zone, commander=ctx.username(incident.commander_id),
                           show_channel=backstage.is_participant(actor, incident))


def _send_chart(ctx: FlowContext, actor: Actor, incident: Incident, text: str) -> None:
    numbers = metrics.incident_stats(incident, metrics.PostTally(), lambda user_id: _is_bot(ctx, user_id))
    png = checklist_timeline_png(f"{incident.name} — checklist timeline", numbers.items, numbers.duration_ms)
    _tell(ctx, actor.user_id, text, uploads=[Upload("checklist-timeline.png", png)])


def _is_bot(ctx: FlowContext, user_id: str) -> bool:
    if user_id == ctx.chat.bot_user_id:
        return True
    try:
        return bool(ctx.chat.user(user_id).get("is_bot"))
    except ChatError:
        return False  # a deleted account was a person once


def _tell(ctx: FlowContext, user_id: str, text: str, uploads: Sequence[Upload] = ()) -> None:
    try:
        ctx.chat.direct_message(user_id, text, uploads=uploads)
    except ChatError as exc:
        log.warning("could not send %s a direct message: %s", user_id, exc)


# ---- export ------------------------------------------------------------------------------------
def export(ctx: FlowContext, actor: Actor, incident: Incident) -> str:
    """Starts the channel's CSV export for the actor (members and admins); the answer to give now."""
    if not backstage.is_participant(actor, incident):
        raise Invalid(f"Only members of ~{incident.channel_name} and admins can export it; join the channel first.")
    # the bot sees every address; the person sees them only where Mattermost would show them
    show_emails = actor.is_system_admin or str(ctx.chat.client_config().get("ShowEmailAddress")).lower() == "true"
    if not ctx.long_work.start(("export", actor.user_id, incident.id),
                               lambda: _send_export(ctx, actor.user_id, incident, show_emails)):
        return f"Your export of ~{incident.channel_name} is still running; the CSV file will come in a direct message."
    return f"Exporting ~{incident.channel_name}; I'll send you the CSV file in a direct message."


def _send_export(ctx: FlowContext, user_id: str, incident: Incident, show_emails: bool) -> None:
    note = ProgressNote(ctx.chat, user_id)
    followups = record.all_followups(incident)
    reading = f"Exporting ~{incident.channel_name}:"
    try:
        with channel_csv(ctx, incident.channel_id, show_emails, followups,
                         lambda rows: note.report(f"{reading} {rows} posts read so far…")) as (csv_file, rows):
            stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M")
            also = f", then its {len(followups)} follow-ups (Post Type {view.FOLLOWUP_TYPE})" if followups else ""
            note.remove()
            ctx.chat.direct_message(user_id, f"The export of **{safe(incident.name)}** (~{incident.channel_name}): "
                                             f"{rows} posts{also}.",
                                    uploads=[Upload(f"{incident.channel_name}-{stamp}.csv", csv_file)])
    except ChatError as exc:
        log.warning("could not export channel %s: %s", incident.channel_id, exc)
        note.remove()
        _tell(ctx, user_id, f"The export of ~{incident.channel_name} stopped: Mattermost answered {exc.message!r}. "
                            "Run `/incident export` again in a minute.")


@contextmanager
def channel_csv(ctx: FlowContext, channel_id: str, show_emails: bool, followups: Sequence[Any] = (),
                progress: Callable[[int], None] = lambda rows: None) -> Iterator[tuple[BinaryIO, int]]:
    """(file positioned at 0, row count): the channel as CSV, oldest first, then the follow-ups.

    Mattermost pages newest first, so each page is written (oldest first within it) as a chunk of
    a spool file, and the chunks are then copied out in reverse order: memory stays one page.
    `progress` hears the posts read so far whenever another page follows.
    """
    users: dict[str, dict[str, Any]] = {}

    def user(user_id: str) -> dict[str, Any]:
        if user_id not in users:
            try:
                users[user_id] = dict(ctx.chat.user(user_id)) if user_id else {}
            except ChatError:
                users[user_id] = {}
            if not show_emails:
                users[user_id].pop("email", None)
        return users[user_id]

    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, mode="w+b") as chunks, \
            tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, mode="w+b") as out:
        spans: list[tuple[int, int]] = []
        rows = 0
        for page in ctx.chat.channel_post_pages(channel_id):
            if rows:  # another page came: this is long work (one page is not worth a message)
                progress(rows)
            data = view.csv_rows(reversed(page), user).encode("utf-8")
            spans.append((chunks.tell(), len(data)))
            chunks.write(data)
            rows += len(page)
        out.write(view.csv_header().encode("utf-8"))
        for start, length in reversed(spans):
            chunks.seek(start)
            out.write(chunks.read(length))
        out.write(view.followup_rows(followups, user).encode("utf-8"))
        out.seek(0)
        yield cast(BinaryIO, out), rows  # a spool file reads and seeks as one
