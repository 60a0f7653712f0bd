"""What people did while the bot's websocket was down, found again so it is answered after all.

Mattermost never replays websocket events: a DM to the bot or a reaction made while the bot was
disconnected (a server restart, a network blip, the bot itself restarting) reaches it only if it
asks. After a reconnect the bot asks for what changed since the last event it heard: the posts of
its direct channels (`GET /channels/{id}/posts?since=`) and, in the other channels it is in, the
posts changed since then, whose reactions come in their metadata. A reaction moves its post's
`update_at` (the server's reaction store does so when it saves one), so a reaction on an old post
shows up there too. Only reactions that do something are kept: the trigger and timeline emojis.

This module decides what counts as missed; the chat layer hands each one to the same handlers as
a live event, under the same claim key, so what a replica (or this bot) heard live is not done twice.
Removed reactions leave no trace to find, so un-pinning while disconnected is not caught up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Collection, Union

from models.bot import BotState

from .port import ChatError, ChatPort

log = logging.getLogger("incident.flows.missed_events")

# A DM answered an hour late helps nobody and a long outage must not turn into thousands of calls:
# look back at most this far, and at most this many posts and channels per catch-up.
MAX_WINDOW_MS = 15 * 60_000
MAX_POSTS = 1000
MAX_CHANNELS = 200
# The server's clock and ours differ, and the persisted mark is written only now and then: look a
# little further back. What was heard live is skipped by its claim, so the overlap costs only reads.
SLACK_MS = 30_000
MARK_KEY = "websocket_heard_at"


@dataclass(frozen=True)
class MissedPost:
    """A post in a direct channel of the bot, by someone else."""

    post: dict[str, Any]
    channel: dict[str, Any]
    sender: str  # the author's username, as the live `posted` event names it

    @property
    def at(self) -> int:
        return int(self.post.get("create_at") or 0)


@dataclass(frozen=True)
class MissedReaction:
    """A trigger or timeline emoji someone added to a post in a channel the bot is in."""

    reaction: dict[str, Any]
    channel_id: str

    @property
    def at(self) -> int:
        return int(self.reaction.get("create_at") or 0)


Found = Union[MissedPost, MissedReaction]


@dataclass
class Missed:
    since_ms: int  # where the search began (ms since the epoch, the server's clock)
    found: list[Found] = field(default_factory=list)  # oldest first
    skipped: list[str] = field(default_factory=list)  # what the bounds left out, for the log

    @property
    def direct_posts(self) -> int:
        return sum(isinstance(item, MissedPost) for item in self.found)

    @property
    def reactions(self) -> int:
        return sum(isinstance(item, MissedReaction) for item in self.found)


def window_start(heard_at_ms: int, now_ms: int) -> tuple[int, str | None]:
    """Where to start looking, and what the bound leaves out (None when nothing)."""
    wanted = heard_at_ms - SLACK_MS
    earliest = now_ms - MAX_WINDOW_MS
    if wanted >= earliest:
        return wanted, None
    return earliest, (f"events from the {(earliest - wanted) // 1000} s before the last "
                      f"{MAX_WINDOW_MS // 60_000} minutes (the catch-up looks no further back)")


def find_missed(chat: ChatPort, heard_at_ms: int, now_ms: int, emojis: Collection[str]) -> Missed:
    """What was said to the bot in its DMs, and which `emojis` were added in its channels, since
    `heard_at_ms` (bounded: see MAX_WINDOW_MS, MAX_POSTS, MAX_CHANNELS)."""
    since, left_out = window_start(heard_at_ms, now_ms)
    missed = Missed(since_ms=since, skipped=[left_out] if left_out else [])
    channels = [c for c in chat.bot_channels() if not c.get("delete_at")]  # nothing can be done in an archived one
    # DMs first: a person waits there for an answer; then the busiest channels
    channels.sort(key=lambda c: (c.get("type") != "D", -int(c.get("last_post_at") or 0)))
    if len(channels) > MAX_CHANNELS:
        missed.skipped.append(f"{len(channels) - MAX_CHANNELS} of {len(channels)} channels (at most {MAX_CHANNELS} are read)")
        channels = channels[:MAX_CHANNELS]
    budget = MAX_POSTS
    usernames: dict[str, str] = {}
    for index, channel in enumerate(channels):
        if budget <= 0:
            missed.skipped.append(f"{len(channels) - index} channels after {MAX_POSTS} posts were read")
            break
        try:
            posts = chat.posts_since(channel["id"], since)
        except ChatError as exc:  # left or hidden meanwhile: the others still count
            missed.skipped.append(f"channel {channel['id']} ({exc.status} {exc.error_id})")
            continue
        if len(posts) > budget:
            missed.skipped.append(f"the {len(posts) - budget} oldest changed posts of channel {channel['id']}")
            posts = posts[-budget:]  # the newest: the ones people still wait on
        budget -= len(posts)
        for post in posts:
            if post.get("delete_at"):
                continue
            if channel.get("type") == "D" and _said_to_the_bot(chat, post, since):
                user_id = post["user_id"]
                if user_id not in usernames:
                    usernames[user_id] = str(chat.user(user_id).get("username") or "")
                missed.found.append(MissedPost(post, channel, usernames[user_id]))
            missed.found.extend(MissedReaction(reaction, channel["id"])
                                for reaction in _reactions(chat, post) if _counts(chat, reaction, since, emojis))
    missed.found.sort(key=lambda item: item.at)
    return missed


def _said_to_the_bot(chat: ChatPort, post: dict[str, Any], since: int) -> bool:
    # an edit brings an old post back with `since`: only posts made in the gap are new
    return (post.get("user_id") != chat.bot_user_id and not str(post.get("type") or "").startswith("system_")
            and int(post.get("create_at") or 0) >= since)


def _reactions(chat: ChatPort, post: dict[str, Any]) -> list[dict[str, Any]]:
    metadata = post.get("metadata") or {}
    if "reactions" in metadata:  # the server fills it in for clients (post metadata)
        return list(metadata["reactions"] or [])
    return chat.post_reactions(post["id"]) if post.get("has_reactions") else []


def _counts(chat: ChatPort, reaction: dict[str, Any], since: int, emojis: Collection[str]) -> bool:
    return (reaction.get("emoji_name") in emojis and reaction.get("user_id") != chat.bot_user_id
            and not reaction.get("delete_at") and int(reaction.get("create_at") or 0) >= since)


# ---- the mark, kept across restarts ----------------------------------------------------------------
def remembered_heard_at() -> int | None:
    """When (ms) a bot sharing this database last heard an event, if one ever did."""
    row = BotState.get_or_none(BotState.key == MARK_KEY)
    try:
        return int(row.value) if row else None
    except ValueError:
        return None


def remember_heard_at(at_ms: int) -> None:
    (BotState.insert(key=MARK_KEY, value=str(at_ms))
     .on_conflict(conflict_target=[BotState.key], update={BotState.value: str(at_ms)})
     .execute())
