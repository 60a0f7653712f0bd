"""Backstage in chat: every incident at a glance, an incident's numbers and chart, CSV export.

- `/incident backstage [filters]`: a page of the team's incidents the caller may see, with
  Previous / Next buttons (each click answers with the neighbouring page);
- `/incident stats [<incident>]`: the details page as an ephemeral answer, and the same
  text with the checklist timeline PNG in a DM (files cannot ride on ephemeral answers);
- `/incident export [<incident>]`: the channel as CSV, built in the background one page of
  posts at a time (spooled to disk, so memory stays flat) and sent to the caller in a DM.

Messages and members are counted from the server's own history, so they are right even
if the bot was offline during part of the incident.
"""

from __future__ import annotations

import logging
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import click
from mmpy_bot import listen_webhook

from chat.gateway import MattermostError, Upload
from chat.options import Option, Options, WholeNumber, split_args
from flows import backstage as backstage_flow
from chat.context import ChatPlugin
from chat.registry import CommandRequest, Reply, subcommand
from render import backstage as view
from render.chart import checklist_timeline_png
from render.text import safe
from services import backstage, incidents, metrics, permissions, record
from services.backstage import Filters
from services.errors import Invalid

log = logging.getLogger("incident.backstage")

BACKSTAGE_USAGE = ("/incident backstage [--status ongoing|ended] [--severity 1-4] [--commander @user] [--search <text>] "
                   "[--sort start|end|name] [--page N]")
# --search takes every word up to the next option, so quotes are optional
BACKSTAGE_OPTIONS = Options(
    "backstage",
    Option("--status", type=click.Choice(backstage.STATUSES), invalid="--status is ongoing or ended."),
    Option("--commander", once=True),
    Option("--search", run_on=True),
    Option("--sort", type=click.Choice(backstage.SORTS), invalid="--sort is start, end or name."),
    Option("--page", type=WholeNumber(minimum=1), invalid="--page is a whole number from 1."),
    Option("--severity", type=WholeNumber(1, 4), invalid="--severity is 1 (most severe), 2, 3 or 4."),
    case_insensitive=True, values_stop_at_options=True,
)
# export pages are written to disk as they arrive; above this the spool file leaves memory
SPOOL_BYTES = 1 << 20


def parse_backstage(args: str) -> tuple[dict, str | None]:
    """Filter values and the commander's name as typed; raises UsageError on nonsense."""
    values = BACKSTAGE_OPTIONS.parse(split_args(args))
    commander = values.pop("commander", None)
    return values, commander


class Backstage(ChatPlugin):
    def attach(self, chat) -> None:
        super().attach(chat)
        self._background = ThreadPoolExecutor(max_workers=2, thread_name_prefix="backstage")

    def on_stop(self):
        executor = getattr(self, "_background", None)
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        return super().on_stop()

    # ---- helpers --------------------------------------------------------------------------

    def _is_bot(self, user_id: str) -> bool:
        if user_id == self.mm.bot_user_id:
            return True
        try:
            return bool(self.mm.user(user_id).get("is_bot"))
        except MattermostError:
            return False  # a deleted account was a person once

    def _incident(self, request: CommandRequest, actor):
        """The named incident, or this channel's; one the actor may not see does not exist."""
        if request.args:
            return incidents.find_incident(request.team_id, request.args, actor=actor)
        incident = self.chat.incident_here(request)
        if not permissions.can_view_incident(actor, incident):
            raise Invalid("This is not an incident channel you can see.")
        return incident

    # ---- backstage ---------------------------------------------------------------------------
    @subcommand("backstage", usage=BACKSTAGE_USAGE,
                summary="Every incident of this team you can see, filtered and sorted, a page at a time.", order=20)
    def backstage(self, request: CommandRequest) -> Reply:
        values, commander = parse_backstage(request.args)
        commander_name = None
        if commander is not None:
            user = self.chat.user_by_mention(commander)
            values["commander_id"], commander_name = user["id"], user["username"]
        filters = Filters(**values)
        text, attachments = self.backstage_page(request.user_id, request.team_id, filters, commander_name)
        return Reply(text, attachments)

    def backstage_page(self, user_id: str, team_id: str, filters: Filters, commander_name: str | None = None):
        actor = self.chat.actor(user_id, team_id)
        page = backstage_flow.browse(self.chat.flows, actor, team_id, filters)
        if commander_name is None and filters.commander_id:
            commander_name = self.chat.username(filters.commander_id)
        text = view.backstage_list(page, filters, zone=self.chat.zone(user_id), username=self.chat.username,
                                   open_followups=record.open_followups([i.id for i in page.incidents]),
                                   commander_name=commander_name)
        buttons = view.paging_buttons(page, filters, user_id, team_id, self.chat.signer.sign_context,
                                      self.chat.action_url)
        return text, buttons

    @listen_webhook(r"^action:backstage_page$")
    def backstage_page_clicked(self, event):
        body, context = event.body, event.body["context"]
        filters = view.filters_from_context(context.filters, context.page)
        text, buttons = self.backstage_page(context.for_user, context.team_id, filters)
        self.mm.ephemeral(body.get("channel_id", ""), context.for_user, text, props={"attachments": buttons} if buttons else None)
        return {}

    # ---- stats ---------------------------------------------------------------------------------
    @subcommand("stats", usage="/incident stats [<incident>]",
                summary="An incident's numbers: duration, members involved, messages, and a chart of its checklist.",
                order=21)
    def stats(self, request: CommandRequest) -> Reply:
        actor = self.chat.actor(request.user_id, request.team_id)
        incident = self._incident(request, actor)
        tally = metrics.PostTally()
        try:
            for page in self.mm.channel_post_pages(incident.channel_id):
                tally.add_all(page)
        except MattermostError as exc:
            raise Invalid(f"Mattermost would not give me the history of ~{incident.channel_name} ({exc.message}).") from None
        numbers = metrics.incident_stats(incident, tally, self._is_bot)
        text = view.stats_text(incident, numbers, zone=self.chat.zone(request.user_id),
                               commander=self.chat.username(incident.commander_id),
                               show_channel=backstage.is_participant(actor, incident))
        self._background.submit(self._send_chart, request.user_id, incident.name, text, numbers)
        return Reply(text + "\n_The checklist chart is on its way to you in a direct message._")

    def _send_chart(self, user_id: str, name: str, text: str, numbers: metrics.IncidentStats) -> None:
        try:
            png = checklist_timeline_png(f"{name} — checklist timeline", numbers.items, numbers.duration_ms)
            self.mm.direct_message(user_id, text, uploads=[Upload("checklist-timeline.png", png)])
        except Exception:
            log.exception("could not send the checklist chart")

    # ---- export --------------------------------------------------------------------------------
    @subcommand("export", usage="/incident export [<incident>]",
                summary="Sends you the incident channel as a CSV file, in a direct message.", order=22)
    def export(self, request: CommandRequest) -> Reply:
        actor = self.chat.actor(request.user_id, request.team_id)
        incident = self._incident(request, actor)
        if not backstage.is_participant(actor, incident):
            raise Invalid(f"Only members of ~{incident.channel_name} and admins can export it; join the channel first.")
        # the bot sees every address; the person sees them only where Mattermost would show them
        show_emails = actor.is_system_admin or str(self.mm.client_config().get("ShowEmailAddress")).lower() == "true"
        self._background.submit(self._send_export, request.user_id, incident, show_emails)
        return Reply(f"Exporting ~{incident.channel_name}; I'll send you the CSV file in a direct message.")

    def _send_export(self, user_id: str, incident, show_emails: bool) -> None:
        channel_id, channel_name, name = incident.channel_id, incident.channel_name, incident.name
        try:
            followups = record.all_followups(incident)
            with self.export_csv(channel_id, show_emails, followups) as (csv_file, rows):
                stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M")
                also = f", then its {len(followups)} follow-ups (Post Type {view.FOLLOWUP_TYPE})" if followups else ""
                self.mm.direct_message(user_id, f"The export of **{safe(name)}** (~{channel_name}): {rows} posts{also}.",
                                       uploads=[Upload(f"{channel_name}-{stamp}.csv", csv_file)])
        except Exception:
            log.exception("could not export channel %s", channel_id)
            try:
                self.mm.direct_message(user_id, f"Sorry, the export of ~{channel_name} failed; it has been logged. "
                                                "Please try again.")
            except MattermostError:
                pass

    def export_csv(self, channel_id: str, show_emails: bool = True, followups=()):
        """A context manager giving (file positioned at 0, row count): the channel as CSV, oldest first,
        then the incident's follow-ups.

        Mattermost pages newest first, so each page is written (oldest first within it) as a
        chunk of a spool file, and the chunks are then copied out in reverse order.
        """
        return _CsvExport(self, channel_id, show_emails, list(followups))


class _CsvExport:
    def __init__(self, plugin: Backstage, channel_id: str, show_emails: bool, followups: list):
        self.followups = followups
        self.plugin = plugin
        self.channel_id = channel_id
        self.show_emails = show_emails
        self._files: list = []

    def __enter__(self):
        users: dict[str, dict] = {}

        def user(user_id: str) -> dict:
            if user_id not in users:
                try:
                    users[user_id] = dict(self.plugin.mm.user(user_id)) if user_id else {}
                except MattermostError:
                    users[user_id] = {}
                if not self.show_emails:
                    users[user_id].pop("email", None)
            return users[user_id]

        chunks = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, mode="w+b")
        self._files.append(chunks)
        spans: list[tuple[int, int]] = []
        rows = 0
        for page in self.plugin.mm.channel_post_pages(self.channel_id):
            data = view.csv_rows(reversed(page), user).encode("utf-8")
            spans.append((chunks.tell(), len(data)))
            chunks.write(data)
            rows += len(page)
        out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, mode="w+b")
        self._files.append(out)
        out.write(view.csv_header().encode("utf-8"))
        for start, length in reversed(spans):
            chunks.seek(start)
            out.write(chunks.read(length))
        out.write(view.followup_rows(self.followups, user).encode("utf-8"))
        chunks.close()
        out.seek(0)
        return out, rows

    def __exit__(self, *exc):
        for handle in self._files:
            handle.close()
        return False

