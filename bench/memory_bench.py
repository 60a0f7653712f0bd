"""Does the bot keep memory it no longer needs? Resident memory while incidents come and go.

    .venv/bin/python bench/memory_bench.py [--incidents 10000] [--warm-up 200] [--people 2]
                                           [--database-url postgresql://...]

Starts the Mattermost double (its own process) and the bot, then has people start incidents
(`/incident start <name>` in Town Square) and end them (`/incident end` in the new channel), as
a person types them. After a warm-up (caches, the thread pools, SQLite's page cache fill up
once) it reads the bot's resident memory (VmRSS in /proc/<pid>/status); then it starts and ends
`--incidents` more, printing the memory every tenth of the way, and last the growth over the
warm-up figure (the aim of issue 14: within 10 %). `--people` people work at once, each on
incidents of their own. SQLite by default; BENCH_DATABASE_URL runs on that PostgreSQL database
(its schema `public` dropped and made again first).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from idle import resident_mib  # noqa: E402

from mmdouble.remote import RemoteDouble  # noqa: E402
from mmdouble.seeding import add_person  # noqa: E402
from mmdouble.testing import SimUser  # noqa: E402
from tests.e2e.harness import BotProcess, World, build_world, free_port  # noqa: E402


class Failed(Exception):
    """The bot did not answer as a person would expect: the figures would mean nothing."""


def start_and_end(double: RemoteDouble, world: World, person: SimUser, name: str) -> None:
    answer = person.run_command(world.town_square["id"], f"/incident start {name}")
    text = str(answer.get("text", ""))
    if "started in ~" not in text:
        raise Failed(f"/incident start {name} answered {text[:200]!r}")
    channel_name = text.split("started in ~", 1)[1].split()[0].rstrip(".")
    channel = double.channel_by_name(world.team["id"], channel_name)
    ended = str(person.run_command(channel["id"], "/incident end").get("text", ""))
    if "ended" not in ended:
        raise Failed(f"/incident end in ~{channel_name} answered {ended[:200]!r}")


def run(double: RemoteDouble, world: World, people: list[SimUser], first: int, count: int) -> None:
    """`count` incidents started and ended, numbered from `first`, shared out among the people."""
    failures: list[BaseException] = []

    def work(slot: int) -> None:
        try:
            for number in range(first + slot, first + count, len(people)):
                start_and_end(double, world, people[slot], f"Memory {number}")
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(len(people))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--warm-up", type=int, default=200)
    parser.add_argument("--people", type=int, default=2)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args()
    if args.database_url:
        from incident_bench import reset_postgres

        reset_postgres(args.database_url)
    double = RemoteDouble.spawn(free_port())
    world = build_world(double)
    people = []
    for index in range(args.people):
        name = f"starter{index}"
        world.users[name], world.tokens[name] = add_person(double, world.team["id"], name, channels=(world.town_square["id"],))
        people.append(SimUser(double.url, world.tokens[name], connect_websocket=False))
    workdir = Path(tempfile.mkdtemp(prefix="memory-bench-"))
    bot = BotProcess(world, workdir, database_url=args.database_url, extra_env={"BOT_LOG_LEVEL": "INFO"}).start().wait_ready(60)
    assert bot.process is not None
    pid = bot.process.pid
    backend = "PostgreSQL" if args.database_url else "SQLite"
    try:
        run(double, world, people, 0, args.warm_up)
        baseline = resident_mib(pid)
        print(f"memory bench on {backend}: after a warm-up of {args.warm_up} incidents started and ended, "
              f"the bot holds {baseline:.1f} MiB resident")
        step = max(1, args.incidents // 10)
        done, began = 0, time.perf_counter()
        while done < args.incidents:
            count = min(step, args.incidents - done)
            run(double, world, people, args.warm_up + done, count)
            done += count
            mib = resident_mib(pid)
            print(f"  {done:>6} more started and ended: {mib:6.1f} MiB ({mib / baseline:.3f}x the warm-up; "
                  f"{done / (time.perf_counter() - began):.0f} incidents a second)")
        final = resident_mib(pid)
        print(f"after {args.incidents} incidents: {final:.1f} MiB, {100 * (final / baseline - 1):+.1f} % over the warm-up (aim: within 10 %)")
    except Failed as exc:
        print(f"memory bench stopped: {exc}; log in {bot.log_path}")
        return 1
    finally:
        for person in people:
            person.close()
        code = bot.stop()
        double.stop()
        if code != 0 or "Traceback" in bot.log():
            print(f"the bot exited with {code}{' after a traceback' if 'Traceback' in bot.log() else ''}; log in {bot.log_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
