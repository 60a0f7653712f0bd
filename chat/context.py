"""What every plugin is given: who is acting, which incident is here, the flows, the settings."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timezone, tzinfo

from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urlencode

from mmpy_bot import Plugin

from chat.gateway import Mattermost, MattermostError
from chat.registry import CommandRequest, Subcommand
from chat.signing import Signer
from chat.web import ACTION_PATH, SECRET_PARAMETER
from config.settings import Settings
from flows.context import FlowContext, Links
from render.callbacks import Callback
from render.dates import user_zone
from services import incidents
from services.actor import Actor
from services.errors import Forbidden, Invalid, NotFound

if TYPE_CHECKING:
    from mmpy_bot.wrappers import WebHookEvent

    from models import Incident

log = logging.getLogger("incident.chat")

_MATTERMOST_ID = re.compile(r"[a-z0-9]{26}")


def action_url(base_url: str, callback_secret: str) -> str:
    """Where Mattermost sends clicks: with the callback secret in it when one is set."""
    url = base_url + ACTION_PATH
    return f"{url}?{urlencode({SECRET_PARAMETER: callback_secret})}" if callback_secret else url


@dataclass(frozen=True)
class IncidentCallback:
    incident: Incident
    actor: Actor
    signed: Any  # the typed context or state (render.callbacks)
    form: dict[str, Any]


class ChatContext:
    """Built once per bot, when it has logged in; every plugin gets it through `attach`."""

    def __init__(self, mm: Mattermost, signer: Signer, settings: Settings, subcommands: dict[str, Subcommand],
                 register_team: Callable[[str], None]) -> None:
        self.mm = mm
        self.signer = signer
        self.settings = settings
        self.subcommands = subcommands  # every `/incident <word>` the plugins declare
        self.register_team = register_team  # give a team the bot just joined its /incident
        self.base_url = settings.callback_base_url
        self.site_url = settings.mattermost.url.rstrip("/")
        self.emoji = settings.bot.trigger_emoji
        self.timeline_emoji = settings.bot.timeline_emoji
        self.action_url = action_url(self.base_url, settings.bot.callback_secret)  # every button's (chat/web.py checks it)
        self.flows = FlowContext(self.mm, Links(sign=self.signer.sign_context, action_url=self.action_url,
                                                dialog_url=self.base_url + "/hooks/dialog", site_url=self.site_url),
                                 time_scale=settings.updates.time_scale)

    # ---- who ---------------------------------------------------------------------------
    def actor(self, user_id: str, team_id: str) -> Actor:
        """Who acts, in `team_id` only if they belong to it now.

        The team may come from a signed button or dialog made while they were a member; if they
        left since, they act as an outsider there (system admins keep their powers).
        """
        user = self.mm.user(user_id)
        member = self.mm.team_member(team_id, user_id)
        return Actor(
            user_id=user_id,
            username=user.get("username", ""),
            team_id=team_id if member is not None else "",
            is_system_admin="system_admin" in (user.get("roles") or "").split(),
            is_team_admin=self.mm.is_team_admin(team_id, user_id),
            is_channel_member=lambda channel_id: self.mm.is_channel_member(channel_id, user_id),
        )

    def signed(self, callback: Callback) -> dict[str, Any] | str:
        """A button's context or a dialog's state; `chat/web.py` reads it back."""
        if callback.kind == "dialog":
            return self.signer.sign_state(callback.payload())
        return self.signer.sign_context(callback.payload())

    def submission(self, event: WebHookEvent) -> tuple[Callback, dict[str, Any], Actor, str] | None:
        """A dialog submission's signed state, its form, who sent it and the team it is about;
        None if cancelled.

        The team comes from the signed state when the dialog put it there (a dialog opened
        from a DM prompt has no team of its own). It is returned apart from the actor, whose
        team is empty when they do not belong to it.
        """
        body = event.body
        if body.get("cancelled"):
            return None
        state = body["state"]
        team_id = getattr(state, "team_id", "") or body.get("team_id", "")
        return state, body.get("submission") or {}, self.actor(body.get("user_id", ""), team_id), team_id

    def zone(self, user_id: str) -> tzinfo:
        """The timezone this person reads dates in."""
        try:
            return user_zone(self.mm.user(user_id))
        except MattermostError:
            return timezone.utc

    def username(self, user_id: str) -> str:
        return self.flows.username(user_id)

    def user_by_mention(self, text: str) -> dict[str, Any]:
        name = text.strip().lstrip("@")
        user = self.mm.user_by_username(name) if name else None
        if user is None:
            raise Invalid(f"There is no user called @{name or '…'}; check the spelling.")
        return user

    def about_incident(self, event: WebHookEvent) -> "IncidentCallback | None":
        """A click or dialog submission about one incident (its signed payload names it): the
        incident, who acts in its team, what they sent; None for a cancelled dialog."""
        body = event.body
        if body.get("cancelled"):
            return None
        signed = body.get("context") or body.get("state")
        incident = incidents.by_id(getattr(signed, "incident_id", 0))
        if incident is None:
            raise NotFound("This incident no longer exists.")
        user_id = str(body.get("user_id") or "")
        if getattr(signed, "kind", "") == "action" and not signed.for_user:
            self._require_channel_reader(incident, user_id)
        return IncidentCallback(incident, self.actor(user_id, incident.team_id), signed, body.get("submission") or {})

    def _require_channel_reader(self, incident: Incident, user_id: str) -> None:
        """The person a click names must be able to read the incident's channel.

        Mattermost forwards a click on a post's button only from someone who may read the post's
        channel, members and system admins (a non-member's click gets 403 there: contract recording
        message_actions.json), and it does not say who clicked in any way the bot can verify. A click
        naming anyone else did not come through Mattermost from that person. Buttons made for one
        person (`for_user`: confirmations, prompts) are bound to that person already.
        """
        if _MATTERMOST_ID.fullmatch(user_id) and (self.mm.is_channel_member(incident.channel_id, user_id)
                                                  or self._is_system_admin(user_id)):
            return
        log.warning("refused a click on incident %s naming someone who cannot read its channel", incident.id)
        raise Forbidden("Only members of the incident's channel can use its buttons.")

    def _is_system_admin(self, user_id: str) -> bool:
        try:
            return self.mm.is_system_admin(user_id)
        except MattermostError as exc:
            if exc.status in (400, 403, 404):  # no such person
                return False
            raise

    # ---- where -------------------------------------------------------------------------
    def here(self, request: CommandRequest) -> tuple[Incident, Actor]:
        """The incident of the channel a command was typed in, and who typed it (in its team)."""
        incident = self.incident_here(request)
        return incident, self.actor(request.user_id, incident.team_id)

    def incident_here(self, request: CommandRequest) -> Incident:
        """The incident of the channel a command was typed in (of the command's own team)."""
        incident = incidents.incident_for_channel(request.channel_id)
        if incident is None or incident.team_id != request.team_id:
            raise Invalid("This is not an incident channel: run it in the incident's channel, or name the incident.")
        return incident

    def tell(self, channel_id: str, user_id: str, text: str) -> None:
        """An ephemeral note to one person where they are (best effort)."""
        if not channel_id:
            return
        try:
            self.mm.ephemeral(channel_id, user_id, text)
        except MattermostError as exc:
            log.warning("could not send an ephemeral message: %s", exc)

    def permalink(self, team_id: str, post_id: str) -> str:
        return self.flows.permalink(team_id, post_id)


class ChatPlugin(Plugin):
    """A plugin of this bot: given the chat context once the bot has logged in."""

    chat: ChatContext

    def attach(self, chat: ChatContext) -> None:
        self.chat = chat
        self.mm = chat.mm
