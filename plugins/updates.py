"""Keeping people informed in chat: severity, status updates, reminders' buttons, broadcast setting.

- `/incident severity [<1-4>]`: shows or changes the incident's severity (SEV1 is the most severe);
- `/incident update`: the update dialog; `/incident update <message> [--next <15m|2h|1d|off>]`: at once;
- `/incident settings broadcast ~channel|off`: the team's broadcast channel (team and system admins);
  `digest` and `timezone` are handed to `plugins/insights.py`.
"""

from __future__ import annotations

import re

from mmpy_bot import listen_webhook

from chat.context import ChatPlugin
from chat.registry import CommandRequest, Reply, UsageError, subcommand
from flows import updates as flow
from plugins import insights as insights_plugin
from render import dialogs
from render.callbacks import UpdateDialog
from render.text import inert, safe
from render.updates import clock
from services import incidents, updates
from services.errors import Invalid

UPDATE_USAGE = "/incident update [<message> [--next 15m|30m|1h|2h|4h|1d|off]]"
# the message is free text, kept as typed (lines, spacing); only a trailing --next is an option
_NEXT = re.compile(r"^(?P<message>.*?)(?:(?:^|\s)--next(?:\s+(?P<next>\S+))?)?\s*$", re.DOTALL)


def parse_update(args: str) -> tuple[str, object]:
    """The message and the cadence (`updates.KEEP` when `--next` is not given)."""
    match = _NEXT.match(args)
    assert match is not None  # the pattern matches any text
    message = match.group("message")
    if "--next" in message.split():
        raise UsageError("Put --next at the end, after the message.")
    if match.group("next") is None and args.rstrip().endswith("--next"):
        raise UsageError("--next needs a time: 15m, 2h, 1d, or off.")
    cadence = updates.parse_cadence(match.group("next")) if match.group("next") is not None else updates.KEEP
    return updates.clean_message(message), cadence


class Updates(ChatPlugin):
    # ---- severity --------------------------------------------------------------------------
    @subcommand("severity", usage="/incident severity [1|2|3|4]", summary="Shows the severity, or changes it (1 is the most severe).",
                order=7)
    def severity(self, request: CommandRequest) -> Reply:
        incident, actor = self.chat.here(request)
        words = request.args.split()
        if not words:
            incidents.require_view(actor, incident)
            return Reply(f"**{safe(incident.name)}** is SEV{incident.severity} (1 is the most severe).")
        if len(words) != 1:
            raise UsageError()
        level = updates.parse_severity(words[0])
        flow.change_severity(self.chat.flows, actor, incident, level)
        return Reply(f"**{safe(incident.name)}** is now SEV{level}.")

    # ---- updates ---------------------------------------------------------------------------
    @subcommand("update", usage=UPDATE_USAGE, summary="Posts a status update (a dialog without a message); it reaches the broadcast channel.",
                order=8)
    def update(self, request: CommandRequest) -> Reply | None:
        incident, actor = self.chat.here(request)
        if not request.args:
            incidents.require_change(actor, incident)
            self.open_update_dialog(request.trigger_id, actor.user_id, incident)
            return None
        message, cadence = parse_update(request.args)
        posted = flow.post_update(self.chat.flows, actor, incident, message, cadence=cadence)
        return Reply(self.posted(posted))

    def open_update_dialog(self, trigger_id: str, user_id: str, incident) -> None:
        if not incident.is_active:
            raise Invalid(f"**{safe(incident.name)}** has ended; restart it to post updates.")
        message, level, cadence = flow.update_dialog_defaults(self.chat.flows, incident)
        state = self.chat.signed(UpdateDialog(for_user=user_id, incident_id=incident.id))
        self.mm.open_dialog(trigger_id, self.chat.base_url + "/hooks/dialog",
                            dialogs.post_update(state, message, level, cadence, updates.DIALOG_CADENCES))

    @listen_webhook(r"^dialog:update$")
    def update_submitted(self, event):
        submitted = self.chat.about_incident(event)
        if submitted is None:
            return {}
        incident, actor, form = submitted.incident, submitted.actor, submitted.form
        try:
            message = updates.clean_message(str(form.get("message") or ""))
        except Invalid as exc:
            return {"errors": {"message": inert(exc.message)}}
        try:
            level = updates.parse_severity(str(form.get("severity") or incident.severity))
            cadence = updates.parse_cadence(str(form.get("next") or "off"))
        except Invalid as exc:
            return {"error": inert(exc.message)}
        posted = flow.post_update(self.chat.flows, actor, incident, message, severity=level, cadence=cadence)
        self.chat.tell(event.body.get("channel_id", ""), actor.user_id, self.posted(posted))
        return {}

    def posted(self, posted) -> str:
        due = updates.next_due(posted.incident)
        then = f" The next one is due at {clock(due)}." if due else " No further update is due."
        where = " It went to the broadcast channel too." if posted.incident.broadcast_channel_id and updates.announces(posted.incident) else ""
        return f"Update posted on **{safe(posted.incident.name)}** (SEV{posted.update.severity}).{where}{then}"

    # ---- the reminder's buttons ----------------------------------------------------------------
    @listen_webhook(r"^action:post_update$")
    def post_update_clicked(self, event):
        clicked = self.chat.about_incident(event)
        incidents.require_change(clicked.actor, clicked.incident)
        self.open_update_dialog(event.body.get("trigger_id", ""), clicked.actor.user_id, clicked.incident)
        return {}

    @listen_webhook(r"^action:snooze$")
    def snooze_clicked(self, event):
        clicked = self.chat.about_incident(event)
        until = flow.snooze(self.chat.flows, clicked.actor, clicked.incident, clicked.signed.due_at)
        return {"ephemeral_text": f"Snoozed: the next reminder comes at {clock(until)}."}

    # ---- the team's broadcast channel -------------------------------------------------------------
    @subcommand("settings", usage="/incident settings broadcast ~channel|off · digest ~channel weekly|off · timezone <Area/City>",
                summary="Team and system admins: the channel where incidents are announced and updates copied; the "
                        "channel of the weekly digest; the team's timezone.", order=40)
    def team_settings(self, request: CommandRequest) -> Reply:
        words = request.args.split()
        if words and words[0].lower() in insights_plugin.SETTINGS:  # the digest and timezone live there
            return insights_plugin.team_setting(self.chat, request, words)
        if len(words) != 2 or words[0].lower() != "broadcast":
            raise UsageError()
        actor = self.chat.actor(request.user_id, request.team_id)
        choice = None if words[1].lower() == "off" else words[1]
        channel = flow.set_team_broadcast(self.chat.flows, actor, request.team_id, choice)
        if channel is None:
            return Reply("This team has no broadcast channel now; incidents are not announced.")
        return Reply(f"New incidents are announced in ~{channel['name']}, and their updates copied there. "
                     "Private incidents are announced only when their playbook says so, and then without their name or updates.")
