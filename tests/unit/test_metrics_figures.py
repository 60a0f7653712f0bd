"""The metrics read figures the services store on the incident as things happen (first update, first
tick, time paused between runs). A history made through the services, at known times, must give the
numbers the timeline and the updates themselves give, for every reader and window; so must older
incidents once migration 11 has filled their figures in."""

from __future__ import annotations

import random
from zoneinfo import ZoneInfo

import pytest
from playhouse.migrate import SchemaMigrator

import models.clock
from models import Incident, StatusUpdate, TimelineEvent
from models.migrations import MIGRATIONS
from services import backstage, checklists, incidents, insights, updates
from tests.unit.conftest import TEAM, person

MIN = 60_000
HOUR = 60 * MIN
DAY = 24 * HOUR
MONDAY = 1_709_510_400_000  # 2024-03-04 00:00 UTC, a Monday
NOW = MONDAY + 21 * DAY
UTC = ZoneInfo("UTC")

root = person("root", team_admin=True)  # does everything, so any incident can be changed


class Clock:
    """What models.clock reads in place of the time module: the services' now_ms() is `ms`."""

    def __init__(self) -> None:
        self.ms = MONDAY

    def time_ns(self) -> int:
        return self.ms * 1_000_000


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(models.clock, "time", fake)
    return fake


# ---- a history, as people make it ---------------------------------------------------------------------
def live_incident(clock: Clock, number: int, at: int, *, private: bool, severity: int) -> Incident:
    clock.ms = at
    incident = incidents.start_incident(root, TEAM, f"History {number}", f"chan-h{number}", is_private=private)
    checklists.add_item(root, incident, "Look at the dashboards")
    Incident.update(severity=severity).where(Incident.id == incident.id).execute()
    return incidents.reload(incident)


def act(clock: Clock, incident: Incident, step: str, at: int) -> None:
    clock.ms = at
    if step == "update":
        updates.record_update(root, incident, "still looking", now=at, due_at=None)
    elif step in ("tick", "untick"):
        [(_, [item])] = checklists.checklists_of(incident)
        checklists.set_item_state(root, incident, item.id, step == "tick")
    elif step == "end":
        incidents.end_incident(root, incident)
    else:
        incidents.restart_incident(root, incident)


def possible_steps(incident: Incident) -> list[str]:
    current = incidents.reload(incident)
    if not current.is_active:
        return ["restart"]
    [(_, [item])] = checklists.checklists_of(current)
    return ["update", "untick" if item.is_checked else "tick", "end", "end"]


def make_history(clock: Clock, count: int = 45, seed: int = 5) -> list[Incident]:
    """Incidents over three weeks: some never acknowledged, some by a tick (even unticked later), some
    by updates after a tick, ended, restarted once or twice, still open; a third private."""
    rng = random.Random(seed)
    made = []
    for number in range(count):
        created = MONDAY + HOUR + number * 11 * HOUR + rng.randint(0, 50) * MIN
        incident = live_incident(clock, number, created, private=number % 3 == 0, severity=rng.choice((1, 2, 3, 3, 4)))
        at = created
        for _ in range(rng.randint(0, 7)):
            at += rng.randint(1, 180) * MIN
            act(clock, incident, rng.choice(possible_steps(incident)), at)
        made.append(incident)
    return made


# ---- the numbers worked out from the timeline and the updates, as the metrics did before -------------
def acknowledged_after(incident: Incident) -> int | None:
    posted = [u.posted_at for u in StatusUpdate.select().where(StatusUpdate.incident == incident.id)]
    ticked = [e.at for e in TimelineEvent.select().where((TimelineEvent.incident == incident.id)
                                                         & (TimelineEvent.kind == "item_checked"))]
    first = min(posted) if posted else min(ticked) if ticked else None
    return None if first is None else first - incident.created_at


def open_for(incident: Incident) -> int | None:
    """Ended incidents only: the time open over all runs, Σ ends − Σ restarts − start when restarted."""
    if incident.is_active:
        return None
    events = list(TimelineEvent.select().where((TimelineEvent.incident == incident.id)
                                               & TimelineEvent.kind.in_(["incident_ended", "incident_restarted"])))
    if not any(e.kind == "incident_restarted" for e in events):
        return incident.ended_at - incident.created_at
    return sum(e.at if e.kind == "incident_ended" else -e.at for e in events) - incident.created_at


def spread(values: list[int | None]) -> insights.Spread:
    """Nearest rank: the value at rank ⌈p·n⌉."""
    known = sorted(v for v in values if v is not None)
    if not known:
        return insights.Spread()
    return insights.Spread(len(known), known[(50 * len(known) + 99) // 100 - 1], known[(90 * len(known) + 99) // 100 - 1])


def expected(scope: insights.Scope, seen: list[Incident]) -> dict:
    rows = [i for i in (incidents.reload(i) for i in seen)
            if i.created_at >= scope.since_ms and (scope.until_ms is None or i.created_at < scope.until_ms)
            and scope.severity in (None, i.severity)]
    origin = insights.week_origin(scope.since_ms, UTC)

    def counts(group: list[Incident]) -> tuple:
        still_open = sum(1 for i in group if i.is_active)
        return (len(group), len(group) - still_open, still_open, spread([acknowledged_after(i) for i in group]),
                spread([open_for(i) for i in group]))

    weeks: dict[int, list[Incident]] = {}
    for row in rows:
        weeks.setdefault((row.created_at - origin) // insights.WEEK_MS, []).append(row)
    return {"total": counts(rows), "private": sum(1 for i in rows if i.is_private),
            "severity": {s: counts([i for i in rows if i.severity == s]) for s in sorted({i.severity for i in rows})},
            "weeks": {n: spread([open_for(i) for i in group]) for n, group in weeks.items()}}


def measured(scope: insights.Scope, actor, member_of=frozenset()) -> dict:
    result = insights.metrics(scope, backstage.visible_to(actor, TEAM, member_of), UTC, now=NOW)

    def counts(c: insights.Counts) -> tuple:
        return (c.started, c.ended, c.open, c.mtta, c.mttr)

    origin = insights.week_origin(scope.since_ms, UTC)
    return {"total": counts(result.total), "private": result.private_seen,
            "severity": {s: counts(c) for s, c in result.by_severity.items()},
            "weeks": {(w.start_ms - origin) // insights.WEEK_MS: w.mttr for w in result.weeks if w.started}}


SCOPES = [insights.Scope(TEAM, MONDAY - DAY), insights.Scope(TEAM, MONDAY + 5 * DAY, MONDAY + 12 * DAY),
          insights.Scope(TEAM, MONDAY - DAY, severity=3)]


def readers(history: list[Incident]) -> list[tuple]:
    """An admin (every incident), and a member of two private channels (the public ones and those)."""
    private = [i for i in history if i.is_private]
    member_of = frozenset(i.channel_id for i in private[:2])
    alice = person("alice", channels=member_of)
    return [(root, frozenset(), history), (alice, member_of, [i for i in history if not i.is_private or i.channel_id in member_of])]


def assert_same_numbers_as_the_timeline(history: list[Incident]) -> None:
    for actor, member_of, seen in readers(history):
        for scope in SCOPES:
            assert measured(scope, actor, member_of) == expected(scope, seen), (actor.user_id, scope)


# ---- the stories ----------------------------------------------------------------------------------------
def test_a_history_made_through_the_services_gives_the_numbers_its_timeline_gives(db, clock):
    history = make_history(clock)
    stored = [incidents.reload(i) for i in history]
    # the history has every case the figures must get right
    assert any(i.paused_ms for i in stored if not i.is_active) and any(i.paused_ms for i in stored if i.is_active)
    assert any(i.first_update_at and i.first_tick_at and i.first_tick_at < i.first_update_at for i in stored)
    assert any(i.first_tick_at and not i.first_update_at for i in stored)
    assert any(not i.first_tick_at and not i.first_update_at and not i.is_active for i in stored)
    assert_same_numbers_as_the_timeline(history)


def test_a_restarted_incident_counts_once_with_the_time_it_was_open(db, clock):
    start = MONDAY + HOUR
    flapping = live_incident(clock, 1, start, private=False, severity=2)
    act(clock, flapping, "end", start + HOUR)  # open 1h
    act(clock, flapping, "restart", start + 6 * HOUR)  # ended for 5h
    act(clock, flapping, "end", start + 8 * HOUR)  # open 2h more
    assert incidents.restarts(flapping) == 1
    result = measured(SCOPES[0], root)
    assert result["total"][:3] == (1, 1, 0)
    assert result["total"][4] == insights.Spread(1, 3 * HOUR, 3 * HOUR)  # not the 8h from start to end


def test_incidents_recorded_before_the_figures_were_stored_get_them_from_migration_11(db, clock):
    history = make_history(clock, count=30, seed=8)
    # as they were before migration 11: no figures on the incident
    Incident.update(first_update_at=None, first_tick_at=None, paused_ms=0).execute()
    with pytest.raises(AssertionError):
        assert_same_numbers_as_the_timeline(history)
    [eleven] = [m for m in MIGRATIONS if m.version == 11]
    eleven.apply(SchemaMigrator.from_database(Incident._meta.database.obj))
    assert_same_numbers_as_the_timeline(history)
