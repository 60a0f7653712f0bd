"""How the team is doing, in chat.

- `/incident metrics [--since 30d|YYYY-MM-DD] [--playbook "<title>"] [--severity N]`: the numbers
  over the incidents the caller may see, as an ephemeral answer, and the weekly chart by DM (files
  cannot ride on ephemeral answers);
- `/incident settings digest ~channel weekly|off` and `/incident settings timezone <Area/City>|UTC`
  (team and system admins): reached through `/incident settings` in `plugins/updates.py`, which
  hands these two words to `team_setting` here.
"""

from __future__ import annotations

from chat.context import ChatContext, ChatPlugin
from chat.options import Option, Options, WholeNumber, split_args
from chat.registry import CommandRequest, Reply, UsageError, subcommand
from flows import insights as flow
from render import insights as view
from render.dates import when
from services import insights

METRICS_USAGE = '/incident metrics [--since 30d|YYYY-MM-DD] [--playbook "<title>"] [--severity 1-4]'
METRICS_OPTIONS = Options(
    "metrics",
    Option("--since", once=True),
    Option("--playbook", once=True, run_on=True),  # a title of several words needs no quotes
    Option("--severity", type=WholeNumber(1, 4), once=True, invalid="--severity is 1 (most severe), 2, 3 or 4."),
    case_insensitive=True, values_stop_at_options=True,
)
SETTINGS = ("digest", "timezone")


def parse_metrics(args: str) -> dict:
    """since, playbook, severity as typed (those given); raises UsageError on nonsense."""
    return METRICS_OPTIONS.parse(split_args(args))


class Insights(ChatPlugin):
    @subcommand("metrics", usage=METRICS_USAGE,
                summary="How the team is doing: incidents started, ended and open, MTTA and MTTR (median, p90) by "
                        "severity; a weekly chart by DM. Counts only the incidents you can see.", order=23)
    def metrics(self, request: CommandRequest) -> Reply:
        values = parse_metrics(request.args)
        actor = self.chat.actor(request.user_id, request.team_id)
        return Reply(flow.metrics(self.chat.flows, actor, request.team_id, since=values.get("since"),
                                  playbook=values.get("playbook"), severity=values.get("severity")))


def team_setting(chat: ChatContext, request: CommandRequest, words: list[str]) -> Reply:
    """`/incident settings digest ...` or `... timezone ...` (the first word is one of SETTINGS)."""
    actor = chat.actor(request.user_id, request.team_id)
    if words[0].lower() == "timezone":
        if len(words) != 2:
            raise UsageError("Name one timezone, like `timezone Europe/Berlin` or `timezone UTC`.")
        name = flow.set_timezone(chat.flows, actor, request.team_id, words[1])
        schedule = view.digest_schedule(name, insights.scaled_digest_period_ms(chat.flows.time_scale))
        return Reply(f"This team's timezone is now {name}: metrics count weeks from Monday 00:00 there, and the "
                     f"weekly digest comes {schedule}.")
    if len(words) == 2 and words[1].lower() == "off":
        flow.set_digest(chat.flows, actor, request.team_id, None)
        return Reply("This team gets no weekly digest now.")
    if len(words) != 3 or words[2].lower() != "weekly":
        raise UsageError("Say `digest ~channel weekly`, or `digest off`.")
    channel = flow.set_digest(chat.flows, actor, request.team_id, words[1])
    assert channel is not None  # a channel was named
    first = flow.next_digest_at(chat.flows, request.team_id)
    zone = insights.zone_of(request.team_id)
    schedule = view.digest_schedule(str(zone), insights.scaled_digest_period_ms(chat.flows.time_scale))
    return Reply(f"The weekly digest goes to ~{channel['name']} {schedule}; the first one at "
                 f"{when(first, zone)}. It counts and lists public incidents only, since that channel's readers "
                 "may not be members of the private ones.")
