"""How a team is doing: incidents started, ended and open, MTTA and MTTR, by severity and by week;
the team's timezone and weekly digest settings.

The database reads one row of figures per incident in scope (one query on the incident table,
whose row holds what is needed: `services/figures.py`), and the numbers are counted and sorted
here. That took a quarter to a half of the time the same in SQL window functions did, at 4 000
incidents and at 100 000 (issue 14, bench/metrics_bench.py):

- the incidents in scope: the team's, started in [since, until), that the reader may see
  (`services.backstage.visible_to`, the same rule as backstage), optionally of one playbook or
  severity;
- MTTA of an incident: start → its first status update, or its first checklist tick when it had
  no update; incidents with neither have none yet;
- MTTR: its total open time, for ended incidents only. A restarted incident is one row, counted
  once, and its open time is the sum of its runs: its end − its start − the time it spent ended
  between runs;
- median and p90 are nearest-rank percentiles (the value at rank ⌈p·n⌉, so always an observed
  value) of the overall, severity and week sets (`_spread`).

Weeks start on Monday 00:00 in the team's timezone (its offset at the window's start: a DST change
inside the window moves later week boundaries by an hour).
"""
from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, Iterable, Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import peewee
from peewee import Case, fn

from models import Incident, db, is_postgres
from models.clock import now_ms
from models.insights import ZONE_MAX, DigestPost, TeamInsights

from . import permissions
from .actor import Actor
from .errors import Forbidden, Invalid

DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS
SEVERITIES = (1, 2, 3, 4)
DEFAULT_DAYS = 30
MAX_DAYS = 3660
EARLIEST = date(2000, 1, 1)


# ---- what the caller asks ------------------------------------------------------------------------
@dataclass(frozen=True)
class Scope:
    team_id: str
    since_ms: int
    until_ms: int | None = None  # None: up to now
    playbook_id: int | None = None
    severity: int | None = None


def parse_since(text: str | None, zone: tzinfo, now: int | None = None) -> int:
    """`30d` (days back from now) or `YYYY-MM-DD` (midnight in `zone`); default the last 30 days."""
    now = now_ms() if now is None else now
    word = (text or f"{DEFAULT_DAYS}d").strip().lower()
    if word.endswith("d") and word[:-1].isdigit():
        days = int(word[:-1])
        if not 1 <= days <= MAX_DAYS:
            raise Invalid(f"--since counts days from 1 to {MAX_DAYS}, like 30d.")
        return now - days * DAY_MS
    try:
        day = date.fromisoformat(word)
    except ValueError:
        raise Invalid("--since is a number of days (30d) or a date (2024-03-01).") from None
    since = int(datetime.combine(day, time(), zone).timestamp() * 1000)
    if day < EARLIEST or since > now:
        raise Invalid("--since is a date between 2000-01-01 and today.")
    return since


def week_origin(since_ms: int, zone: tzinfo) -> int:
    """Monday 00:00 (team time) of the week `since_ms` falls in: where week 0 starts."""
    local = datetime.fromtimestamp(since_ms / 1000, tz=timezone.utc).astimezone(zone)
    monday = local.date() - timedelta(days=local.weekday())
    return int(datetime.combine(monday, time(), zone).timestamp() * 1000)


# ---- what the database answers -----------------------------------------------------------------
@dataclass(frozen=True)
class Spread:
    """Nearest-rank median and p90 of `count` durations (ms); None when there are none."""

    count: int = 0
    median_ms: int | None = None
    p90_ms: int | None = None


@dataclass(frozen=True)
class Counts:
    started: int = 0
    ended: int = 0
    open: int = 0
    mtta: Spread = Spread()
    mttr: Spread = Spread()


@dataclass(frozen=True)
class Week:
    start_ms: int
    by_severity: dict[int, int]  # incidents started that week, per severity
    mttr: Spread  # of the incidents started that week that have ended

    @property
    def started(self) -> int:
        return sum(self.by_severity.values())


@dataclass(frozen=True)
class Metrics:
    scope: Scope
    total: Counts
    by_severity: dict[int, Counts]  # only severities that had incidents
    weeks: list[Week] = field(default_factory=list)  # every week of the window, empty ones too
    private_seen: int = 0  # private incidents among those counted (the reader is a member or an admin)


def _per_incident(scope: Scope, visible: peewee.Expression, origin: int) -> peewee.ModelSelect[Incident]:
    """One row per incident in scope: severity, week, open?, private?, ack and resolve times (ms), all
    from the incident row itself (the figures the services store as things happen: services/figures.py)."""
    open_time = Incident.ended_at - Incident.created_at - Incident.paused_ms
    query = (Incident.select(
        Incident.severity,
        ((Incident.created_at - origin) / WEEK_MS),
        Case(None, [(Incident.is_active == True, 1)], 0),  # noqa: E712
        Case(None, [(Incident.is_private == True, 1)], 0),  # noqa: E712
        (fn.COALESCE(Incident.first_update_at, Incident.first_tick_at) - Incident.created_at),
        Case(None, [(Incident.is_active == True, None)], open_time),  # noqa: E712
    ).where((Incident.team_id == scope.team_id) & (Incident.created_at >= scope.since_ms) & visible))
    if scope.until_ms is not None:
        query = query.where(Incident.created_at < scope.until_ms)
    if scope.playbook_id is not None:
        query = query.where(Incident.playbook == scope.playbook_id)
    if scope.severity is not None:
        query = query.where(Incident.severity == scope.severity)
    return query


@contextmanager
def _without_jit() -> Iterator[None]:
    """PostgreSQL's JIT compiles a query over many rows for a second, to save it milliseconds: off for
    it (SET LOCAL lasts one transaction). SQLite has none, and no transaction is needed there."""
    if not is_postgres():
        yield
        return
    with db.atomic():
        db.execute_sql("SET LOCAL jit = off")
        yield


def _nearest_rank(ordered: list[int], percent: int) -> int | None:
    """The value at rank ⌈p·n⌉ of the sorted values (integers only: no rounding at an exact share)."""
    return int(ordered[-(-percent * len(ordered) // 100) - 1]) if ordered else None


def _spread(durations: Iterable[int | None]) -> Spread:
    ordered = sorted([value for value in durations if value is not None])
    return Spread(len(ordered), _nearest_rank(ordered, 50), _nearest_rank(ordered, 90))


# the columns of _per_incident's rows
SEVERITY, WEEK, IS_OPEN, IS_PRIVATE, ACK_MS, RESOLVE_MS = range(6)
Row = tuple[Any, ...]  # severity, week, 1 if open, 1 if private, ack ms or None, resolve ms or None


def _counts(rows: list[Row]) -> Counts:
    if not rows:
        return Counts()
    columns = list(zip(*rows))
    still_open = sum(columns[IS_OPEN])
    return Counts(len(rows), len(rows) - still_open, still_open, _spread(columns[ACK_MS]), _spread(columns[RESOLVE_MS]))


def _grouped(rows: list[Row], column: int) -> dict[int, list[Row]]:
    groups: dict[int, list[Row]] = {}
    for row in rows:
        groups.setdefault(int(row[column]), []).append(row)
    return groups


def metrics(scope: Scope, visible: peewee.Expression, zone: tzinfo, now: int | None = None) -> Metrics:
    """The numbers over the incidents in `scope` that satisfy `visible` (see `backstage.visible_to`)."""
    origin = week_origin(scope.since_ms, zone)
    with _without_jit():
        # the driver's rows as they are: peewee's conversion of each value was half the time at 100 000
        rows: list[Row] = db.execute_sql(*_per_incident(scope, visible, origin).sql()).fetchall()
    by_severity = {level: _counts(group) for level, group in sorted(_grouped(rows, SEVERITY).items())}
    by_week = _grouped(rows, WEEK)
    end = scope.until_ms if scope.until_ms is not None else (now_ms() if now is None else now)
    weeks = []
    for number in range(max(0, (end - 1 - origin) // WEEK_MS) + 1):
        in_week = by_week.get(number, [])
        weeks.append(Week(origin + number * WEEK_MS, dict(Counter(int(row[SEVERITY]) for row in in_week)),
                          _spread(row[RESOLVE_MS] for row in in_week)))
    return Metrics(scope, _counts(rows), by_severity, weeks, sum(row[IS_PRIVATE] for row in rows))


# ---- open incidents (the digest lists them) -------------------------------------------------------
@dataclass(frozen=True)
class OpenIncident:
    name: str
    channel_name: str
    severity: int
    created_at: int
    commander_id: str


def open_incidents(team_id: str, visible: peewee.Expression, limit: int = 20) -> tuple[list[OpenIncident], int]:
    """The most severe, then oldest, open incidents (at most `limit`), and how many are open in all."""
    query = Incident.select().where((Incident.team_id == team_id) & (Incident.is_active == True) & visible)  # noqa: E712
    rows = query.order_by(Incident.severity, Incident.created_at, Incident.id).limit(limit)
    shown = [OpenIncident(i.name, i.channel_name, i.severity, i.created_at, i.commander_id) for i in rows]
    return shown, query.count()


PUBLIC_ONLY: peewee.Expression = Incident.is_private == False  # noqa: E712  (what a channel's readers may see)


# ---- the team's settings ------------------------------------------------------------------------
def team_settings(team_id: str) -> TeamInsights:
    """The team's row, or the defaults (UTC, no digest) unsaved."""
    return TeamInsights.get_or_none(TeamInsights.team_id == team_id) or TeamInsights(team_id=team_id)


def zone_of(team_id: str) -> ZoneInfo:
    name = team_settings(team_id).timezone or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # removed from the tz database since: UTC, not a failure
        return ZoneInfo("UTC")


def parse_zone(text: str) -> str:
    name = text.strip()
    if name.upper() == "UTC":
        return "UTC"
    try:
        if len(name) > ZONE_MAX or "/" not in name or name.startswith("/"):
            raise ValueError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"{name[:ZONE_MAX]!r} is not a timezone I know: use a name like Europe/Berlin, "
                      "America/New_York or UTC.") from None
    return name


def require_settings_admin(actor: Actor, team_id: str) -> None:
    if not permissions.can_change_team_settings(actor, team_id):
        raise Forbidden("Only team and system admins can change the team's timezone and digest.")


def _save(actor: Actor, team_id: str, **fields: Any) -> TeamInsights:
    with db.atomic():
        (TeamInsights.insert(team_id=team_id, set_by=actor.user_id, **fields)
         .on_conflict(conflict_target=[TeamInsights.team_id],
                      update={**{getattr(TeamInsights, k): v for k, v in fields.items()}, TeamInsights.set_by: actor.user_id})
         .execute())
    return team_settings(team_id)


def set_zone(actor: Actor, team_id: str, text: str) -> str:
    require_settings_admin(actor, team_id)
    name = parse_zone(text)
    _save(actor, team_id, timezone=name)
    return name


def set_digest(actor: Actor, team_id: str, channel_id: str | None, at: int) -> None:
    """The digest's channel (None: off); digests due before `at` are never sent."""
    require_settings_admin(actor, team_id)
    _save(actor, team_id, digest_channel_id=channel_id, digest_set_at=at if channel_id else None)


def digest_teams() -> list[TeamInsights]:
    return list(TeamInsights.select().where(TeamInsights.digest_channel_id.is_null(False)))


# ---- when digests are due, and the claim that posts each once -------------------------------------
DIGEST_WEEKDAY = 0  # Monday
DIGEST_HOUR = 9
SCALED_ANCHOR_MS = 1_704_099_600_000  # 2024-01-01 09:00 UTC, a Monday: where shortened weeks count from


@dataclass(frozen=True)
class DigestWindow:
    due_at: int  # when it is posted
    since_ms: int  # the week it reports on: [since, until)
    until_ms: int
    next_due_at: int


def scaled_digest_period_ms(time_scale: float) -> int | None:
    """How long a digest "week" lasts when `time_scale` shortens it (demos, tests); None for real weeks."""
    return max(1000, int(WEEK_MS * time_scale)) if time_scale < 1 else None


def digest_window(now: int, zone: tzinfo, time_scale: float = 1.0) -> DigestWindow:
    """The latest digest due at or before `now`: Monday 09:00 team time, reporting on the week
    (Monday 00:00 to Monday 00:00) before it. With `time_scale` < 1 (demos, tests) a "week" lasts
    7 days × time_scale, counted from a fixed Monday 09:00, and reports on the period before it."""
    period = scaled_digest_period_ms(time_scale)
    if period is not None:
        due = SCALED_ANCHOR_MS + (now - SCALED_ANCHOR_MS) // period * period
        return DigestWindow(due, due - period, due, due + period)
    local = datetime.fromtimestamp(now / 1000, tz=timezone.utc).astimezone(zone)
    monday = local.date() - timedelta(days=(local.weekday() - DIGEST_WEEKDAY) % 7)
    if datetime.combine(monday, time(DIGEST_HOUR), zone) > local:
        monday -= timedelta(days=7)

    def at(day: date, hour: int = 0) -> int:
        return int(datetime.combine(day, time(hour), zone).timestamp() * 1000)

    return DigestWindow(at(monday, DIGEST_HOUR), at(monday - timedelta(days=7)), at(monday),
                        at(monday + timedelta(days=7), DIGEST_HOUR))


def claim_digest(team_id: str, due_at: int, channel_id: str) -> bool:
    """True for the one caller, across replicas and restarts, that posts this digest."""
    try:
        with db.atomic():
            DigestPost.create(team_id=team_id, due_at=due_at, channel_id=channel_id, claimed_at=now_ms())
    except peewee.IntegrityError:
        return False
    return True


def digest_posted(team_id: str, due_at: int, post_id: str) -> None:
    DigestPost.update(post_id=post_id).where((DigestPost.team_id == team_id) & (DigestPost.due_at == due_at)).execute()


def digest_failed(team_id: str, due_at: int, problem: str, *, retry: bool) -> None:
    """Mattermost refused the post: `retry` gives the claim back (the next sweep tries again),
    otherwise the reason is kept and that week's digest is not sent."""
    where = (DigestPost.team_id == team_id) & (DigestPost.due_at == due_at)
    if retry:
        DigestPost.delete().where(where).execute()
    else:
        DigestPost.update(problem=problem[:500]).where(where).execute()


def digests_of(team_id: str) -> list[DigestPost]:
    """The team's digests, claimed or posted, newest first."""
    return list(DigestPost.select().where(DigestPost.team_id == team_id).order_by(DigestPost.due_at.desc()))

