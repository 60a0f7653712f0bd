"""`/incident` arrives here: parse the first word, route to the subcommand's handler.

This is the one `listen_webhook("command:incident")` of the bot. The subcommands
themselves live in the plugins (`@subcommand("start", ...)` in `plugins/incidents.py`, ...).
"""

from __future__ import annotations

import logging

from mmpy_bot import listen_webhook

from chat.events import listen_event
from chat.gateway import MattermostError
from chat.startup import StartupError
from chat.context import ChatPlugin
from chat.registry import CommandRequest, Reply, UsageError
from render import help as help_text
from render.text import inert
from services.errors import DomainError

log = logging.getLogger("incident.slash")


class SlashCommand(ChatPlugin):
    """Routes `/incident <subcommand>`; also answers the start-up self-check."""

    @listen_event("added_to_team")
    def joined_team(self, event) -> None:
        data = event["data"]
        if data.get("user_id") == self.driver.user_id and data.get("team_id"):
            try:
                self.chat.register_team(data["team_id"])
            except (MattermostError, StartupError) as exc:
                log.warning("could not register /incident in team %s: %s", data["team_id"], exc)

    @listen_webhook(r"^command:incident$")
    def incident(self, event):
        body = event.body
        request = CommandRequest(
            user_id=body.get("user_id", ""),
            user_name=body.get("user_name", ""),
            channel_id=body.get("channel_id", ""),
            team_id=body.get("team_id", ""),
            args=(body.get("text") or "").strip(),
            trigger_id=body.get("trigger_id", ""),
        )
        if request.user_id == self.driver.user_id and request.args.startswith("selfcheck "):
            return {"response_type": "ephemeral", "text": request.args}
        return self.handle(request).as_command_response()

    def handle(self, request: CommandRequest) -> Reply:
        """Run one subcommand; every failure becomes a sentence for the person."""
        word, _, rest = request.args.partition(" ")
        word = word.lower()
        if not word:
            word = "help"
        command = self.chat.subcommands.get(word)
        if command is None:
            return Reply(help_text.unknown(word, self.chat.subcommands))
        sub_request = CommandRequest(**{**request.__dict__, "args": rest.strip()})
        try:
            return command.handler(sub_request) or Reply()
        except UsageError as exc:
            detail = f"{exc} " if str(exc) else ""
            return Reply(f"{detail}Usage: `{command.usage}`")
        except DomainError as exc:
            return Reply(inert(exc.message))
