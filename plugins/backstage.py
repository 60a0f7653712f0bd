"""Backstage in chat: every incident at a glance, an incident's numbers and chart, CSV export.

- `/incident backstage [filters]`: a page of the team's incidents the caller may see, with
  Previous / Next buttons (each click answers with the neighbouring page);
- `/incident stats [<incident>]`: the details page as an ephemeral answer, and the same
  text with the checklist timeline PNG in a DM (files cannot ride on ephemeral answers);
- `/incident export [<incident>]`: the channel as CSV, sent to the caller in a DM.

The reading of long channels is in `flows.backstage`, with progress in a DM.

Messages and members are counted from the server's own history, so they are right even
if the bot was offline during part of the incident.
"""

from __future__ import annotations

import logging

import click
from mmpy_bot import listen_webhook

from chat.options import Option, Options, WholeNumber, split_args
from flows import backstage as backstage_flow
from chat.context import ChatPlugin
from chat.registry import CommandRequest, Reply, subcommand
from render import backstage as view
from services import backstage, incidents, permissions, record
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


def parse_backstage(args: str) -> tuple[dict, str | None]:
    """Filter values and the commander's name as typed; raises UsageError on nonsense."""
    values = BACKSTAGE_OPTIONS.parse(split_args(args))
    commander = values.pop("commander", None)
    return values, commander


class Backstage(ChatPlugin):
    # ---- helpers --------------------------------------------------------------------------
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
        return Reply(backstage_flow.stats(self.chat.flows, actor, incident, self.chat.zone(request.user_id)).text)

    # ---- export --------------------------------------------------------------------------------
    @subcommand("export", usage="/incident export [<incident>]",
                summary="Sends you the incident channel as a CSV file, in a direct message.", order=22)
    def export(self, request: CommandRequest) -> Reply:
        actor = self.chat.actor(request.user_id, request.team_id)
        return Reply(backstage_flow.export(self.chat.flows, actor, self._incident(request, actor)))
