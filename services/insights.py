"""How a team is doing: incidents started, ended and open, MTTA and MTTR, by severity and by week;
the team's timezone and weekly digest settings.

Everything is computed by the database in one query that returns aggregates only (at most four
rows per week), so the cost stays flat in Python however many incidents a team has:

- the incidents in scope: the team's, started in [since, until), that the reader may see
  (`services.backstage.visible_to`, the same rule as backstage), optionally of one playbook or
  severity;
- MTTA of an incident: start → its first status update, or its first checklist tick when it had
  no update; incidents with neither have none yet;
- MTTR: its total open time, for ended incidents only. A restarted incident is one row, counted
  once, and its open time is the sum of its runs: Σ ends − Σ restarts − start, read from the
  timeline (`incident_ended` / `incident_restarted` events) only for incidents that were restarted;
- median and p90 are nearest-rank percentiles (the value at rank ⌈p·n⌉, so always an observed
  value): CUME_DIST windows give each value its share of the overall / severity / week set, the
  outer GROUP BY (week, severity) keeps each group's smallest value reaching the share, and the
  smallest of those few aggregate rows is the answer (`_spread`).

Weeks start on Monday 00:00 in the team's timezone (its offset at the window's start: a DST change
inside the window moves later week boundaries by an hour).
"""
from __future__ import annotations

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


def _cumulative(expression: Any, partition: list[Any]) -> Any:
    """The share of the partition's values that are at most this row's (CUME_DIST); NULLs are a
    partition of their own, so they never count."""
    return fn.CUME_DIST().over(partition_by=[*partition, expression.is_null()], order_by=[expression])


def _at_share(value: Any, share: Any, percent: int) -> Any:
    """The smallest value whose cumulative share reaches percent/100: the nearest-rank percentile
    (rank ⌈p·n⌉) within the group. k/n and the literal are both correctly rounded doubles, so an
    exact share compares equal."""
    return fn.MIN(Case(None, [((share >= percent / 100) & value.is_null(False), value)], None))


def _per_incident(scope: Scope, visible: peewee.Expression, origin: int) -> peewee.ModelSelect[Incident]:
    """One row per incident in scope: severity, week, open?, private?, ack and resolve times (ms), all
    from the incident row itself (the figures the services store as things happen: services/figures.py)."""
    open_time = Incident.ended_at - Incident.created_at - Incident.paused_ms
    query = (Incident.select(
        Incident.severity.alias("severity"),
        ((Incident.created_at - origin) / WEEK_MS).alias("week"),
        Case(None, [(Incident.is_active == True, 1)], 0).alias("is_open"),  # noqa: E712
        Case(None, [(Incident.is_private == True, 1)], 0).alias("is_private"),  # noqa: E712
        (fn.COALESCE(Incident.first_update_at, Incident.first_tick_at) - Incident.created_at).alias("ack_ms"),
        Case(None, [(Incident.is_active == True, None)], open_time).alias("resolve_ms"),  # noqa: E712
    ).where((Incident.team_id == scope.team_id) & (Incident.created_at >= scope.since_ms) & visible))
    if scope.until_ms is not None:
        query = query.where(Incident.created_at < scope.until_ms)
    if scope.playbook_id is not None:
        query = query.where(Incident.playbook == scope.playbook_id)
    if scope.severity is not None:
        query = query.where(Incident.severity == scope.severity)
    return query


def _aggregate_query(scope: Scope, visible: peewee.Expression, origin: int) -> peewee.Select:
    # materialized: PostgreSQL would otherwise copy the per-incident subqueries into every window's sort
    base = _per_incident(scope, visible, origin).cte("base", materialized=True)
    severity, week, ack, resolve = base.c.severity, base.c.week, base.c.ack_ms, base.c.resolve_ms
    shares = {"ack_all": (ack, []), "ack_sev": (ack, [severity]), "resolve_all": (resolve, []),
              "resolve_sev": (resolve, [severity]), "resolve_week": (resolve, [week])}
    columns = [severity.alias("severity"), week.alias("week"), base.c.is_open.alias("is_open"),
               base.c.is_private.alias("is_private"), ack.alias("ack_ms"), resolve.alias("resolve_ms")]
    columns += [_cumulative(value, partition).alias(key) for key, (value, partition) in shares.items()]
    ranked = peewee.Select(from_list=[base], columns=columns).alias("ranked")
    r = ranked.c
    picks = [fn.COUNT(r.ack_ms).alias("ack_count"), fn.COUNT(r.resolve_ms).alias("resolve_count")]
    for key in shares:
        value = r.ack_ms if key.startswith("ack") else r.resolve_ms
        picks += [_at_share(value, getattr(r, key), 50).alias(f"{key}_p50"),
                  _at_share(value, getattr(r, key), 90).alias(f"{key}_p90")]
    return (peewee.Select(from_list=[ranked], columns=[
        r.week, r.severity, fn.COUNT(peewee.SQL("*")).alias("started"), fn.SUM(r.is_open).alias("open"),
        fn.SUM(r.is_private).alias("private"), *picks,
    ]).group_by(r.week, r.severity).with_cte(base).bind(db))


@contextmanager
def _without_jit() -> Iterator[None]:
    """PostgreSQL's JIT compiles a query this size for a second, to save it milliseconds: off for it
    (SET LOCAL lasts one transaction). SQLite has none, and no transaction is needed there."""
    if not is_postgres():
        yield
        return
    with db.atomic():
        db.execute_sql("SET LOCAL jit = off")
        yield


def _smallest(rows: Iterable[dict[str, Any]], key: str) -> int | None:
    """The percentile of the rows' union: the smallest of the groups' qualifying values."""
    found = [int(row[key]) for row in rows if row[key] is not None]
    return min(found) if found else None


def _spread(rows: list[dict[str, Any]], key: str) -> Spread:
    metric = key.split("_")[0]
    return Spread(sum(int(row[f"{metric}_count"]) for row in rows), _smallest(rows, f"{key}_p50"),
                  _smallest(rows, f"{key}_p90"))


def _counts(rows: list[dict[str, Any]], level: str) -> Counts:
    started = sum(int(row["started"]) for row in rows)
    still_open = sum(int(row["open"] or 0) for row in rows)
    return Counts(started, started - still_open, still_open, _spread(rows, f"ack_{level}"), _spread(rows, f"resolve_{level}"))


def metrics(scope: Scope, visible: peewee.Expression, zone: tzinfo, now: int | None = None) -> Metrics:
    """The numbers over the incidents in `scope` that satisfy `visible` (see `backstage.visible_to`)."""
    origin = week_origin(scope.since_ms, zone)
    with _without_jit():
        rows = list(_aggregate_query(scope, visible, origin).dicts())
    by_severity = {level: _counts([r for r in rows if r["severity"] == level], "sev")
                   for level in sorted({int(r["severity"]) for r in rows})}
    end = scope.until_ms if scope.until_ms is not None else (now_ms() if now is None else now)
    weeks = []
    for number in range(max(0, (end - 1 - origin) // WEEK_MS) + 1):
        in_week = [r for r in rows if int(r["week"]) == number]
        weeks.append(Week(origin + number * WEEK_MS, {int(r["severity"]): int(r["started"]) for r in in_week},
                          _spread(in_week, "resolve_week")))
    return Metrics(scope, _counts(rows, "all"), by_severity, weeks, sum(int(r["private"] or 0) for r in rows))


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

