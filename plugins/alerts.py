"""Alert sources in chat (team and system admins):

- `/incident alerts connect <name> [--playbook "<title>"] [--severity N] [--private]`: a new source
  and its URL, for Alertmanager's `webhook_configs` or a Grafana webhook contact point;
- `/incident alerts list`, `/incident alerts disconnect <name>`, `/incident alerts rotate <name>`.

The URL is shown once, in the ephemeral answer; the bot keeps only a hash of its secret.
"""

from __future__ import annotations

from chat.alert_hooks import source_url
from chat.context import ChatPlugin
from chat.options import Option, Options, WholeNumber, Words, split_args
from chat.registry import CommandRequest, Reply, UsageError, subcommand
from flows import alerts as flow
from render import alerts as view
from render.text import safe
from services import alerts
from services.alerts import Connected

ALERTS_USAGE = ('/incident alerts connect <name> [--playbook "<title>"] [--severity 1-4] [--private] | list | '
                'disconnect <name> | rotate <name>')
CONNECT_OPTIONS = Options(
    "alerts connect",
    Words("name", missing="Name the source, e.g. `/incident alerts connect prometheus-prod`."),
    Option("--playbook", needs="--playbook needs a title."),
    Option("--severity", type=WholeNumber(1, 4), needs="--severity needs a level: 1 (most severe) to 4.",
           invalid="--severity is 1 (most severe), 2, 3 or 4."),
    Option("--private", is_flag=True, once=True),
)
NAME_OPTIONS = Options("alerts", Words("name", missing="Say which source, by its name; `/incident alerts list` shows them."))


class Alerts(ChatPlugin):
    @subcommand("alerts", usage=ALERTS_USAGE,
                summary="Team and system admins: alert sources (Alertmanager, Grafana) whose firing alerts start incidents; "
                        "`connect` answers with the URL to paste there.", order=45)
    def alerts(self, request: CommandRequest) -> Reply:
        word, _, rest = request.args.partition(" ")
        actor = self.chat.actor(request.user_id, request.team_id)
        flows = self.chat.flows
        match word.lower():
            case "connect":
                asked = CONNECT_OPTIONS.parse(split_args(rest))
                made = flow.connect_source(flows, actor, request.team_id, asked["name"], playbook_title=asked.get("playbook"),
                                           severity=asked.get("severity"), private=bool(asked.get("private")))
                return Reply(self._connected(made))
            case "list":
                if rest.strip():
                    raise UsageError("`list` takes nothing after it.")
                sources = flow.list_sources(flows, actor, request.team_id)
                return Reply(view.source_list(sources, alerts.playbook_titles(sources), self.chat.username))
            case "disconnect":
                gone = flow.disconnect_source(flows, actor, request.team_id, self._name(rest))
                return Reply(f"Alert source **{safe(gone.name)}** is disconnected: its URL no longer works. "
                             "The incidents it opened go on.")
            case "rotate":
                made = flow.rotate_source(flows, actor, request.team_id, self._name(rest))
                return Reply(self._connected(made, rotated=True))
        raise UsageError()

    @staticmethod
    def _name(rest: str) -> str:
        return str(NAME_OPTIONS.parse(split_args(rest))["name"])

    def _connected(self, made: Connected, rotated: bool = False) -> str:
        source = made.source
        return view.connected(source, source_url(self.chat.base_url, source.id, made.secret),
                              alerts.playbook_titles([source]).get(source.playbook_id or 0),
                              self.chat.username(source.owner_id), rotated=rotated)
