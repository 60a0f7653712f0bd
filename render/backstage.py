"""What backstage, stats and export look like in chat.

Dates are shown in the reader's Mattermost timezone (their profile's automatic or manual
zone; UTC when unknown). The backstage list is a Markdown table with Previous / Next
buttons whose signed context (a `render.callbacks.BackstagePage`) repeats the filters.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone, tzinfo
from typing import Any, Callable, Iterable

from render.callbacks import BackstagePage
from render.dates import when
from render.text import safe
from services.backstage import Filters, Page
from services.metrics import IncidentStats

CSV_COLUMNS = ["Post Creation Time", "User Id", "User Email", "User Type", "User Name", "Post Id", "Parent Post Id",
               "Post Message", "Post Type"]


# ---- backstage ---------------------------------------------------------------------------------
def describe_filters(filters: Filters, commander_name: str | None) -> str:
    parts = []
    if filters.status:
        parts.append(filters.status)
    if filters.severity:
        parts.append(f"SEV{filters.severity}")
    if commander_name:
        parts.append(f"commanded by @{commander_name}")
    if filters.search:
        parts.append(f"matching “{safe(filters.search)}”")
    parts.append({"start": "newest first", "end": "most recently ended first", "name": "by name"}[filters.sort])
    return ", ".join(parts)


def filters_context(filters: Filters) -> dict:
    return {"status": filters.status or "", "commander_id": filters.commander_id or "", "search": filters.search,
            "sort": filters.sort, "severity": filters.severity or 0}


def filters_from_context(data: dict, page: int) -> Filters:
    def field(name: str, legacy: str) -> str:  # buttons posted before the names were spelled out
        return str(data.get(name, data.get(legacy)) or "")

    return Filters(status=field("status", "s") or None, commander_id=field("commander_id", "c") or None,
                   search=field("search", "q"), sort=field("sort", "o") or "start", page=page,
                   severity=int(data.get("severity") or 0) or None)


def backstage_list(page: Page, filters: Filters, *, zone: tzinfo, username: Callable[[str], str],
                   commander_name: str | None, open_followups: dict[int, int] | None = None) -> str:
    """`open_followups`: incident id -> follow-ups not done yet."""
    open_followups = open_followups or {}
    heading = f"#### Incidents — {describe_filters(filters, commander_name)}"
    if page.past_end:
        return (f"{heading}\nPage {page.number} is past the end: there are {page.total} matching incidents "
                f"on {page.pages} page(s). No incidents to show here.")
    if not page.incidents:
        return f"{heading}\nNo incidents you can see match."
    rows = [heading, f"{page.first_index}–{page.last_index} of {_count(page.total, page)} · page {page.number} of "
            f"{_count(page.pages, page)}", "",
            "| Name | Severity | Status | Start | End | Commander | Open follow-ups |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    for incident in page.incidents:
        status = "Ongoing" if incident.is_active else "Ended"
        end = "--" if incident.is_active else when(incident.ended_at, zone)
        lock = " :lock:" if incident.is_private else ""
        rows.append(f"| {safe(incident.name)}{lock} | SEV{incident.severity} | {status} | {when(incident.created_at, zone)} | {end} | "
                    f"@{username(incident.commander_id)} | {open_followups.get(incident.id, 0) or '--'} |")
    return "\n".join(rows)


def _count(number: int, page: Page) -> str:
    """A total as far as it was counted: `1000+` once counting stopped there."""
    return f"{number}" if page.exact else f"{number}+"


# ---- /incident list ------------------------------------------------------------------------------
def active_list(page: Page, next_due: dict[int, int], *, zone: tzinfo, username: Callable[[str], str]) -> str:
    """A page of the active incidents, newest first, with the command for the next page.

    `next_due`: incident id -> when its next update is due."""
    if page.past_end:
        return (f"Page {page.number} is past the end: there are {page.total} active incidents you can see, "
                f"on {page.pages} page(s). Try `/incident list`.")
    if not page.incidents:
        return "There are no active incidents in this team that you can see."
    where = f" · {page.first_index}–{page.last_index}, page {page.number} of {_count(page.pages, page)}" if page.pages > 1 else ""
    rows = [f"**Active incidents ({_count(page.total, page)})**{where}",
            "| Incident | Severity | Channel | Commander | Started | Last update | Next update due |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    for incident in page.incidents:
        rows.append(f"| {safe(incident.name)}{' :lock:' if incident.is_private else ''} | SEV{incident.severity} | "
                    f"~{incident.channel_name} | @{username(incident.commander_id)} | {when(incident.created_at, zone)} | "
                    f"{when(incident.last_update_at, zone)} | {when(next_due.get(incident.id), zone)} |")
    if page.has_next:
        more = f"{page.total - page.last_index}{'' if page.exact else '+'} more"
        rows.append(f"_{more}: `/incident list --page {page.number + 1}`, or narrow them down with "
                    "`/incident backstage --status ongoing --severity 1` (or `--commander @user`, `--search <text>`)._")
    return "\n".join(rows)


def paging_buttons(page: Page, filters: Filters, user_id: str, team_id: str, sign: Callable[[dict], dict],
                   action_url: str) -> list[dict]:
    actions = []
    targets = []
    if page.has_previous:
        targets.append(("backstageprev", "◀ Previous", min(page.number - 1, page.pages)))
    if page.has_next and not page.past_end:
        targets.append(("backstagenext", "Next ▶", page.number + 1))
    for action_id, label, number in targets:
        context = sign(BackstagePage(for_user=user_id, team_id=team_id, filters=filters_context(filters), page=number).payload())
        actions.append({"id": action_id, "name": label, "type": "button",
                        "integration": {"url": action_url, "context": context}})
    return [{"text": "", "actions": actions}] if actions else []


# ---- stats -------------------------------------------------------------------------------------
def stats_text(incident, stats: IncidentStats, *, zone: tzinfo, commander: str, show_channel: bool) -> str:
    lock = " :lock: private" if incident.is_private else ""
    lines = [f"#### {safe(incident.name)}{lock}"]
    if show_channel:
        lines.append(f"Channel: ~{incident.channel_name}")
    status = "Ongoing" if incident.is_active else "Ended"
    span = f"{when(incident.created_at, zone)} – {'Ongoing' if incident.is_active else when(incident.ended_at, zone)}"
    lines += [
        f"Status: **{status}** · Commander: @{commander}",
        f"Duration: **{'Ongoing' if incident.is_active else stats.duration}**"
        + (f" (so far {stats.duration})" if incident.is_active else "") + f" · {span}",
        f"Members involved: **{stats.members_involved}** · Messages: **{stats.messages}**",
        f"Checklist: {stats.items_done} of {len(stats.items)} items done",
    ]
    return "\n".join(lines)


# ---- export ------------------------------------------------------------------------------------
def csv_time(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def csv_header() -> str:
    out = io.StringIO()
    csv.writer(out).writerow(CSV_COLUMNS)
    return out.getvalue()


# A spreadsheet runs a cell that starts like a formula (`=HYPERLINK(...)`, `@SUM`, `+cmd|...`);
# OWASP's CSV injection advice: start such cells with a single quote, which shows the text as typed.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """The cell's text, with a leading `'` if a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text


FOLLOWUP_TYPE = "incident_followup"  # the Post Type of the rows that are the incident's follow-ups


def followup_rows(followups: Iterable[Any], user: Callable[[str], dict]) -> str:
    """The incident's follow-ups as rows after the posts, marked by their Post Type; the message
    says the owner and whether it is done."""
    out = io.StringIO()
    writer = csv.writer(out)
    for f in followups:
        author = user(f.created_by) or {}
        owner = user(f.owner_id).get("username", "") if f.owner_id else ""
        state = "done" if f.is_done else "open"
        writer.writerow([spreadsheet_safe(str(cell)) for cell in (
            csv_time(f.created_at), f.created_by, author.get("email", ""), "bot" if author.get("is_bot") else "user",
            author.get("username", ""), f"followup-{f.number}", "", f"[{state}{' @' + owner if owner else ''}] {f.text}",
            FOLLOWUP_TYPE,
        )])
    return out.getvalue()


def csv_rows(posts: Iterable[dict], user: Callable[[str], dict]) -> str:
    """CSV lines (RFC 4180 quoting, CRLF) for these posts, in the order given; no cell is a formula."""
    out = io.StringIO()
    writer = csv.writer(out)
    for post in posts:
        author = user(post.get("user_id") or "") or {}
        writer.writerow([spreadsheet_safe(str(cell)) for cell in (
            csv_time(post.get("create_at") or 0), post.get("user_id") or "", author.get("email", ""),
            "bot" if author.get("is_bot") else "user", author.get("username", ""), post.get("id") or "",
            post.get("root_id") or "", post.get("message") or "", post.get("type") or "",
        )])
    return out.getvalue()
