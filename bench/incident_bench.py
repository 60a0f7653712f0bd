"""How fast the bot answers people, beside an ideal integration on the same Mattermost test double.

    .venv/bin/python bench/incident_bench.py [--users 20] [--rounds 3] [--seconds 5] [--cpu-actions 300]
                                             [--profile DIR] [--database-url postgresql://...]

Starts the double (its own process, like a server), the bot (`python bot.py`) and the ideal
integration (bench/ideal.py: a dialog for a slash command, the toggled message from memory for a
click, nothing else) as processes of this one, then simulated users act through the double
exactly as Mattermost clients do. Bot and ideal take turns, round by round, so load from anything
else on the machine falls on both alike; every figure is printed as bot / ideal.

- latency, 1 and N users at once: `/incident start` -> dialog open, click -> message updated
  (as the clicker's websocket sees it);
- sustained clicks, N people on one checklist, each on items of their own: ticks per second, and
  clicks without effect (the person's item did not show the state they asked for within 10 s);
- the bot's CPU per action, from /proc/<pid>/stat (utime + stime, in clock ticks of 10 ms: use
  a few thousand actions, --cpu-actions, for figures to trust), which the machine's load
  disturbs far less than wall-clock latency;
- the REST calls the bot makes to Mattermost per action.

With --profile DIR, py-spy (the bench extra) samples the bot during the CPU phase and writes
DIR/bot-<phase>.txt (collapsed stacks of the thread holding the GIL, one line each:
`frame;frame;... count`: where Python spends CPU; waits and C code without the GIL are left out); it needs ptrace
rights over the bot (root has them). The profiled CPU figures include py-spy's own stops.
BENCH_DATABASE_URL (or --database-url) runs the bot on that PostgreSQL database; its schema
`public` is dropped and made again first.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import httpx
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mmdouble.remote import RemoteDouble  # noqa: E402
from mmdouble.seeding import add_person  # noqa: E402
from mmdouble.testing import SimUser  # noqa: E402
from tests.e2e.harness import BotProcess, build_world, free_port  # noqa: E402

HERE = Path(__file__).resolve().parent
EFFECT_WITHIN = 10.0  # seconds a person waits to see their click on the message


# ---- numbers ---------------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ratio(bot: float, ideal: float) -> str:
    return f"{bot / ideal:5.2f}x" if ideal > 0 else "  n/a"


def in_parallel(people: list, work: Callable) -> list:
    results: list = []
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


def shown_states(post: dict) -> dict[str, bool]:
    """action id -> is the item shown ticked, from the button labels people see (☑ / ☐)."""
    return {action["id"]: action["name"].startswith("☑")
            for attachment in (post.get("props") or {}).get("attachments") or []
            for action in attachment.get("actions") or [] if action["id"].startswith("tick")}


# ---- the two integrations under test -----------------------------------------------------------
class Target:
    """What the benchmark does the same way to the bot and to the ideal integration."""

    name: str
    slash: str
    pid: int

    def prepare_checklist(self, person: SimUser, items: int) -> tuple[str, str]:
        """A fresh checklist message of `items` items: (channel id, post id)."""
        raise NotImplementedError


class TreeBot(BotProcess):
    """`python bot.py` of a given checkout (another version of the bot, to compare with)."""

    def __init__(self, *args, root: Path, **kwargs):
        super().__init__(*args, **kwargs)
        self.root = root

    def start(self) -> "TreeBot":
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen([sys.executable, str(self.root / "bot.py")], cwd=self.root, env=self.env,
                                        stdout=self._log, stderr=subprocess.STDOUT)
        return self


class BotTarget(Target):
    name, slash = "bot", "/incident start"

    def __init__(self, bench: "Bench", database_url: str | None, root: Path):
        self.bench = bench
        self.process = TreeBot(bench.world, bench.workdir, database_url=database_url, root=root,
                               extra_env={"BOT_LOG_LEVEL": os.environ.get("BENCH_BOT_LOG_LEVEL", "INFO")}).start().wait_ready(60)
        self.pid = self.process.process.pid

    def prepare_checklist(self, person, items):
        answer = person.run_command(self.bench.town, f"/incident start {self.bench.unique('Tick bench')}")
        channel_name = answer["text"].split("started in ~", 1)[1].split()[0].rstrip(".")
        channel = self.bench.double.channel_by_name(self.bench.world.team["id"], channel_name)
        for index in range(items):
            person.run_command(channel["id"], f"/incident checkadd step {index + 1}")
        bot_id = self.bench.world.bot_user["id"]
        post = next(p for p in self.bench.double.posts_in(channel["id"])
                    if p["user_id"] == bot_id and (p.get("props") or {}).get("attachments"))
        # the last checkadd's re-render may still be on its way
        deadline = time.monotonic() + 10
        while len(shown_states(self.bench.double.get_post(post["id"]))) < items and time.monotonic() < deadline:
            time.sleep(0.05)
        return channel["id"], post["id"]

    def stop(self) -> None:
        code = self.process.stop()
        if code != 0:
            print(f"bot exited with {code}; log in {self.process.log_path}")


class IdealTarget(Target):
    name, slash = "ideal", "/ideal"

    def __init__(self, bench: "Bench"):
        self.bench = bench
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([sys.executable, str(HERE / "ideal.py"), "--mattermost", bench.double.url,
                                         "--port", str(self.port)])
        self.pid = self.process.pid
        for _ in range(200):
            try:
                httpx.get(self.url + "/toggles", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        world = bench.world
        self.user, token = add_person(bench.double, world.team["id"], "ideal", roles="system_user system_admin",
                                      is_bot=True, channels=(bench.town,))
        registered = httpx.post(bench.double.url + "/api/v4/commands", headers={"Authorization": f"Bearer {token}"},
                                json={"team_id": world.team["id"], "trigger": "ideal", "method": "P", "url": self.url + "/command"})
        registered.raise_for_status()

    def prepare_checklist(self, person, items):
        sys.path.insert(0, str(HERE))
        from ideal import message

        shaped = message([False] * items, self.url + "/action")
        post = self.bench.double.create_post(self.bench.town, self.user["id"], shaped["message"], props=shaped["props"])
        return self.bench.town, post["id"]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


# ---- the benchmark ------------------------------------------------------------------------------
@dataclass
class Sustained:
    seconds: float
    clicks: int = 0
    refused: int = 0
    late: int = 0          # showed the wanted state, but not in the click's own answer
    without_effect: int = 0
    final_wrong: int = 0   # items whose message, once quiet, is not what its person last asked for
    cpu: float = 0.0       # of the integration (the bot, or the ideal one)
    double_cpu: float = 0.0
    clients_cpu: float = 0.0  # this process: the simulated people

    @property
    def per_second(self) -> float:
        return self.clicks / self.seconds


@dataclass
class Figures:
    latency: dict[tuple[str, int, str], list[float]] = field(default_factory=dict)  # (action, users, target) -> s
    cpu: dict[tuple[str, int, str], tuple[float, int]] = field(default_factory=dict)  # -> (cpu s, actions)
    sustained: dict[str, list[Sustained]] = field(default_factory=dict)

    def add_latency(self, key, seconds: list[float], cpu: float) -> None:
        self.latency.setdefault(key, []).extend(seconds)
        used, count = self.cpu.get(key, (0.0, 0))
        self.cpu[key] = (used + cpu, count + len(seconds))


class Bench:
    def __init__(self, users: int, database_url: str | None, root: Path = HERE.parent, ideal: bool = True):
        # the double gets its own process, like a real server: in this one it would share the
        # GIL with the simulated clients and the numbers would measure the harness
        self.double = RemoteDouble.spawn(free_port())
        self.world = build_world(self.double)
        self.town = self.world.town_square["id"]
        for index in range(users):
            name = f"user{index:02d}"
            user, token = add_person(self.double, self.world.team["id"], name, channels=(self.town,))
            self.world.users[name], self.world.tokens[name] = user, token
        self.workdir = Path(tempfile.mkdtemp(prefix="incident-bench-"))
        self.counter = 0
        self.counter_lock = threading.Lock()
        self.bot = BotTarget(self, database_url, root)
        self.ideal = IdealTarget(self) if ideal else None
        self.people = [SimUser(self.double.url, self.world.tokens[f"user{i:02d}"]) for i in range(users)]

    def unique(self, prefix: str) -> str:
        with self.counter_lock:
            self.counter += 1
            return f"{prefix} {self.counter}"

    # ---- the actions, each the same for both targets -------------------------------------------
    def dialog_open(self, target: Target, person: SimUser, times: int) -> list[float]:
        out = []
        for _ in range(times):
            person.clear_events()
            started = time.perf_counter()
            person.run_command(self.town, target.slash)
            person.wait_event("open_dialog")
            out.append(time.perf_counter() - started)
        return out

    def prepare_all(self, target: Target, people: list[SimUser], items: int) -> dict[str, str]:
        """A fresh checklist for each person (made before any clock starts): person id -> post id."""
        return dict(in_parallel(people, lambda person: [(person.id, target.prepare_checklist(person, items)[1])]))

    def ticks(self, person: SimUser, post_id: str) -> list[float]:
        """Tick every item of a fresh checklist in turn, each time until the clicker sees it counted."""
        actions = list(shown_states(self.double.get_post(post_id)))
        out = []
        for index, action in enumerate(actions):
            done = f"({index + 1}/{len(actions)})"
            person.clear_events()
            started = time.perf_counter()
            status, body = person.click(post_id, action)
            assert status == 200, (status, body)
            person.wait_event("post_edited", lambda ev: ev["data"]["post"]["id"] == post_id and done in str(ev["data"]["post"]["props"]))
            out.append(time.perf_counter() - started)
        return out

    def command_answers(self, person: SimUser, channel_id: str, times: int) -> list[float]:
        out = []
        for _ in range(times):
            started = time.perf_counter()
            answer = person.run_command(channel_id, "/incident info")
            assert answer.get("text"), answer
            out.append(time.perf_counter() - started)
        return out

    def sustained(self, target: Target, seconds: float, items: int) -> Sustained:
        """Everyone clicks their own items of one checklist as fast as they can, as a person
        would: look at the message, click an item, check that it shows what they asked for
        (waiting up to EFFECT_WITHIN for a late re-render before counting it without effect)."""
        channel_id, post_id = target.prepare_checklist(self.people[0], items)
        for person in self.people[1:]:
            self.double.add_channel_member(channel_id, person.id)
        actions = list(shown_states(self.double.get_post(post_id)))
        result = Sustained(seconds)
        last_asked: dict[str, bool] = {}
        lock = threading.Lock()
        stop = time.monotonic() + seconds

        def work(slot: int, person: SimUser) -> None:
            http = requests.Session()
            http.headers["Authorization"] = f"Bearer {person.token}"
            post_url = f"{self.double.url}/api/v4/posts/{post_id}"
            mine = actions[slot::len(self.people)]
            pending: dict[str, tuple[bool, float]] = {}  # action -> (state asked for, until when to wait)
            counts = {"clicks": 0, "refused": 0, "late": 0, "without_effect": 0}
            shown = shown_states(http.get(post_url).json())
            turn = 0
            while True:
                now = time.monotonic()
                for action, (wanted, until) in list(pending.items()):
                    if shown[action] == wanted:
                        del pending[action]
                        counts["late"] += 1
                    elif now > until:
                        del pending[action]
                        counts["without_effect"] += 1
                free = [action for action in mine if action not in pending]
                if now >= stop or not free:
                    if not pending:
                        break
                    time.sleep(0.05)
                    shown = shown_states(http.get(post_url).json())
                    continue
                action = free[turn % len(free)]
                turn += 1
                wanted = not shown[action]
                answer = http.post(f"{post_url}/actions/{action}", json={})
                if answer.status_code != 200:
                    counts["refused"] += 1
                else:
                    counts["clicks"] += 1
                    with lock:
                        last_asked[action] = wanted
                shown = shown_states(http.get(post_url).json())
                if answer.status_code == 200 and shown[action] != wanted:
                    pending[action] = (wanted, time.monotonic() + EFFECT_WITHIN)
            with lock:
                for key, value in counts.items():
                    setattr(result, key, getattr(result, key) + value)

        threads = [threading.Thread(target=work, args=(slot, person)) for slot, person in enumerate(self.people)]
        before = cpu_seconds(target.pid), cpu_seconds(self.double.pid), cpu_seconds(os.getpid())
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        result.seconds = time.perf_counter() - started
        result.cpu, result.double_cpu, result.clients_cpu = (
            cpu_seconds(pid) - was for pid, was in zip((target.pid, self.double.pid, os.getpid()), before))
        time.sleep(1.5)  # the bot's settling re-render, if any
        final = shown_states(self.double.get_post(post_id))
        result.final_wrong = sum(1 for action, wanted in last_asked.items() if final[action] != wanted)
        return result

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
            current = self.double.get_post(post_id)
            person.click(post_id, current["props"]["attachments"][0]["actions"][0]["id"])

        channel_id, post_id = self.bot.prepare_checklist(person, 2)
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

    def close(self) -> None:
        for person in self.people:
            person.close()
        self.bot.stop()
        if self.ideal is not None:
            self.ideal.stop()
        self.double.stop()


# ---- the phases -----------------------------------------------------------------------------------
def latency_phase(bench: Bench, figures: Figures, users: int, rounds: int) -> None:
    """Bot and ideal in turns, so both meet the same machine."""
    people = bench.people[:users]
    per_round = 10 if users == 1 else 3
    for _ in range(rounds):
        for target in (bench.bot, bench.ideal):
            posts = bench.prepare_all(target, people, per_round)
            for action, work in (("slash -> dialog", lambda person: bench.dialog_open(target, person, per_round)),
                                 ("click -> message updated", lambda person: bench.ticks(person, posts[person.id]))):
                before = cpu_seconds(target.pid)
                seconds = in_parallel(people, work)
                figures.add_latency((action, users, target.name), seconds, cpu_seconds(target.pid) - before)


def print_latency(figures: Figures, users_list: list[int]) -> None:
    print("latency, end to end (client -> double -> integration -> double -> client), bot / ideal, interleaved:")
    print(f"  {'':<34} {'bot p50':>8} {'p99':>7} | {'ideal p50':>9} {'p99':>7} | {'p50':>6} {'p99':>6}  (ms)")
    for users in users_list:
        for action in ("slash -> dialog", "click -> message updated"):
            bot, ideal = figures.latency[(action, users, "bot")], figures.latency[(action, users, "ideal")]
            b50, b99, i50, i99 = (1000 * percentile(v, q) for v, q in ((bot, .5), (bot, .99), (ideal, .5), (ideal, .99)))
            label = f"{action}, {users} user{'s' * (users > 1)} (n={len(bot)})"
            print(f"  {label:<34} {b50:8.1f} {b99:7.1f} | {i50:9.1f} {i99:7.1f} | {ratio(b50, i50):>6} {ratio(b99, i99):>6}")


def sustained_phase(bench: Bench, figures: Figures, seconds: float, rounds: int) -> None:
    items = max(40, 2 * len(bench.people))
    for _ in range(rounds):
        for target in (bench.bot, bench.ideal):
            figures.sustained.setdefault(target.name, []).append(bench.sustained(target, seconds, items))


def print_sustained(figures: Figures, users: int) -> None:
    bot, ideal = figures.sustained["bot"], figures.sustained["ideal"]

    def rate(runs: list[Sustained]) -> float:
        return sum(r.clicks for r in runs) / sum(r.seconds for r in runs)

    def total(runs: list[Sustained], name: str) -> int:
        return sum(getattr(r, name) for r in runs)

    print(f"sustained clicks, {users} people on one checklist (own items each), {len(bot)} run(s) each, interleaved:")
    print(f"  ticks/s: bot {rate(bot):.1f}, ideal {rate(ideal):.1f} -> bot / ideal {ratio(rate(bot), rate(ideal))} "
          f"(per run: bot {', '.join(f'{r.per_second:.0f}' for r in bot)}; ideal {', '.join(f'{r.per_second:.0f}' for r in ideal)})")
    for name, runs in (("bot", bot), ("ideal", ideal)):
        print(f"  {name:<5}: {total(runs, 'clicks')} clicks, {total(runs, 'refused')} refused, "
              f"{total(runs, 'without_effect')} without effect within {EFFECT_WITHIN:.0f} s, "
              f"{total(runs, 'late')} shown only by a later re-render, "
              f"{total(runs, 'final_wrong')} items finally not as last asked")
    clicks = total(bot, "clicks")
    if clicks:
        print(f"  bot CPU per tick, sustained: {1000 * sum(r.cpu for r in bot) / clicks:.2f} ms")
    # on a box this size the processes share two cores: ticks/s is about 2 s of CPU / the CPU of one tick of all of them
    for name, runs in (("bot", bot), ("ideal", ideal)):
        ticks = max(1, total(runs, "clicks"))
        parts = {"integration": sum(r.cpu for r in runs), "double": sum(r.double_cpu for r in runs),
                 "clients": sum(r.clients_cpu for r in runs)}
        print(f"  CPU per tick with the {name:<5}: " + ", ".join(f"{part} {1000 * used / ticks:.2f}" for part, used in parts.items())
              + f", all {1000 * sum(parts.values()) / ticks:.2f} ms; CPU busy {sum(parts.values()) / sum(r.seconds for r in runs):.2f} "
              f"of {os.cpu_count()} cores")


CPU_ACTIONS = ("slash -> dialog open", "command answer (/incident info)", "click -> message updated")


def cpu_phase(bench: Bench, actions: int, profile: Path | None) -> dict[str, tuple[float, int, float]]:
    """The bot alone, a few people at once: CPU seconds, actions and wall seconds of each kind
    of action, from /proc; py-spy if asked."""
    people = bench.people[:4]
    per_person = max(1, actions // len(people))
    channel_id, _ = bench.bot.prepare_checklist(people[0], 2)
    for person in people[1:]:
        bench.double.add_channel_member(channel_id, person.id)
    checklists = max(1, per_person // 10)  # ten items each, like a real checklist: a render's cost grows with its items
    posts = [bench.prepare_all(bench.bot, people, 10) for _ in range(checklists)]
    work = dict(zip(CPU_ACTIONS, (
        lambda p: bench.dialog_open(bench.bot, p, per_person),
        lambda p: bench.command_answers(p, channel_id, per_person),
        lambda p: [s for made in posts for s in bench.ticks(p, made[p.id])],
    )))
    measured = {}
    for name in CPU_ACTIONS:
        spy = _py_spy(bench.bot.pid, profile / f"bot-{name.split()[0].strip('/')}.txt") if profile else None
        before = cpu_seconds(bench.bot.pid)
        started = time.perf_counter()
        done = len(in_parallel(people, work[name]))
        measured[name] = (cpu_seconds(bench.bot.pid) - before, done, time.perf_counter() - started)
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(30)
    return measured


def print_cpu(measured: dict[str, tuple[float, int, float]]) -> None:
    print(f"bot CPU per action (4 people at once, utime+stime of the bot process; "
          f"clock tick {1000 / os.sysconf('SC_CLK_TCK'):.0f} ms):")
    for name, (used, done, wall) in measured.items():
        print(f"  {name:<34} {1000 * used / done:6.2f} ms per action over {done} ({wall:.1f} s wall)")


def compare(bench: Bench, other: Bench, rounds: int, actions: int, seconds: float) -> None:
    """This bot and another checkout's, each with its own double, in turns: CPU per action of both."""
    totals: dict[str, dict[str, list[float]]] = {"other": {}, "this": {}}
    ticks: dict[str, list[Sustained]] = {"other": [], "this": []}
    for _ in range(rounds):
        for label, which in (("other", other), ("this", bench)):
            for name, (used, done, _) in cpu_phase(which, actions, None).items():
                total = totals[label].setdefault(name, [0.0, 0])
                total[0], total[1] = total[0] + used, total[1] + done
            ticks[label].append(which.sustained(which.bot, seconds, max(40, 2 * len(which.people))))
    print(f"bot CPU per action, this checkout vs {other.bot.process.root} ({rounds} rounds in turns, 4 people at once):")
    print(f"  {'':<34} {'other':>8} {'this':>8} {'this/other':>10}")
    for name in CPU_ACTIONS:
        (o_used, o_done), (t_used, t_done) = totals["other"][name], totals["this"][name]
        o, t = 1000 * o_used / o_done, 1000 * t_used / t_done
        print(f"  {name:<34} {o:8.2f} {t:8.2f} {ratio(t, o):>10}   (ms, over {t_done} actions each)")
    per_tick = {label: 1000 * sum(r.cpu for r in runs) / max(1, sum(r.clicks for r in runs)) for label, runs in ticks.items()}
    rate = {label: sum(r.clicks for r in runs) / sum(r.seconds for r in runs) for label, runs in ticks.items()}
    print(f"  {'sustained tick, ' + str(len(bench.people)) + ' people':<34} {per_tick['other']:8.2f} {per_tick['this']:8.2f} "
          f"{ratio(per_tick['this'], per_tick['other']):>10}   (ms; ticks/s other {rate['other']:.1f}, this {rate['this']:.1f})")
    for label, runs in ticks.items():
        print(f"  {label}: {sum(r.without_effect for r in runs)} clicks without effect, "
              f"{sum(r.final_wrong for r in runs)} items finally not as last asked, of {sum(r.clicks for r in runs)}")


def _py_spy(pid: int, out: Path) -> subprocess.Popen:
    out.parent.mkdir(parents=True, exist_ok=True)
    spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "-p", str(pid), "-o", str(out),
                            "--format", "raw", "--rate", "250", "--threads", "--nonblocking", "--gil"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # attached before the phase starts
    return spy


def reset_postgres(url: str) -> None:
    import psycopg2

    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="bot/ideal turns per latency figure")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one sustained run")
    parser.add_argument("--sustained-rounds", type=int, default=2)
    parser.add_argument("--cpu-actions", type=int, default=300, help="actions per CPU figure (a few thousand to trust it)")
    parser.add_argument("--profile", type=Path, help="folder for py-spy profiles of the CPU phase")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--compare-with", type=Path, help="another checkout of the bot: only the CPU figures, both bots in turns")
    parser.add_argument("--skip", default="", help="comma-separated phases to skip: calls,latency,sustained,cpu")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    if args.database_url:
        reset_postgres(args.database_url)
    print(f"database: {'PostgreSQL ' + args.database_url.split('@')[-1] if args.database_url else 'SQLite'}; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start")
    if args.compare_with:
        compare_run(args)
        return
    bench = Bench(args.users, args.database_url)
    figures = Figures()
    try:
        if "calls" not in skip:
            bench.api_calls()
        if "latency" not in skip:
            for users in (1, args.users):
                latency_phase(bench, figures, users, args.rounds)
            print_latency(figures, [1, args.users])
            print("  bot CPU per action in these runs: " + ", ".join(
                f"{action} ({users}u) {1000 * figures.cpu[(action, users, 'bot')][0] / figures.cpu[(action, users, 'bot')][1]:.1f} ms"
                for users in (1, args.users) for action in ("slash -> dialog", "click -> message updated")))
        if "sustained" not in skip:
            sustained_phase(bench, figures, args.seconds, args.sustained_rounds)
            print_sustained(figures, args.users)
        if "cpu" not in skip:
            print_cpu(cpu_phase(bench, args.cpu_actions, args.profile))
        print(f"load average {os.getloadavg()[0]:.1f} at the end; absolute times are noisy on a shared 2-core machine: "
              "read the ratios and the CPU per action")
    finally:
        bench.close()


def compare_run(args: argparse.Namespace) -> None:
    if args.database_url:
        print("--compare-with runs on SQLite only (the two bots would share one database)")
    bench = Bench(args.users, None, ideal=False)
    other = Bench(args.users, None, root=args.compare_with.resolve(), ideal=False)
    try:
        compare(bench, other, args.rounds, args.cpu_actions, args.seconds)
    finally:
        other.close()
        bench.close()


if __name__ == "__main__":
    main()
