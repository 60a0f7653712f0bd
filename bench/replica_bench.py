"""Two bot replicas on one PostgreSQL behind nginx, beside one replica, in the same run.

    .venv/bin/python bench/replica_bench.py [--users 20] [--seconds 5] [--rounds 1] [--database-url postgresql://...]

For 1 replica, then 2 (the database's schema `public` dropped and made again before each, a fresh
double each time), this starts nginx from Debian as a child process (config, pid, logs and temp
paths in a temp dir, round robin over the bots' callback ports), the bots (`python bot.py`) with
BOT_PUBLIC_URL = nginx, so every slash command, click and dialog submit the double sends goes through
nginx, and the Mattermost double in its own process. Both configurations go through nginx, so the
ratio 2 / 1 is the replicas' alone. Then:

- sustained clicks: N people on one checklist, each clicking items of their own as fast as a person
  would (look, click, check that it shows what they asked for): ticks/s, p50/p99 of the click
  (POST -> the double has applied the bot's answer), clicks without effect (not shown within 10 s);
- from the database once quiet: ticks lost (an item whose state, in the database or on the message,
  is not what its last click asked for) and ticks doubled (an item with more item_checked /
  item_unchecked timeline events than its clicks asked for changes of state, or the same kind twice
  in a row);
- acts once: a status-update reminder falling due (UPDATES_TIME_SCALE, as the e2e tests) is posted
  once, a :rotating_light: reaction gets one prompt, a DM gets one reply, a dialog submit makes one
  incident;
- CPU of each process (utime + stime from /proc/<pid>/stat) over the sustained run, in cores: what
  limits the throughput on this machine.

Needs nginx (`apt-get install nginx`) and PostgreSQL (BENCH_DATABASE_URL); without either it says so
in one line and exits 0, so `make bench` runs everywhere.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from incident_bench import EFFECT_WITHIN, cpu_seconds, percentile, reset_postgres, shown_states  # noqa: E402

from mmdouble.remote import RemoteDouble  # noqa: E402
from mmdouble.seeding import add_person  # noqa: E402
from mmdouble.testing import SimUser  # noqa: E402
from tests.e2e.harness import BotProcess, World, build_world, free_port  # noqa: E402

# a status update falls due within seconds (a minute lasts 0.24 s), swept twice a second by each replica
FAST = {"UPDATES_TIME_SCALE": "0.004", "UPDATES_SWEEP_SECONDS": "0.5"}
QUIET = 2.0  # seconds to wait after a first answer for a second one that must not come


# ---- nginx ----------------------------------------------------------------------------------------
def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


NGINX_CONF = """daemon off;
master_process on;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format upstreams '$upstream_addr $status';
    access_log {dir}/access.log upstreams;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream bots {{
        # round robin; max_fails=0: a bot still starting (connection refused) is skipped for that
        # request only, not set aside for seconds
{servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://bots;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_read_timeout 60s;
        }}
    }}
}}
"""


class Nginx:
    """nginx in the foreground, as a child of this process, unprivileged (nobody, when we are root)."""

    def __init__(self, binary: str, ports: list[int]):
        self.dir = Path(tempfile.mkdtemp(prefix="replica-nginx-"))
        self.port = free_port()
        servers = "\n".join(f"        server 127.0.0.1:{port} max_fails=0;" for port in ports)
        (self.dir / "nginx.conf").write_text(NGINX_CONF.format(dir=self.dir, servers=servers, port=self.port))
        who = {}
        if os.geteuid() == 0:
            shutil.chown(self.dir, "nobody", "nogroup")
            who = {"user": "nobody", "group": "nogroup"}
        # -e: the error log before the config is read (the default is under /var/log)
        self.process = subprocess.Popen([binary, "-p", str(self.dir), "-c", str(self.dir / "nginx.conf"), "-e", str(self.dir / "error.log")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **who)  # type: ignore[call-overload]
        self._wait_listening()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_listening(self) -> None:
        for _ in range(200):
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.process.returncode}: {self._errors()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"nginx did not listen on {self.port}: {self._errors()}")

    def _errors(self) -> str:
        log = self.dir / "error.log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else ""

    def pids(self) -> list[int]:
        return [self.process.pid, *children(self.process.pid)]

    def requests_per_upstream(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for line in (self.dir / "access.log").read_text().splitlines():
            upstream = line.split()[0]
            counts[upstream] = counts.get(upstream, 0) + 1
        return counts

    def stop(self) -> None:
        self.process.terminate()  # SIGTERM: fast shutdown
        self.process.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


# ---- one configuration: a double, nginx, n bots on the database -------------------------------------
class Replicas:
    def __init__(self, count: int, users: int, database_url: str, nginx: str):
        reset_postgres(database_url)
        self.database_url = database_url
        self.double = RemoteDouble.spawn(free_port())
        self.world: World = build_world(self.double)
        self.town = self.world.town_square["id"]
        for index in range(users):
            name = f"user{index:02d}"
            self.world.users[name], self.world.tokens[name] = add_person(self.double, self.world.team["id"], name, channels=(self.town,))
        self.workdir = Path(tempfile.mkdtemp(prefix="replica-bench-"))
        self.bots = [BotProcess(self.world, self.workdir, database_url=database_url, extra_env=dict(FAST)) for _ in range(count)]
        self.nginx = Nginx(nginx, [bot.port for bot in self.bots])
        # one after the other: the first makes the schema, the signing secret and /incident, the others find them
        for bot in self.bots:
            bot.env["BOT_PUBLIC_URL"] = self.nginx.url
            bot.env["BOT_LOG_LEVEL"] = os.environ.get("BENCH_BOT_LOG_LEVEL", "INFO")
            bot.start().wait_ready(60)
        self.people = [SimUser(self.double.url, self.world.tokens[f"user{i:02d}"]) for i in range(users)]
        self.counter = 0

    def unique(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix} {self.counter}"

    def sql(self, query: str, *args) -> list[tuple]:
        with psycopg2.connect(self.database_url) as connection, connection.cursor() as cursor:
            cursor.execute(query, args)
            return cursor.fetchall()

    def start_incident(self, person: SimUser, name: str) -> str:
        answer = person.run_command(self.town, f"/incident start {name}")
        channel_name = answer["text"].split("started in ~", 1)[1].split()[0].rstrip(".")
        return self.double.channel_by_name(self.world.team["id"], channel_name)["id"]

    def bot_posts(self, channel_id: str) -> list[dict]:
        return [p for p in self.double.posts_in(channel_id)
                if p["user_id"] == self.world.bot_user["id"] and not p.get("type", "").startswith("system_")]

    def checklist(self, items: int) -> tuple[str, str]:
        """A fresh incident whose checklist has `items` items, everyone in its channel: (channel, post)."""
        channel_id = self.start_incident(self.people[0], self.unique("Replica bench"))
        for index in range(items):
            self.people[0].run_command(channel_id, f"/incident checkadd step {index + 1}")
        for person in self.people[1:]:
            self.double.add_channel_member(channel_id, person.id)
        post_id = next(p["id"] for p in self.bot_posts(channel_id) if (p.get("props") or {}).get("attachments"))
        deadline = time.monotonic() + 10  # the last checkadd's re-render may still be on its way
        while len(shown_states(self.double.get_post(post_id))) < items and time.monotonic() < deadline:
            time.sleep(0.05)
        return channel_id, post_id

    def postgres_pids(self) -> list[int]:
        return [pid for (pid,) in self.sql("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]

    def processes(self) -> dict[str, list[int]]:
        """Who shares the machine's 2 cores during a run, by role."""
        return {"bots": [bot.process.pid for bot in self.bots], "double": [self.double.pid], "nginx": self.nginx.pids(),
                "postgres (this db)": self.postgres_pids(), "simulated people": [os.getpid()]}

    def close(self) -> list[str]:
        for person in self.people:
            person.close()
        problems = []
        for bot in self.bots:
            code = bot.stop()
            if code != 0 or "Traceback" in bot.log():
                problems.append(f"bot exited with {code}{' after a traceback' if 'Traceback' in bot.log() else ''}; log in {bot.log_path}")
        self.nginx.stop()
        self.double.stop()
        return problems


# ---- CPU, per process, from /proc -------------------------------------------------------------------
def machine_busy() -> tuple[int, int]:
    """(busy, total) clock ticks of all cores since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class CpuWatch:
    """CPU seconds of each role's processes between start() and stop(), as cores busy."""

    def __init__(self, replicas: Replicas):
        self.replicas = replicas

    def _sample(self) -> dict[str, dict[int, float]]:
        sample: dict[str, dict[int, float]] = {}
        for role, pids in self.replicas.processes().items():
            sample[role] = {}
            for pid in pids:
                try:
                    sample[role][pid] = cpu_seconds(pid)
                except OSError:  # gone
                    pass
        return sample

    def start(self) -> None:
        self.before, self.machine_before, self.started = self._sample(), machine_busy(), time.perf_counter()

    def stop(self) -> dict[str, float]:
        after, (busy, total), wall = self._sample(), machine_busy(), time.perf_counter() - self.started
        cores = {role: sum(used - self.before.get(role, {}).get(pid, 0.0) for pid, used in pids.items()) / wall
                 for role, pids in after.items()}
        machine = (busy - self.machine_before[0]) / (total - self.machine_before[1]) * (os.cpu_count() or 1)
        cores["everything else (other sessions, the kernel)"] = max(0.0, machine - sum(cores.values()))
        cores["the whole machine"] = machine
        return cores


# ---- sustained clicks ------------------------------------------------------------------------------
@dataclass
class Run:
    seconds: float = 0.0
    clicks: int = 0
    refused: int = 0
    without_effect: int = 0
    latencies: list[float] = field(default_factory=list)
    asked: dict[int, list[bool]] = field(default_factory=dict)  # item id -> states its clicks asked for, in order
    lost_in_db: int = 0
    lost_on_message: int = 0
    doubled: int = 0
    cores: dict[str, float] = field(default_factory=dict)
    per_replica: list[list[int]] = field(default_factory=list)  # per run: clicks each replica answered
    bot_calls: int = 0  # REST calls the bots made to the double

    @property
    def per_second(self) -> float:
        return self.clicks / self.seconds if self.seconds else 0.0


def click_loop(replicas: Replicas, person: SimUser, post_id: str, mine: list[str], stop: float, run: Run, lock: threading.Lock) -> None:
    """One person: look at the message, click one of their items, check it shows what they asked
    for; an item not shown so yet is waited for (up to EFFECT_WITHIN) before clicking it again."""
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {person.token}"
    post_url = f"{replicas.double.url}/api/v4/posts/{post_id}"
    pending: dict[str, tuple[bool, float]] = {}
    latencies, asked, refused, without_effect = [], [], 0, 0
    shown = shown_states(http.get(post_url).json())
    turn = 0
    while True:
        now = time.monotonic()
        for action, (wanted, until) in list(pending.items()):
            if shown[action] == wanted or now > until:
                without_effect += shown[action] != wanted
                del pending[action]
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
        started = time.perf_counter()
        answer = http.post(f"{post_url}/actions/{action}", json={})
        if answer.status_code != 200:
            refused += 1
        else:
            latencies.append(time.perf_counter() - started)
            asked.append((action, wanted))
        shown = shown_states(http.get(post_url).json())
        if answer.status_code == 200 and shown[action] != wanted:
            pending[action] = (wanted, time.monotonic() + EFFECT_WITHIN)
    with lock:
        run.clicks += len(latencies)
        run.latencies.extend(latencies)
        run.refused += refused
        run.without_effect += without_effect
        for action, wanted in asked:  # one person per item: their order is the item's order
            run.asked.setdefault(int(action.removeprefix("tick")), []).append(wanted)


def sustained(replicas: Replicas, seconds: float) -> Run:
    people = replicas.people
    channel_id, post_id = replicas.checklist(max(40, 2 * len(people)))
    actions = list(shown_states(replicas.double.get_post(post_id)))
    run, lock = Run(), threading.Lock()
    watch = CpuWatch(replicas)
    before = replicas.nginx.requests_per_upstream()
    calls_before = replicas.double.api_calls(replicas.world.bot_token)
    stop = time.monotonic() + seconds
    threads = [threading.Thread(target=click_loop, args=(replicas, person, post_id, actions[slot::len(people)], stop, run, lock))
               for slot, person in enumerate(people)]
    watch.start()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.seconds = time.perf_counter() - started
    run.cores = watch.stop()
    after = replicas.nginx.requests_per_upstream()
    run.per_replica = [sorted(count - before.get(upstream, 0) for upstream, count in after.items())]
    run.bot_calls = replicas.double.api_calls(replicas.world.bot_token) - calls_before
    time.sleep(1.5)  # the replicas' settling re-renders
    check_ticks(replicas, channel_id, post_id, run)
    return run


def changes(asked: list[bool]) -> int:
    """State changes a sequence of clicks asks for, from unticked."""
    state, count = False, 0
    for wanted in asked:
        count += wanted != state
        state = wanted
    return count


def check_ticks(replicas: Replicas, channel_id: str, post_id: str, run: Run) -> None:
    """Lost: the item's last click is not what the database or the message says. Doubled: the
    timeline has more tick events for an item than its clicks asked for changes, or repeats one."""
    (incident_id,), = replicas.sql("SELECT id FROM incident WHERE channel_id = %s", channel_id)
    states = dict(replicas.sql("SELECT i.id, i.state = 'closed' FROM checklist_item i JOIN checklist c ON c.id = i.checklist_id "
                               "WHERE c.incident_id = %s", incident_id))
    shown = {int(action.removeprefix("tick")): ticked for action, ticked in shown_states(replicas.double.get_post(post_id)).items()}
    events: dict[int, list[str]] = {}
    for kind, data in replicas.sql("SELECT kind, data FROM timeline_event WHERE incident_id = %s "
                                   "AND kind IN ('item_checked', 'item_unchecked') ORDER BY at, id", incident_id):
        events.setdefault(json.loads(data)["item_id"], []).append(kind)
    for item_id, asked in run.asked.items():
        run.lost_in_db += states[item_id] != asked[-1]
        run.lost_on_message += shown[item_id] != asked[-1]
        kinds = events.get(item_id, [])
        repeats = sum(1 for a, b in zip(kinds, kinds[1:]) if a == b)
        run.doubled += max(len(kinds) - changes(asked), repeats)


# ---- reminders and events act once -------------------------------------------------------------------
def acts_once(replicas: Replicas) -> dict[str, int]:
    """How many times each thing that must happen once happened (every figure should be 1)."""
    alice = replicas.world.person("alice")
    try:
        return {"reminder posted": reminder(replicas, alice), "reaction prompts": reaction(replicas, alice),
                "DM replies": dm_reply(replicas, alice), "incidents from one dialog submit": dialog_submit(replicas, alice)}
    finally:
        alice.close()


def wait_for(count, timeout: float = 10) -> int:
    """`count()` once it is non-zero (or after timeout), then again after QUIET: a second answer would be in."""
    deadline = time.monotonic() + timeout
    while not count() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(QUIET)
    return count()


def reminder(replicas: Replicas, alice: SimUser) -> int:
    channel_id = replicas.start_incident(alice, replicas.unique("Reminder"))
    alice.run_command(channel_id, "/incident update Looking. --next 5m")  # due in 1.2 s here
    return wait_for(lambda: sum("is due since" in str(p.get("message")) + str(p.get("props")) for p in replicas.bot_posts(channel_id)))


def reaction(replicas: Replicas, alice: SimUser) -> int:
    post = alice.post(replicas.town, replicas.unique("Disk full on db"))
    alice.react(post["id"], "rotating_light")
    return wait_for(lambda: sum(1 for ev in alice.events if ev["event"] == "ephemeral_message"
                                and "Start an incident" in str(ev["data"]["post"].get("props"))))


def dm_reply(replicas: Replicas, alice: SimUser) -> int:
    dm = alice.driver.channels.create_direct_message_channel([alice.id, replicas.world.bot_user["id"]])
    alice.post(dm["id"], "help")
    return wait_for(lambda: len(replicas.bot_posts(dm["id"])))


def dialog_submit(replicas: Replicas, alice: SimUser) -> int:
    alice.clear_events()
    alice.run_command(replicas.town, "/incident start")
    opened = alice.wait_event("open_dialog")
    name = replicas.unique("From the dialog")
    status, answer = alice.submit_dialog(opened, {"name": name, "visibility": "private"})
    if status != 200 or answer.get("errors") or answer.get("error"):
        raise RuntimeError(f"the dialog submit was refused: {status} {answer}")
    return wait_for(lambda: replicas.sql("SELECT count(*) FROM incident WHERE name = %s", name)[0][0])


# ---- the table ---------------------------------------------------------------------------------------
def merged(runs: list[Run]) -> Run:
    total = Run()
    for run in runs:
        for name in ("seconds", "clicks", "refused", "without_effect", "lost_in_db", "lost_on_message", "doubled", "bot_calls"):
            setattr(total, name, getattr(total, name) + getattr(run, name))
        total.latencies.extend(run.latencies)
        for role, cores in run.cores.items():
            total.cores[role] = total.cores.get(role, 0.0) + cores * run.seconds
        total.per_replica.extend(run.per_replica)
    total.cores = {role: busy / total.seconds for role, busy in total.cores.items()} if total.seconds else {}
    return total


def row(label: str, one: float, two: float, fmt: str = "{:.0f}", ratio: bool = False) -> str:
    shown_ratio = (f"{two / one:5.2f}x" if one else "  n/a") if ratio else ""
    return f"  {label:<40} {fmt.format(one):>10} {fmt.format(two):>10}  {shown_ratio}"


def print_table(users: int, one: Run, two: Run, once: dict[int, dict[str, int]]) -> None:
    print(f"sustained clicks, {users} people on one checklist, through nginx (round robin); 2 replicas / 1 replica:")
    print(f"  {'':<40} {'1 replica':>10} {'2 replicas':>10}  2 / 1")
    print(row("ticks/s", one.per_second, two.per_second, "{:.1f}", True))
    print(row("click p50 (ms)", 1000 * percentile(one.latencies, .5), 1000 * percentile(two.latencies, .5), "{:.0f}", True))
    print(row("click p99 (ms)", 1000 * percentile(one.latencies, .99), 1000 * percentile(two.latencies, .99), "{:.0f}", True))
    for label, name in (("clicks", "clicks"), ("clicks refused", "refused"), (f"clicks without effect within {EFFECT_WITHIN:.0f} s", "without_effect"),
                        ("ticks lost (database)", "lost_in_db"), ("ticks lost (message)", "lost_on_message"), ("ticks doubled", "doubled")):
        print(row(label, getattr(one, name), getattr(two, name)))
    print(f"  CPU over the runs, utime + stime from /proc ({os.cpu_count()} cores): "
          f"{'cores 1':>7} {'cores 2':>7} {'2 / 1':>6} | ms per tick 1, 2")
    for role in two.cores:
        a, b = one.cores.get(role, 0.0), two.cores[role]
        print(f"    {role:<52} {a:7.2f} {b:7.2f} {b / a if a else float('nan'):5.2f}x | "
              f"{1000 * a / one.per_second if one.clicks else 0:6.1f} {1000 * b / two.per_second if two.clicks else 0:6.1f}")
    ours = ("bots", "double", "nginx", "postgres (this db)", "simulated people")
    for n, run in ((1, one), (2, two)):
        per_tick = sum(1000 * run.cores[role] / run.per_second for role in ours) if run.clicks else float("nan")
        print(f"  {n} replica(s): {per_tick:.1f} ms of CPU per tick in the processes of the bench: at most "
              f"{1000 * (os.cpu_count() or 1) / per_tick:.0f} ticks/s on idle cores; clicks per replica (nginx log) "
              + ", ".join("/".join(str(c) for c in counts) for counts in run.per_replica)
              + f"; bot REST calls per tick {run.bot_calls / max(1, run.clicks):.2f}")
    print("acts once (each figure must be 1):")
    for what in once[1]:
        print(row(what, once[1][what], once[2][what]))


def configuration(count: int, args: argparse.Namespace, nginx: str) -> tuple[Run, dict[str, int], list[str]]:
    replicas = Replicas(count, args.users, args.database_url, nginx)
    try:
        run = sustained(replicas, args.seconds)
        once = acts_once(replicas)
    finally:
        problems = replicas.close()
    return run, once, problems


def worst(seen: dict[str, int] | None, now: dict[str, int]) -> dict[str, int]:
    """Over rounds, the count furthest from once."""
    return {what: max(count, (seen or {}).get(what, 1), key=lambda n: abs(n - 1)) for what, count in now.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one sustained run")
    parser.add_argument("--rounds", type=int, default=1, help="1 replica then 2, this many times (the runs of each are summed)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args()
    nginx = nginx_binary()
    if nginx is None:
        print("replica bench skipped: nginx is not installed (apt-get install nginx)")
        return
    if not (args.database_url or "").startswith("postgres"):
        print("replica bench skipped: replicas share a PostgreSQL database (BENCH_DATABASE_URL=postgresql://...)")
        return
    print(f"replica bench: PostgreSQL {args.database_url.split('@')[-1]}; {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} at the start")
    runs: dict[int, list[Run]] = {1: [], 2: []}
    once: dict[int, dict[str, int]] = {}
    problems: list[str] = []
    for _ in range(args.rounds):
        for count in (1, 2):
            run, acted, trouble = configuration(count, args, nginx)
            runs[count].append(run)
            once[count] = worst(once.get(count), acted)
            problems.extend(trouble)
    print_table(args.users, merged(runs[1]), merged(runs[2]), once)
    for problem in problems:
        print("  " + problem)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
