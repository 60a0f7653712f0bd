"""The incident's record in chat: the timeline, pinned posts, follow-ups, the retrospective draft.

- react with the timeline emoji (`:pushpin:`) to a post in an incident channel: it goes on the
  timeline; removing the reaction takes it off; `/incident timeline add <post link> [<summary>]`
  does the same by keyboard;
- `/incident timeline [<incident>] [--all]`: the timeline (`--all` adds checklist ticks);
- `/incident followup <text> [@owner]`, `/incident followups [<incident>]`, `/incident followup done <n>`;
- `/incident retro [<incident>]`: the retrospective draft by DM, regenerated from the record.
"""

from __future__ import annotations

from mmpy_bot import listen_webhook

from chat.context import ChatPlugin
from chat.events import listen_event
from chat.gateway import MattermostError
from chat.options import is_number
from chat.registry import CommandRequest, Reply, UsageError, subcommand
from flows import record as flow
from render import record as view
from render.callbacks import FollowupDone
from render.text import inert, safe
from services import incidents, record
from services.errors import DomainError


class Record(ChatPlugin):
    def _incident(self, request: CommandRequest, reference: str):
        """The named incident, or the one of this channel; and who asks, in its team."""
        if reference:
            actor = self.chat.actor(request.user_id, request.team_id)
            return incidents.find_incident(request.team_id, reference, actor=actor), actor
        return self.chat.here(request)

    # ---- the timeline ------------------------------------------------------------------------
    @subcommand("timeline", usage="/incident timeline [<incident>] [--all] · /incident timeline add <post link> [<summary>]",
                summary="The incident's timeline (`--all` with checklist ticks); `add` pins a post of its channel.", order=30)
    def timeline(self, request: CommandRequest) -> Reply:
        first, _, rest = request.args.partition(" ")
        if first.lower() == "add":
            return self.pin_by_link(request, rest.strip())
        words = request.args.split()
        with_ticks = "--all" in words
        reference = " ".join(w for w in words if w != "--all")
        if any(w.startswith("--") for w in reference.split()):
            raise UsageError("The only option is --all.")
        incident, actor = self._incident(request, reference)
        return Reply(flow.timeline(self.chat.flows, actor, incident, self.chat.zone(request.user_id), with_ticks=with_ticks))

    def pin_by_link(self, request: CommandRequest, rest: str) -> Reply:
        link, _, summary = rest.partition(" ")
        if not link:
            raise UsageError("Give the post's link.")
        incident, actor = self.chat.here(request)
        flow.pin(self.chat.flows, actor, incident, flow.post_id_from(link), summary)
        return Reply(f"The post is on the timeline of **{safe(incident.name)}**.")

    @listen_event("reaction_added", "reaction_removed")
    def reaction_changed(self, event) -> None:
        reaction = event["data"].get("reaction") or {}
        if reaction.get("emoji_name") != self.chat.timeline_emoji or reaction.get("user_id") == self.mm.bot_user_id:
            return
        try:
            post = self.mm.get_post(reaction["post_id"])
        except MattermostError:
            return  # a post the bot cannot read: nothing to pin, nothing to tell
        incident = incidents.incident_for_channel(post.get("channel_id", ""))
        added = event["event"] == "reaction_added"
        if incident is None:
            if added:
                self.chat.tell(post["channel_id"], reaction["user_id"],
                               f"Only posts in an incident channel go on a timeline; :{self.chat.timeline_emoji}: does nothing here.")
            return
        actor = self.chat.actor(reaction["user_id"], incident.team_id)
        try:
            if added:
                flow.pin(self.chat.flows, actor, incident, post["id"])
                note = f"Pinned to the timeline of **{safe(incident.name)}**."
            else:
                note = (f"Taken off the timeline of **{safe(incident.name)}**."
                        if flow.unpin(self.chat.flows, actor, incident, post["id"]) else "")
        except DomainError as exc:
            note = inert(exc.message)
        if note:
            self.chat.tell(incident.channel_id, reaction["user_id"], note)

    # ---- members ------------------------------------------------------------------------------
    @listen_event("user_added", "user_removed")
    def member_changed(self, event) -> None:
        data, broadcast = event["data"], event.get("broadcast") or {}
        channel_id, user_id = broadcast.get("channel_id"), data.get("user_id")
        if not channel_id or not user_id:
            return  # the copy of the event meant for the person removed: the channel's copy has it all
        incident = incidents.incident_for_channel(channel_id)
        if incident is not None:
            flow.member_changed(self.chat.flows, incident, user_id, event["event"] == "user_added",
                                data.get("remover_id") or None)

    # ---- follow-ups -----------------------------------------------------------------------------
    @subcommand("followup", usage="/incident followup <text> [@owner] · /incident followup done <n>",
                summary="Records a follow-up action (it outlives the incident), or marks one done.", order=31)
    def followup(self, request: CommandRequest) -> Reply:
        incident, actor = self.chat.here(request)
        first, _, rest = request.args.partition(" ")
        if first.lower() == "done":
            if not is_number(rest.strip()) or int(rest.strip()) < 1:
                raise UsageError("Say which follow-up by its number: `/incident followup done 2`.")
            done = flow.finish_followup(self.chat.flows, actor, incident, int(rest.strip()))
            return Reply(f"Follow-up {done.number} is done: {inert(done.text)}")
        text, owner = request.args, None
        words = text.split()
        if words and words[-1].startswith("@"):
            owner = self.chat.user_by_mention(words[-1])
            if not self.mm.is_team_member(incident.team_id, owner["id"]):
                raise UsageError(f"@{owner['username']} is not in this team; give it to someone who is.")
            text = text.rstrip()[: -len(words[-1])]  # the owner is named last
        if not text.strip():
            raise UsageError("Say what has to be done, then its owner: `/incident followup Add a disk alert @bob`.")
        added = flow.add_followup(self.chat.flows, actor, incident, text, owner)
        who = f" for @{owner['username']}" if owner else ""
        return Reply(f"Follow-up {added.number}{who} recorded: {inert(added.text)}")

    @subcommand("followups", usage="/incident followups [<incident>]", summary="The incident's follow-ups, each with a Done button.",
                order=32)
    def followups(self, request: CommandRequest) -> Reply:
        incident, actor = self._incident(request, request.args.strip())
        found = record.followups_of(actor, incident)
        buttons = [{"id": f"done{f.number}", "name": f"Done {f.number}", "type": "button",
                    "integration": {"url": self.chat.action_url,
                                    "context": self.chat.signed(FollowupDone(for_user=request.user_id, incident_id=incident.id, number=f.number))}}
                   for f in found if not f.is_done][:20]
        return Reply(view.followups_text(incident, found, self.chat.username),
                     attachments=[{"text": "", "actions": buttons}] if buttons else [])

    @listen_webhook(r"^action:followup_done$")
    def followup_done_clicked(self, event):
        clicked = self.chat.about_incident(event)
        done = flow.finish_followup(self.chat.flows, clicked.actor, clicked.incident, clicked.signed.number)
        return {"ephemeral_text": f"Follow-up {done.number} is done: {inert(done.text)}"}

    # ---- the retrospective -----------------------------------------------------------------------
    @subcommand("retro", usage="/incident retro [<incident>]", summary="Sends you the retrospective draft, from the record as it is now.",
                order=33)
    def retro(self, request: CommandRequest) -> Reply:
        incident, actor = self._incident(request, request.args.strip())
        incidents.require_view(actor, incident)
        flow.send_retrospective(self.chat.flows, incident, actor.user_id)
        return Reply(f"The retrospective draft of **{safe(incident.name)}** is on its way to you in a direct message.")
