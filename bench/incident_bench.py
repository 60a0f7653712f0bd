"""How fast the bot answers people, measured against the Mattermost test double.

    .venv/bin/python bench/incident_bench.py [--users 20] [--seconds 10]

Starts the double in this process and the bot as its own process, then simulated users act
through the double exactly as Mattermost clients do. Prints, for 1 and N concurrent users:
p50/p99 of `/incident start` -> dialog open, inline start -> channel ready with its checklist,
checklist click -> message updated (as seen by the clicker's websocket); sustained ticks per
second on one shared checklist with a check that no update was lost; and the REST calls the bot
makes to Mattermost per action. Everything runs on one machine, so the numbers include the
double's and the simulated clients' own work.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mmdouble.remote import RemoteDouble  # noqa: E402
from mmdouble.testing import SimUser  # noqa: E402
from tests.e2e.harness import BotProcess, build_world, free_port  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def report(name: str, seconds: list[float], bot_log: str = "") -> None:
    ms = [s * 1000 for s in seconds]
    print(f"  {name:<44} n={len(ms):<4} p50={percentile(ms, .5):7.1f} ms  p99={percentile(ms, .99):7.1f} ms  "
          f"max={max(ms):7.1f} ms  {bot_side(bot_log)}")


ANSWERED = re.compile(r"(command|action|dialog):\S+ answered in ([\d.]+) ms")


def bot_side(log: str) -> str:
    """The bot's own handling time per callback, from its debug log."""
    ms = [float(m.group(2)) for m in ANSWERED.finditer(log)]
    if not ms:
        return ""
    return f"(bot's own handling: p50={percentile(ms, .5):.1f} ms p99={percentile(ms, .99):.1f} ms)"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds each process used during a phase: shows who the machine was busy with."""

    def __init__(self, **pids: int):
        self.pids = pids

    def __enter__(self):
        self.before = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        wall = time.perf_counter() - self.started
        used = ", ".join(f"{name} {cpu_seconds(pid) - self.before[name]:.1f} s" for name, pid in self.pids.items())
        print(f"    CPU used in {wall:.1f} s wall ({os.cpu_count()} cores): {used}")


def in_parallel(people: list, work) -> list[float]:
    results: list[float] = []
    lock = threading.Lock()

    def run(person):
        mine = work(person)
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=run, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


class Bench:
    def __init__(self, users: int):
        # the double gets its own process, like a real server: in this one it would share the
        # GIL with the simulated clients and the numbers would measure the harness
        self.double = RemoteDouble.spawn(free_port())
        self.world = build_world(self.double)
        for index in range(users):
            name = f"user{index:02d}"
            user = self.double.create_user(name)
            self.world.users[name] = user
            self.world.tokens[name] = self.double.create_token(user["id"])
            self.double.add_team_member(self.world.team["id"], user["id"])
            self.double.add_channel_member(self.world.town_square["id"], user["id"])
        self.workdir = Path(tempfile.mkdtemp(prefix="incident-bench-"))
        self.bot = BotProcess(self.world, self.workdir, extra_env={"BOT_LOG_LEVEL": "DEBUG"}).start().wait_ready()
        self.people = [SimUser(self.double.url, self.world.tokens[f"user{i:02d}"]) for i in range(users)]
        self.town = self.world.town_square["id"]
        self.counter = 0
        self.counter_lock = threading.Lock()

    def unique(self, prefix: str) -> str:
        with self.counter_lock:
            self.counter += 1
            return f"{prefix} {self.counter}"

    # ---- the actions -----------------------------------------------------------------------
    def dialog_open(self, person, times: int) -> list[float]:
        out = []
        for _ in range(times):
            started = time.perf_counter()
            person.run_command(self.town, "/incident start")
            person.wait_event("open_dialog")
            out.append(time.perf_counter() - started)
        return out

    def inline_start(self, person, times: int) -> list[float]:
        out = []
        for _ in range(times):
            started = time.perf_counter()
            answer = person.run_command(self.town, f"/incident start {self.unique('Bench incident')}")
            out.append(time.perf_counter() - started)
            assert "started in ~" in answer["text"], answer
        return out

    def prepare_checklist(self, person, items: int) -> tuple[str, dict]:
        answer = person.run_command(self.town, f"/incident start {self.unique('Tick bench')}")
        channel_name = answer["text"].split("started in ~", 1)[1].split()[0].rstrip(".")
        channel = self.double.channel_by_name(self.world.team["id"], channel_name)
        for index in range(items):
            person.run_command(channel["id"], f"/incident checkadd step {index + 1}")
        post = next(p for p in self.double.posts_in(channel["id"])
                    if p["user_id"] == self.world.bot_user["id"] and (p.get("props") or {}).get("attachments"))
        return channel["id"], post

    def ticks(self, person, items: int) -> list[float]:
        _, post = self.prepare_checklist(person, items)
        out = []
        for index in range(items):
            action = f"tick{self.double.get_post(post['id'])['props']['attachments'][0]['actions'][index]['id'][4:]}"
            done = f"({index + 1}/{items})"
            person.clear_events()
            started = time.perf_counter()
            status, _ = person.click(post["id"], action)
            person.wait_event("post_edited", lambda ev: ev["data"]["post"]["id"] == post["id"]
                              and done in str(ev["data"]["post"]["props"]))
            out.append(time.perf_counter() - started)
            assert status == 200
        return out

    def sustained(self, seconds: float, items: int) -> None:
        owner = self.people[0]
        channel_id, post = self.prepare_checklist(owner, items)
        for person in self.people[1:]:
            self.double.add_channel_member(channel_id, person.id)
        actions = [a["id"] for a in self.double.get_post(post["id"])["props"]["attachments"][0]["actions"]]
        clicks = [0] * len(actions)
        failures = []
        stop = time.monotonic() + seconds

        def work(slot: int, person) -> None:
            # each person owns the items slot, slot + n, slot + 2n, ...: no two people share an item
            mine = list(range(slot, len(actions), len(self.people)))
            turn = 0
            while time.monotonic() < stop:
                item = mine[turn % len(mine)]
                status, body = person.click(post["id"], actions[item])
                if status == 200:
                    clicks[item] += 1
                else:
                    failures.append((status, body))
                turn += 1

        threads = [threading.Thread(target=work, args=(slot, person)) for slot, person in enumerate(self.people)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        total = sum(clicks)
        expected_checked = sum(1 for count in clicks if count % 2 == 1)
        time.sleep(1.0)  # let the last re-render land
        final = self.double.get_post(post["id"])["props"]["attachments"][0]["title"]
        shown = int(final.rsplit("(", 1)[1].split("/")[0])
        print(f"  {len(self.people)} people ticking distinct items for {elapsed:.1f} s: {total} ticks, "
              f"{total / elapsed:.0f} ticks/s, {len(failures)} refused; expected {expected_checked} ticked, "
              f"message shows {shown} -> {'no update lost' if shown == expected_checked else 'LOST UPDATES'}")

    def quiet_calls(self) -> int:
        """The bot's REST call count once it has stopped making calls (timers, events)."""
        token = self.world.bot_token
        count = self.double.api_calls(token)
        while True:
            time.sleep(0.7)
            now = self.double.api_calls(token)
            if now == count:
                return count
            count = now

    def api_calls(self) -> None:
        person = self.people[0]

        def calls(action) -> int:
            action()  # once to warm the caches (users, roles, memberships)
            before = self.quiet_calls()
            action()
            return self.quiet_calls() - before

        def dialog():
            person.run_command(self.town, "/incident start")
            person.wait_event("open_dialog")

        def click():
            current = self.double.get_post(post["id"])
            person.click(post["id"], current["props"]["attachments"][0]["actions"][0]["id"])

        channel_id, post = self.prepare_checklist(person, 2)
        counted = {
            "dialog": calls(dialog),
            "start": calls(lambda: person.run_command(self.town, f"/incident start {self.unique('Counted')}")),
            "tick": calls(click),
        }
        before = self.quiet_calls()
        person.run_command(channel_id, "/incident end")
        counted["end"] = self.quiet_calls() - before
        print("REST calls the bot makes per action (warm caches):")
        print(f"  /incident start -> dialog open: {counted['dialog']} (minimum 1: open the dialog)")
        print(f"  inline start -> channel ready:  {counted['start']} (minimum 4: create channel, add the starter, intro post, checklist post)")
        print(f"  checklist click:                {counted['tick']} (minimum 0: the new message travels in the click's answer)")
        print(f"  /incident end:                  {counted['end']} (minimum 3: ended post, checklist refresh, archive)")

    def cpu_meter(self) -> CpuMeter:
        return CpuMeter(bot=self.bot.process.pid, double=self.double.pid, clients=os.getpid())

    def close(self) -> None:
        for person in self.people:
            person.close()
        code = self.bot.stop()
        self.double.stop()
        if code != 0:
            print(f"bot exited with {code}; log in {self.bot.log_path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    bench = Bench(args.users)
    try:
        bench.api_calls()
        for concurrency, rounds in ((1, 30), (args.users, 10)):
            people = bench.people[:concurrency]
            print(f"{concurrency} concurrent user(s), end to end (client -> double -> bot -> double -> client):")
            for name, work in (("/incident start -> dialog open", bench.dialog_open),
                               ("inline start -> channel ready with checklist", bench.inline_start),
                               ("checklist click -> message updated", bench.ticks)):
                mark = len(bench.bot.log())
                with bench.cpu_meter():
                    seconds = in_parallel(people, lambda p: work(p, rounds))
                report(name, seconds, bench.bot.log()[mark:] if work is not bench.ticks else "")
        print("sustained ticking:")
        mark = len(bench.bot.log())
        with bench.cpu_meter():
            bench.sustained(args.seconds, items=max(40, 2 * args.users))
        print(f"  {bot_side(bench.bot.log()[mark:])}")
    finally:
        bench.close()


if __name__ == "__main__":
    main()
