"""How long `/incident metrics` takes the database, at 100 000 incidents.

    .venv/bin/python bench/metrics_bench.py [--incidents 100000] [--runs 30] [--database-url postgresql://...]

Seeds one team with `--incidents` incidents over two years (a quarter private, severities 1-4,
most with a status update or a tick, 1 % restarted once, 3 % still open), with the
tables and indexes the migrations make, then times `services.insights.metrics` (the one SQL
query behind the answer, the digest and the chart) as three readers:

- a member, the last 30 days (the default window), seeing public incidents and 200 private ones;
- an admin, the last 30 days;
- an admin, the whole two years (every incident, 105 weeks).

It prints p50 and p99 in milliseconds for each (aim, issue 14: under 50 ms for the default window).
SQLite in a temporary file by default; BENCH_DATABASE_URL (or --database-url) runs on that
PostgreSQL database, whose schema `public` is dropped and made again first.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models import Incident, StatusUpdate, TimelineEvent, connect, db  # noqa: E402
from models.clock import now_ms  # noqa: E402
from models.migrations import backfill_incident_figures, migrate  # noqa: E402
from services import backstage, insights  # noqa: E402
from services.actor import Actor  # noqa: E402

TEAM = "benchteam"
DAY = 86_400_000
MINUTE = 60_000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _reset_postgres(url: str) -> None:
    database = connect(url, "")
    database.execute_sql("DROP SCHEMA IF EXISTS public CASCADE")
    database.execute_sql("CREATE SCHEMA public")


def seed(count: int, now: int) -> list[str]:
    """The incidents and their first updates, ticks, ends and restarts; the private channels' ids."""
    rng = random.Random(12)
    incidents, updates, events, private = [], [], [], []
    span = 730 * DAY
    for number in range(count):
        created = now - span + int(span * number / count)
        is_private = rng.random() < 0.25
        is_open = rng.random() < 0.03
        restarted = not is_open and rng.random() < 0.01
        resolve = rng.randint(10, 3000) * MINUTE
        channel = f"chan{number:07d}"
        if is_private:
            private.append(channel)
        incidents.append({"id": number + 1, "team_id": TEAM, "name": f"Incident {number}", "name_key": f"incident {number}",
                          "search_key": f"incident {number}", "channel_id": channel, "channel_name": channel,
                          "commander_id": "u1", "creator_id": "u1", "is_private": is_private, "is_active": is_open,
                          "created_at": created, "ended_at": None if is_open else created + resolve,
                          "severity": rng.choice((1, 2, 3, 3, 4)), "version": 1})
        ack = created + rng.randint(1, 120) * MINUTE
        if rng.random() < 0.8:
            updates.append({"incident": number + 1, "author_id": "u1", "message": "update", "severity": 3, "posted_at": ack})
        elif rng.random() < 0.5:
            events.append({"incident": number + 1, "at": ack, "kind": "item_checked", "data": "{}"})
        events.append({"incident": number + 1, "at": created, "kind": "incident_created", "data": "{}"})
        if not is_open:
            if restarted:
                events.append({"incident": number + 1, "at": created + resolve // 3, "kind": "incident_ended", "data": "{}"})
                events.append({"incident": number + 1, "at": created + resolve // 2, "kind": "incident_restarted", "data": "{}"})
            events.append({"incident": number + 1, "at": created + resolve, "kind": "incident_ended", "data": "{}"})
    with db.atomic():
        for table, rows in ((Incident, incidents), (StatusUpdate, updates), (TimelineEvent, events)):
            for start in range(0, len(rows), 2000):
                table.insert_many(rows[start:start + 2000]).execute()
        backfill_incident_figures(db.obj)  # what the services would have stored on each incident as it happened
    if db.obj.__class__.__name__.lower().find("postgres") >= 0:
        db.obj.execute_sql("SELECT setval('incident_id_seq', (SELECT MAX(id) FROM incident))")
        db.obj.execute_sql("ANALYZE")
    else:
        db.obj.execute_sql("ANALYZE")
    return private


def timed(runs: int, call) -> tuple[float, float]:
    call()  # warm the caches once, as a running bot has them
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    return percentile(samples, 0.5), percentile(samples, 0.99)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="metrics-bench-")
    if args.database_url:
        _reset_postgres(args.database_url)
    connect(args.database_url or None, str(Path(folder) / "bench.sqlite3"))
    migrate()
    now = now_ms()
    began = time.perf_counter()
    private = seed(args.incidents, now)
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"seeded {args.incidents} incidents on {backend} in {time.perf_counter() - began:.1f} s")

    utc = ZoneInfo("UTC")
    member = Actor(user_id="u2", username="member", team_id=TEAM)
    admin = Actor(user_id="u3", username="admin", team_id=TEAM, is_team_admin=True)
    member_of = frozenset(private[-200:])
    last_30 = insights.Scope(TEAM, now - 30 * DAY)
    everything = insights.Scope(TEAM, now - 731 * DAY)
    cases = [
        ("member, last 30 days", last_30, backstage.visible_to(member, TEAM, member_of)),
        ("admin, last 30 days", last_30, backstage.visible_to(admin, TEAM)),
        ("admin, two years", everything, backstage.visible_to(admin, TEAM)),
    ]
    for label, scope, visible in cases:
        result = insights.metrics(scope, visible, utc, now=now)
        p50, p99 = timed(args.runs, lambda: insights.metrics(scope, visible, utc, now=now))
        print(f"{label:<24} {result.total.started:>6} incidents  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
