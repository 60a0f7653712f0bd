"""How the team is doing: a person's metrics (numbers now, the chart by DM), the team's timezone and
digest settings, and the weekly digest the timers' sweep posts.

The digest is claimed before it is posted (`services.insights.claim_digest`: one row per team and
due time), so replicas sharing the database post it once, and a bot that was down on Monday
morning posts it when it starts again. Digests due before the digest was switched on are never sent.
"""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from render import insights as view
from render.text import safe
from services import backstage, insights, playbooks
from services.actor import Actor
from services.errors import Invalid

from .context import FlowContext
from .port import ChatError, Upload

log = logging.getLogger("incident.flows.insights")

OPEN_LISTED = 20


# ---- a person's metrics -----------------------------------------------------------------------------
def metrics(ctx: FlowContext, actor: Actor, team_id: str, *, since: str | None = None, playbook: str | None = None,
            severity: int | None = None) -> str:
    """The numbers over the incidents the actor may see, as the answer; the chart follows by DM."""
    if not actor.in_team(team_id) and not actor.is_admin_of(team_id):
        raise Invalid("Only members of this team can see its metrics.")
    zone = insights.zone_of(team_id)
    since_ms = insights.parse_since(since, zone, ctx.now())
    found = playbooks.find_playbook(actor, team_id, playbook) if playbook is not None else None
    member_of = ctx.chat.member_channel_ids(actor.user_id, team_id) if backstage.needs_channels(actor, team_id) else frozenset()
    scope = insights.Scope(team_id, since_ms, playbook_id=found.id if found else None, severity=severity)
    numbers = insights.metrics(scope, backstage.visible_to(actor, team_id, member_of), zone, ctx.now())
    is_admin = actor.is_admin_of(team_id)
    text = view.metrics_text(numbers, zone, str(zone), is_admin=is_admin, playbook_title=found.title if found else None,
                             severity=severity)
    ctx.long_work.start(("metrics-chart", actor.user_id, team_id), lambda: _send_chart(ctx, actor.user_id, numbers, zone, is_admin))
    return text + "\n_The weekly chart is on its way to you in a direct message._"


def _send_chart(ctx: FlowContext, user_id: str, numbers: insights.Metrics, zone: ZoneInfo, is_admin: bool) -> None:
    png = view.weekly_chart_png(numbers, zone, "Incidents per week, by severity, and the median MTTR",
                                view.privacy_note(is_admin))
    try:
        ctx.chat.direct_message(user_id, view.chart_message(numbers, zone, is_admin),
                                uploads=[Upload("incident-metrics.png", png)])
    except ChatError as exc:
        log.warning("could not send %s the metrics chart: %s", user_id, exc)


# ---- the team's settings ------------------------------------------------------------------------------
def set_timezone(ctx: FlowContext, actor: Actor, team_id: str, name: str) -> str:
    """The team's timezone (weeks, the digest's Monday 09:00); the name stored."""
    stored = insights.set_zone(actor, team_id, name)
    _wake_for_next_digest(ctx, team_id)
    return stored


def set_digest(ctx: FlowContext, actor: Actor, team_id: str, channel_name: str | None) -> dict[str, Any] | None:
    """Post the weekly digest in that channel (None: stop); the channel."""
    insights.require_settings_admin(actor, team_id)
    if channel_name is None:
        insights.set_digest(actor, team_id, None, ctx.now())
        return None
    channel = _digest_channel(ctx, actor, team_id, channel_name)
    insights.set_digest(actor, team_id, channel["id"], ctx.now())
    _wake_for_next_digest(ctx, team_id)
    return channel


def next_digest_at(ctx: FlowContext, team_id: str) -> int:
    return insights.digest_window(ctx.now(), insights.zone_of(team_id), ctx.time_scale).next_due_at


def _wake_for_next_digest(ctx: FlowContext, team_id: str) -> None:
    ctx.remind_at(next_digest_at(ctx, team_id))


def _digest_channel(ctx: FlowContext, actor: Actor, team_id: str, channel_name: str) -> dict[str, Any]:
    """A channel the person can see that the bot can post in (it joins a public one; a private one
    must have invited it), not archived."""
    name = channel_name.lstrip("~")
    channel = ctx.chat.channel_by_name(team_id, name)
    if channel is None or (channel.get("type") == "P" and not ctx.chat.is_channel_member(channel["id"], actor.user_id)):
        raise Invalid(f"There is no channel ~{safe(name)} in this team that you can see.")
    if channel.get("type") not in ("O", "P") or channel.get("delete_at"):
        raise Invalid(f"~{channel['name']} cannot get the digest: pick an open or private channel that is not archived.")
    if not ctx.chat.is_channel_member(channel["id"], ctx.chat.bot_user_id):
        if channel.get("type") == "P":
            raise Invalid(f"I am not in ~{channel['name']}: invite me there first (`/invite @{ctx.username(ctx.chat.bot_user_id)}`).")
        try:
            ctx.chat.add_member(channel["id"], ctx.chat.bot_user_id)
        except ChatError as exc:
            raise Invalid(f"I could not join ~{channel['name']} ({exc.message}).") from None
    return channel


# ---- the weekly digest --------------------------------------------------------------------------------
def send_due_digests(ctx: FlowContext) -> int:
    """Post every team's digest that is due and not yet posted by anyone; how many this call posted."""
    posted = 0
    for team in insights.digest_teams():
        zone = insights.zone_of(team.team_id)
        window = insights.digest_window(ctx.now(), zone, ctx.time_scale)
        ctx.remind_at(window.next_due_at)  # the timers wake then, not only at the next periodic sweep
        if team.digest_set_at is None or window.due_at < team.digest_set_at:
            continue  # switched on after this one was due: the first digest is the next one
        if not insights.claim_digest(team.team_id, window.due_at, str(team.digest_channel_id)):
            continue  # another replica has it, or it went out already
        posted += _post_digest(ctx, team.team_id, str(team.digest_channel_id), window, zone)
    return posted


def _post_digest(ctx: FlowContext, team_id: str, channel_id: str, window: insights.DigestWindow, zone: ZoneInfo) -> int:
    scope = insights.Scope(team_id, window.since_ms, window.until_ms)
    numbers = insights.metrics(scope, insights.PUBLIC_ONLY, zone, ctx.now())
    shown, total = insights.open_incidents(team_id, insights.PUBLIC_ONLY, OPEN_LISTED)
    text = view.digest_text(numbers, shown, total, zone, str(zone), ctx.username, ctx.now())
    try:
        post = ctx.chat.post(channel_id, text)
    except ChatError as exc:
        # a server error may pass: try again at the next sweep; a refusal (channel gone, bot removed) will not
        retry = exc.status >= 500 or exc.status == 0
        log.warning("could not post the digest of team %s in channel %s: %s%s", team_id, channel_id, exc,
                    " (trying again soon)" if retry else "")
        insights.digest_failed(team_id, window.due_at, exc.message, retry=retry)
        return 0
    insights.digest_posted(team_id, window.due_at, str(post.get("id", "")))
    log.info("posted the weekly digest of team %s", team_id)
    return 1
