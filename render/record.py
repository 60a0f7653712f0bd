"""The incident's record in words: the timeline, follow-ups, and the retrospective draft (Markdown).

The events keep ids and numbers; the words come from what is current when shown: a user's
name, a checklist item's title, a pinned post's text as it reads now (or "deleted").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any, Callable

from render.dates import when
from render.text import inert, safe
from render.updates import duration

RETRO_SECTIONS_TO_WRITE = ("Impact", "Root cause", "What went well", "What to improve")


@dataclass(frozen=True)
class Words:
    """How to name things in the record: users, checklist items, posts (text, link)."""

    username: Callable[[str], str]
    item_title: Callable[[int], str]
    post_text: Callable[[str], str | None]  # None: the post is gone
    post_link: Callable[[str], str]


def describe(entry: Any, words: Words) -> str:
    """One timeline event as a sentence."""
    who = f"@{words.username(entry.actor_id)}" if entry.actor_id else "The bot"
    data = entry.data
    kind = entry.kind
    if kind == "incident_created":
        return f"{who} started the incident (SEV{data.get('severity', 3)})"
    if kind == "incident_ended":
        return f"{who} ended the incident"
    if kind == "incident_restarted":
        return f"{who} restarted the incident"
    if kind == "commander_changed":
        return f"{who} handed command to @{words.username(data.get('commander_id') or '')}"
    if kind == "severity_changed":
        return f"{who} changed the severity from SEV{data.get('previous')} to SEV{data.get('severity')}"
    if kind == "status_update_posted":
        return f"{who} posted a status update (SEV{data.get('severity')})"
    if kind == "made_private":
        return "The channel was made private"
    if kind in ("item_checked", "item_unchecked", "item_added", "item_removed", "item_renamed", "item_moved"):
        verb = {"item_checked": "ticked", "item_unchecked": "unticked", "item_added": "added", "item_removed": "removed",
                "item_renamed": "renamed", "item_moved": "moved"}[kind]
        return f"{who} {verb} item “{safe(words.item_title(data.get('item_id') or 0))}”"
    if kind == "post_pinned":
        text = words.post_text(str(data.get("post_id") or ""))
        quoted = "(deleted)" if text is None else f"“{safe(text[:200])}”"
        return f"{who} pinned [a post]({words.post_link(str(data.get('post_id')))}): {quoted}"
    if kind == "post_unpinned":
        return f"{who} unpinned a post"
    if kind == "followup_added":
        owner = f" for @{words.username(data['owner_id'])}" if data.get("owner_id") else ""
        return f"{who} recorded follow-up {data.get('number')}{owner}"
    if kind == "followup_done":
        return f"{who} marked follow-up {data.get('number')} done"
    if kind == "member_joined":
        return f"@{words.username(data.get('user_id') or '')} joined the channel"
    if kind == "member_left":
        return f"@{words.username(data.get('user_id') or '')} left the channel"
    if kind == "reminder_sent":
        return "The bot reminded the commander that an update was due"
    if kind == "reminder_snoozed":
        return f"{who} snoozed the update reminder"
    return f"{who}: {kind.replace('_', ' ')}"


def _table(incident: Any, entries: list[Any], words: Words, zone: tzinfo) -> list[str]:
    """The timeline as Markdown table lines: in chat, and in the retrospective."""
    return ["| Time | Since start | What happened |", "| --- | --- | --- |"] + [
        f"| {when(entry.at, zone)} | {duration(entry.at - incident.created_at)} | {describe(entry, words)} |" for entry in entries]


def timeline_table(incident: Any, entries: list[Any], words: Words, zone: tzinfo) -> str:
    if not entries:
        return "Nothing on the timeline yet."
    return "\n".join([f"#### Timeline of {safe(incident.name)}", *_table(incident, entries, words, zone)])


def followups_text(incident: Any, followups: list[Any], username: Callable[[str], str]) -> str:
    if not followups:
        return f"**{safe(incident.name)}** has no follow-ups yet: `/incident followup <text> [@owner]` records one."
    lines = [f"#### Follow-ups of {safe(incident.name)}"]
    for f in followups:
        owner = f" → @{username(f.owner_id)}" if f.owner_id else ""
        state = f"~~{inert(f.text)}~~ (done by @{username(f.done_by)})" if f.is_done else inert(f.text)
        lines.append(f"{f.number}. {state}{owner}")
    return "\n".join(lines)


@dataclass
class Retro:
    """What the draft is made of; the flow gathers it, this module writes it."""

    incident: Any
    commander: str
    participants: list[str]
    zone: tzinfo
    updates: list[tuple[int, str, int, str]]  # (posted at, author, severity, message)
    entries: list[Any]
    checklists: list[tuple[str, list[tuple[str, str | None, int | None]]]]  # (title, [(item, done by, done at)])
    pins: list[tuple[str, str | None, str, str]]  # (link, text or None when deleted, pinned by, summary)
    followups: list[tuple[int, str, str | None, bool]]  # (number, text, owner, done)
    words: Words
    channel_link: str
    notes: list[str] = field(default_factory=list)


def retrospective(retro: Retro) -> str:
    incident, zone = retro.incident, retro.zone
    ended = incident.ended_at
    first_update = retro.updates[0][0] if retro.updates else None
    out = [f"# Retrospective: {incident.name}", ""]
    if incident.summary:
        out += [incident.summary, ""]
    out += [
        "## Summary",
        "",
        f"- Severity: SEV{incident.severity}",
        f"- Started: {when(incident.created_at, zone)}",
        f"- Ended: {when(ended, zone) if ended else 'still ongoing'}",
        f"- Duration: {duration((ended or incident.created_at) - incident.created_at) if ended else 'ongoing'}",
        f"- Commander: @{retro.commander}",
        f"- Participants: {', '.join('@' + p for p in retro.participants) or 'none recorded'}",
        f"- Time to first update: {duration(first_update - incident.created_at) if first_update else 'no update was posted'}",
        f"- Time to resolution: {duration(ended - incident.created_at) if ended else 'not resolved yet'}",
        f"- Channel: {retro.channel_link}",
        "",
        "## Status updates",
        "",
    ]
    out += [f"- {when(at, zone)} @{author} (SEV{level}): {' '.join(message.split())}" for at, author, level, message in retro.updates] \
        or ["No status update was posted."]
    out += ["", "## Timeline", "", *_table(incident, retro.entries, retro.words, zone)]
    out += ["", "## Checklist", ""]
    for title, items in retro.checklists:
        out.append(f"### {title}")
        for item, who, at in items:
            out.append(f"- [x] {item} (@{who}, {when(at, zone)})" if who else f"- [ ] {item}")
        out.append("")
    out += ["## Pinned posts", ""]
    for link, text, who, summary in retro.pins:
        quoted = "> (deleted)" if text is None else "\n".join("> " + line for line in text.splitlines()[:20]) or "> (no text)"
        out += [f"[Post]({link}) pinned by @{who}" + (f": {summary}" if summary else ""), quoted, ""]
    if not retro.pins:
        out += ["Nothing was pinned.", ""]
    out += ["## Follow-ups", ""]
    out += [f"- [{'x' if done else ' '}] {number}. {' '.join(text.split())}" + (f" (@{owner})" if owner else "")
            for number, text, owner, done in retro.followups] or ["None recorded."]
    for section in RETRO_SECTIONS_TO_WRITE:
        out += ["", f"## {section}", "", "_To be written by the team._"]
    return "\n".join(out).rstrip() + "\n"
