"""The incident lifecycle in chat: start, end, restart, commander, list, info.

Ways in to `start`: `/incident start` (dialog) or `/incident start <name> ...` (at once),
a reaction with the trigger emoji on any post (a prompt with a *Start incident* button that
opens the dialog prefilled from the post), and a DM to the bot saying `start <name>`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from mmpy_bot import listen_to, listen_webhook

from chat.events import listen_event
from chat.gateway import MattermostError
from chat.context import ChatPlugin
from chat.registry import CommandRequest, Reply, UsageError, subcommand
from flows import backstage as backstage_flow
from flows import incidents as flow
from flows import info as info_flow
from flows.incidents import Ended, Started
from chat.options import Option, Options, WholeNumber, Words, split_args
from render import backstage as backstage_view
from render import dialogs
from render.callbacks import ConfirmEnd, StartDialog, StartFromPost
from render import info as info_view
from render.text import inert, safe
from services import incidents, playbooks, updates
from services.errors import DomainError, Invalid

log = logging.getLogger("incident.incidents")

START_USAGE = '/incident start [<name> [--playbook "<title>"] [--severity 1-4] [--private|--public]]'
START_OPTIONS = Options(
    "start",
    Words("name", missing="Give the incident a name."),
    Option("--playbook", needs="--playbook needs a title."),
    Option("--private/--public", "private", once="Choose one of --private and --public."),
    Option("--severity", type=WholeNumber(1, 4), needs="--severity needs a level: 1 (most severe) to 4.",
           invalid="--severity is 1 (most severe), 2, 3 or 4."),
)

LIST_USAGE = "/incident list [--page N]"
LIST_OPTIONS = Options("list", Option("--page", type=WholeNumber(minimum=1), invalid="--page is a whole number from 1."),
                       case_insensitive=True)


@dataclass(frozen=True)
class StartOptions:
    name: str
    playbook: str | None  # a title as typed
    private: bool | None  # None: as the playbook says
    severity: int | None  # None: as the playbook says


def parse_start(args: str) -> StartOptions:
    values = START_OPTIONS.parse(split_args(args))
    return StartOptions(values["name"], values.get("playbook"), values.get("private"), values.get("severity"))


def ended_text(ended: Ended) -> str:
    """The answer to whoever ended the incident: what became of its channel, as it happened."""
    name, channel = safe(ended.incident.name), ended.incident.channel_name
    if ended.channel == flow.ARCHIVED:
        return f"Incident **{name}** ended; its channel is archived."
    if ended.channel == flow.ARCHIVE_PENDING:
        return (f"Incident **{name}** ended. Mattermost did not answer when asked to archive ~{channel}; "
                "I archive it as soon as Mattermost answers again.")
    if ended.channel == flow.ARCHIVE_REFUSED:
        return (f"Incident **{name}** ended, but Mattermost refused to archive ~{channel} ({inert(ended.problem)}); "
                "it stays open until someone archives it.")
    return f"Incident **{name}** ended and was restarted meanwhile; its channel ~{channel} stays open."


class Incidents(ChatPlugin):
    # ---- start ---------------------------------------------------------------------------
    @subcommand("start", usage=START_USAGE, summary="Starts an incident: a dialog, or at once when you give a name.", order=1)
    def start(self, request: CommandRequest) -> Reply | None:
        if not request.args:
            self.open_start_dialog(request.trigger_id, request.user_id, request.team_id)
            return None
        asked = parse_start(request.args)
        actor = self.chat.actor(request.user_id, request.team_id)
        playbook = playbooks.find_playbook(actor, request.team_id, asked.playbook) if asked.playbook else None
        started = flow.start_incident(self.chat.flows, actor, request.team_id, asked.name, playbook=playbook,
                                      is_private=asked.private, severity=asked.severity)
        return Reply(self.started(started))

    def open_start_dialog(self, trigger_id: str, user_id: str, team_id: str, name: str = "", summary: str = "",
                          source_post_id: str = "", private_default: str = "") -> None:
        actor = self.chat.actor(user_id, team_id)
        options = [(str(p.id), p.title[:64]) for p in playbooks.list_playbooks(actor, team_id)]
        state = self.chat.signed(StartDialog(for_user=user_id, team_id=team_id, source_post_id=source_post_id))
        self.mm.open_dialog(trigger_id, self.chat.base_url + "/hooks/dialog",
                            dialogs.start_incident(state, options, name=name, summary=summary,
                                                   private_default=private_default))

    @listen_webhook(r"^dialog:start$")
    def start_dialog_submitted(self, event):
        submitted = self.chat.submission(event)
        if submitted is None:
            return {}
        state, form, actor, team_id = submitted
        body = event.body
        chosen = str(form.get("playbook") or "")
        # the menu's values are playbook ids; a crafted submission may send anything
        if chosen and not re.fullmatch(r"[0-9]{1,9}", chosen):
            return {"errors": {"playbook": "Choose a playbook from the list."}}
        try:
            playbook = playbooks.get_playbook(actor, int(chosen)) if chosen else None
            visibility = form.get("visibility") or "playbook"
            private = None if visibility == "playbook" else visibility == "private"
            severity = updates.parse_severity(str(form["severity"])) if form.get("severity") else None
            started = flow.start_incident(self.chat.flows, actor, team_id, str(form.get("name") or ""), playbook=playbook,
                                          is_private=private, summary=str(form.get("summary") or ""),
                                          source_post_id=state.source_post_id or None, severity=severity)
        except Invalid as exc:
            return {"errors": {"name": inert(exc.message)}}
        except DomainError as exc:
            return {"error": inert(exc.message)}
        self.chat.tell(body.get("channel_id", ""), actor.user_id, self.started(started))
        return {}

    @staticmethod
    def started(started: Started) -> str:
        """What the person who started it is told, with a link to the channel."""
        note = f"Incident **{safe(started.incident.name)}** started in ~{started.incident.channel_name}."
        if not started.announced:
            note += " Mattermost refused my first messages there, so its checklist message is missing; `/incident info` shows the checklist."
        return note

    # ---- start from a reaction --------------------------------------------------------------
    @listen_event("reaction_added")
    def reaction_added(self, event) -> None:
        reaction = event["data"].get("reaction") or {}
        if reaction.get("emoji_name") != self.chat.emoji or reaction.get("user_id") == self.mm.bot_user_id:
            return
        post = self.mm.get_post(reaction["post_id"])
        channel = self.mm.channel(post["channel_id"])
        if not channel.get("team_id"):
            return
        context = self.chat.signed(StartFromPost(for_user=reaction["user_id"], post_id=post["id"], team_id=channel["team_id"],
                                                 from_private_channel=channel.get("type") == "P"))
        props = {"attachments": [{
            "text": "Start an incident from this post?",
            "actions": [{"id": "startincident", "name": "Start incident", "type": "button", "style": "primary",
                         "integration": {"url": self.chat.action_url, "context": context}}],
        }]}
        self.mm.ephemeral(post["channel_id"], reaction["user_id"], "", props=props)

    @listen_webhook(r"^action:start_from_post$")
    def start_from_post_clicked(self, event):
        context = event.body["context"]
        try:
            post = self.mm.get_post(context.post_id)
        except MattermostError:
            return {"ephemeral_text": "That post is no longer available."}
        message = " ".join(post.get("message", "").split())
        # a post from a private channel is quoted in the new channel: keep it private unless they choose otherwise
        self.open_start_dialog(event.body.get("trigger_id", ""), context.for_user, context.team_id, name=message[:64],
                               summary=post.get("message", ""), source_post_id=post["id"],
                               private_default="private" if context.from_private_channel else "")
        return {}

    # ---- start from a DM -----------------------------------------------------------------
    @listen_to(r"^\s*start\s+(.+)$", re.IGNORECASE, direct_only=True)
    def start_in_dm(self, message, args: str) -> None:
        teams = [t for t in self.mm.my_teams() if self.mm.is_team_member(t["id"], message.user_id)]
        if len(teams) != 1:
            names = ", ".join(t.get("name", "") for t in teams) or "none"
            self.mm.post(message.channel_id, f"I can't tell which team to start it in (yours with me: {names}); "
                                             "use `/incident start` in a channel of that team.")
            return
        try:
            asked = parse_start(args)
            actor = self.chat.actor(message.user_id, teams[0]["id"])
            playbook = playbooks.find_playbook(actor, teams[0]["id"], asked.playbook) if asked.playbook else None
            started = flow.start_incident(self.chat.flows, actor, teams[0]["id"], asked.name, playbook=playbook,
                                          is_private=asked.private, severity=asked.severity)
        except UsageError as exc:
            self.mm.post(message.channel_id,
                         f"{exc} Usage: `start <name> [--playbook \"<title>\"] [--severity 1-4] [--private|--public]`".strip())
            return
        except DomainError as exc:
            self.mm.post(message.channel_id, inert(exc.message))
            return
        self.mm.post(message.channel_id, self.started(started))

    # ---- end and restart ---------------------------------------------------------------------
    @subcommand("end", usage="/incident end", summary="Ends the incident of this channel and archives the channel.", order=2)
    def end(self, request: CommandRequest) -> Reply:
        if request.args:
            raise UsageError("Run it in the incident channel, without arguments.")
        incident = self.chat.incident_here(request)
        return Reply(ended_text(flow.end_incident(self.chat.flows, self.chat.actor(request.user_id, incident.team_id),
                                                  incident)))

    @listen_webhook(r"^action:end_ask$")
    def end_button(self, event):
        incident = self.chat.about_incident(event).incident
        if not incident.is_active:
            return {"ephemeral_text": "This incident has already ended."}
        # bound to this run of the incident: a confirmation left over from before a restart must not end it
        confirm = self.chat.signed(ConfirmEnd(for_user=event.body.get("user_id", ""), incident_id=incident.id,
                                              run=incidents.restarts(incident)))
        props = {"attachments": [{"text": f"End **{safe(incident.name)}** and archive ~{incident.channel_name}?",
                                  "actions": [{"id": "endconfirm", "name": "Yes, end it", "type": "button", "style": "danger",
                                               "integration": {"url": self.chat.action_url, "context": confirm}}]}]}
        self.mm.ephemeral(incident.channel_id, event.body.get("user_id", ""), "", props=props)
        return {}

    @listen_webhook(r"^action:end_confirm$")
    def end_confirmed(self, event):
        clicked = self.chat.about_incident(event)
        incident = clicked.incident
        return {"ephemeral_text": ended_text(flow.end_confirmed(self.chat.flows, clicked.actor, incident, clicked.signed.run))}

    @subcommand("restart", usage="/incident restart <incident>", summary="Reopens an ended incident and restores its channel.", order=3)
    def restart(self, request: CommandRequest) -> Reply:
        if not request.args:
            raise UsageError("Say which incident.")
        actor = self.chat.actor(request.user_id, request.team_id)
        incident = incidents.find_incident(request.team_id, request.args, actor=actor)
        restarted = flow.restart_incident(self.chat.flows, actor, incident)
        return Reply(f"Incident **{safe(restarted.name)}** restarted in ~{restarted.channel_name}.")

    # ---- commander ---------------------------------------------------------------------------
    @subcommand("commander", usage="/incident commander [@user]", summary="Shows the commander, or hands command to @user.", order=4)
    def commander(self, request: CommandRequest) -> Reply:
        incident, actor = self.chat.here(request)
        words = request.args.split()
        if not words:
            incidents.require_view(actor, incident)
            return Reply(f"The commander of **{safe(incident.name)}** is @{self.chat.username(incident.commander_id)}.")
        if len(words) != 1:
            raise UsageError()
        user = self.chat.user_by_mention(words[0])
        flow.hand_over(self.chat.flows, actor, incident, user)
        return Reply(f"@{user['username']} is now the commander.")

    # ---- list and info -------------------------------------------------------------------------
    @subcommand("list", usage=LIST_USAGE, summary="Lists this team's active incidents you can see, newest first.", order=5)
    def list(self, request: CommandRequest) -> Reply:
        page = LIST_OPTIONS.parse(split_args(request.args)).get("page", 1)
        actor = self.chat.actor(request.user_id, request.team_id)
        found = backstage_flow.active_incidents(self.chat.flows, actor, request.team_id, page)
        return Reply(backstage_view.active_list(found.page, found.next_due, zone=self.chat.zone(request.user_id),
                                                username=self.chat.username))

    @subcommand("info", usage="/incident info [<incident>]", summary="Shows an incident: commander, status, checklist progress.", order=6)
    def info(self, request: CommandRequest) -> Reply:
        actor = self.chat.actor(request.user_id, request.team_id)
        if request.args:
            incident = incidents.find_incident(request.team_id, request.args, actor=actor)
        else:
            incident = self.chat.incident_here(request)
            incidents.require_view(actor, incident)
        return Reply(info_view.incident_info(info_flow.describe(self.chat.flows, actor, incident),
                                             self.chat.zone(request.user_id)))

    # ---- the channel changes under us ----------------------------------------------------------
    @listen_event("channel_converted", "channel_deleted")
    def channel_changed(self, event) -> None:
        incident = incidents.incident_for_channel(event["data"].get("channel_id", ""))
        if incident is not None:
            flow.follow_channel(self.chat.flows, incident)

    @listen_event("hello")
    def reconnected(self, event) -> None:
        """Events missed while the websocket was down are never replayed: catch up."""
        self.mm.forget_all_memberships()  # someone may have left a private incident's channel
        flow.catch_up(self.chat.flows)

    @listen_event("user_added", "user_removed")
    def membership_changed(self, event) -> None:
        channel_id = event["broadcast"].get("channel_id") or event["data"].get("channel_id", "")
        if channel_id:
            self.mm.forget_membership(channel_id)
