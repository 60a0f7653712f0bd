"""Does the bot stay fast with many incidents? 100 000 of them, 1 000 still active.

    .venv/bin/python bench/scale_bench.py [--incidents 100000] [--active 1000] [--events 3] [--runs 20]
                                          [--database-url postgresql://...]

Seeds the bot's database directly (incidents over two years, a quarter private; the active ones
with a ten-item checklist and a channel in the Mattermost test double; `--events` timeline
events per incident), then starts the bot on it and times, end to end as a person sees them
(client -> double -> bot -> double -> client): `/incident list`, `/incident backstage` with each
filter (for a member, who sees the public incidents and the private ones of their channels, and
for an admin), `/incident info <name>` and `/incident stats` in an incident channel. Prints p50
and p99 of each, and the bot's start-up time on that database (process start to ready).
SQLite by default; BENCH_DATABASE_URL (or --database-url) runs on that PostgreSQL database,
whose schema `public` is dropped and made again first. Absolute times are noisy on a shared
machine.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mmdouble.remote import RemoteDouble  # noqa: E402
from mmdouble.seeding import add_person  # noqa: E402
from mmdouble.testing import SimUser  # noqa: E402
from models import Checklist, ChecklistItem, Incident, TimelineEvent, connect, db  # noqa: E402
from models.clock import now_ms  # noqa: E402
from models.migrations import migrate  # noqa: E402
from tests.e2e.harness import BotProcess, build_world, free_port  # noqa: E402

DAY = 86_400_000
MINUTE = 60_000
BATCH = 2000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def insert(model, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        model.insert_many(rows[start:start + BATCH]).execute()


def seed(team_id: str, commander_id: str, channels: dict[int, dict], count: int, events: int) -> None:
    """`channels`: incident number -> its channel in the double (the active ones); the others get made-up ids."""
    rng = random.Random(14)
    now = now_ms()
    span = 730 * DAY
    incidents, timeline, checklists, items = [], [], [], []
    for number in range(count):
        created = now - span + int(span * number / count)
        channel = channels.get(number)
        active = channel is not None
        ended = None if active else created + rng.randint(10, 3000) * MINUTE
        channel_id = channel["id"] if channel else f"gone{number:022d}"
        channel_name = channel["name"] if channel else f"incident-{number}"
        incidents.append({"id": number + 1, "team_id": team_id, "name": f"Incident {number}", "name_key": f"incident {number}",
                          "search_key": f"incident {number}", "channel_id": channel_id, "channel_name": channel_name,
                          "commander_id": commander_id, "creator_id": commander_id,
                          "is_private": not active and rng.random() < 0.25, "is_active": active,
                          "created_at": created, "ended_at": ended, "severity": rng.choice((1, 2, 3, 3, 4)), "version": 1})
        timeline.append({"incident": number + 1, "at": created, "kind": "incident_created", "data": "{}"})
        for extra in range(max(0, events - 2)):
            timeline.append({"incident": number + 1, "at": created + (extra + 1) * MINUTE, "kind": "item_checked", "data": "{}"})
        if ended:
            timeline.append({"incident": number + 1, "at": ended, "kind": "incident_ended", "data": "{}"})
        if active:
            checklists.append({"id": len(checklists) + 1, "incident": number + 1, "position": 0, "title": "Checklist"})
            items.extend({"checklist": len(checklists), "position": p, "title": f"step {p + 1}"} for p in range(10))
    with db.atomic():
        insert(Incident, incidents)
        insert(TimelineEvent, timeline)
        insert(Checklist, checklists)
        insert(ChecklistItem, items)
    if "postgres" in type(db.obj).__name__.lower():
        for table in ("incident", "timeline_event", "checklist", "checklist_item"):
            db.execute_sql(f"SELECT setval('{table}_id_seq', (SELECT MAX(id) FROM {table}))")
    db.execute_sql("ANALYZE")


def timed(runs: int, call) -> tuple[float, float]:
    call()  # once to warm the bot's caches, as a running bot has them
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append(1000 * (time.perf_counter() - started))
    return percentile(samples, 0.5), percentile(samples, 0.99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--active", type=int, default=1_000)
    parser.add_argument("--events", type=int, default=3, help="timeline events per incident (at least its start and end)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--show", action="store_true", help="print the start of each answer")
    args = parser.parse_args()
    double = RemoteDouble.spawn(free_port())
    world = build_world(double)
    team_id, town = world.team["id"], world.town_square["id"]
    member, member_token = add_person(double, team_id, "member", channels=(town,))
    admin_token = world.tokens["admin"]
    # the active incidents' channels, spread over the two years; the member is in every tenth
    spread = max(1, args.incidents // max(1, args.active))
    channels = {}
    for index in range(args.active):
        number = args.incidents - 1 - index * spread
        channel = double.create_channel(team_id, f"incident-{number}", f"Incident {number}", type="O")
        double.add_channel_member(channel["id"], world.bot_user["id"])
        double.add_channel_member(channel["id"], world.users["admin"]["id"])
        if index % 10 == 0:
            double.add_channel_member(channel["id"], member["id"])
        channels[number] = channel
    workdir = Path(tempfile.mkdtemp(prefix="scale-bench-"))
    if args.database_url:
        from incident_bench import reset_postgres

        reset_postgres(args.database_url)
    connect(args.database_url, str(workdir / "bot.sqlite3"))
    migrate()
    began = time.perf_counter()
    seed(team_id, world.users["admin"]["id"], channels, args.incidents, args.events)
    db.close()
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"seeded {args.incidents} incidents ({args.active} active, {args.events} timeline events each) on {backend} "
          f"in {time.perf_counter() - began:.1f} s")
    started = time.perf_counter()
    bot = BotProcess(world, workdir, database_url=args.database_url, extra_env={"BOT_LOG_LEVEL": "INFO"}).start().wait_ready(120)
    print(f"bot start-up on that database: {time.perf_counter() - started:.2f} s (process start to ready)")
    people = {"member": SimUser(double.url, member_token, connect_websocket=False),
              "admin": SimUser(double.url, admin_token, connect_websocket=False)}
    busy = next(iter(channels.values()))  # the member is in it (index 0)
    cases = [("list", town, "/incident list"),
             ("list --page 3", town, "/incident list --page 3"),
             ("backstage", town, "/incident backstage"),
             ("backstage --status ongoing", town, "/incident backstage --status ongoing"),
             ("backstage --status ended", town, "/incident backstage --status ended"),
             ("backstage --severity 1", town, "/incident backstage --severity 1"),
             ("backstage --commander @admin", town, "/incident backstage --commander @admin"),
             ("backstage --search 4242", town, "/incident backstage --search 4242"),
             ("backstage --sort name --page 40", town, "/incident backstage --sort name --page 40"),
             ("backstage --sort end", town, "/incident backstage --sort end"),
             ("info <name>", town, f"/incident info Incident {args.incidents - 1}"),
             ("stats", busy["id"], "/incident stats")]
    try:
        print(f"p50 / p99 of {args.runs} runs each, end to end (ms):")
        for who, person in people.items():
            for label, channel_id, command in cases:
                answer = person.run_command(channel_id, command).get("text") or ""
                p50, p99 = timed(args.runs, lambda: person.run_command(channel_id, command))
                shown = " ".join(answer.split())[:60] if args.show else ""
                print(f"  {who:<6} {label:<34} {p50:8.1f} {p99:8.1f}  {shown}")
    finally:
        for person in people.values():
            person.close()
        bot.stop()
        double.stop()


if __name__ == "__main__":
    main()
