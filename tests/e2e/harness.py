"""Run the real bot (`python bot.py`) against the Mattermost test double, as a person would meet it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from mmdouble import MattermostDouble
from mmdouble.seeding import add_person
try:
    from mmdouble.testing import SimUser
except ImportError:  # pragma: no cover
    SimUser = None

ROOT = Path(__file__).resolve().parents[2]


def wait_until(condition, timeout: float = 10, what=lambda: "") -> None:
    """Poll `condition` until it holds; fail with `what()` (e.g. the bot's log) if it never does."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s\n{what()}")
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class World:
    """A Mattermost team with people in it, before any bot runs."""

    double: MattermostDouble
    team: dict
    town_square: dict
    bot_user: dict
    bot_token: str
    tokens: dict[str, str] = field(default_factory=dict)
    users: dict[str, dict] = field(default_factory=dict)

    def person(self, username: str) -> SimUser:
        return SimUser(self.double.url, self.tokens[username])


def build_world(double: MattermostDouble, bot_roles: str = "system_user system_admin") -> World:
    """Works on a RemoteDouble too (the benchmark's): it only uses the seeding methods."""
    team = double.create_team("ops", "Ops")
    town_square = double.create_channel(team["id"], "town-square", "Town Square", type="O")
    # like a real server, joining a team puts everyone in its default channel
    in_town = (town_square["id"],)
    bot_user, bot_token = add_person(double, team["id"], "incident", roles=bot_roles, is_bot=True, channels=in_town)
    world = World(double, team, town_square, bot_user, bot_token)
    for username, roles, team_admin in (
        ("admin", "system_user system_admin", False),
        ("alice", "system_user", False),
        ("bob", "system_user", False),
        ("carol", "system_user", True),
    ):
        world.users[username], world.tokens[username] = add_person(
            double, team["id"], username, roles=roles, team_admin=team_admin, channels=in_town)
    return world


class BotProcess:
    """`python bot.py` in its own process, its log kept for the test report."""

    started = 0

    def __init__(self, world: World, workdir: Path, database_url: str | None = None, extra_env: dict | None = None):
        self.port = free_port()
        BotProcess.started += 1
        self.log_path = workdir / f"bot-{BotProcess.started}.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("MATTERMOST_", "BOT_", "DATABASE_"))},
            "SETTINGS_FILE": str(workdir / "absent-settings.toml"),
            "MATTERMOST_URL": world.double.url,
            "MATTERMOST_TOKEN": world.bot_token,
            "BOT_LISTEN_HOST": "127.0.0.1",
            "BOT_LISTEN_PORT": str(self.port),
            "BOT_HEARTBEAT_SECONDS": "2",
            "BOT_LOG_LEVEL": "DEBUG",
            "DATABASE_SQLITE_PATH": str(workdir / "bot.sqlite3"),
            "PYTHONUNBUFFERED": "1",
            **({"DATABASE_URL": database_url} if database_url else {}),
            **(extra_env or {}),
        }
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "BotProcess":
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen([sys.executable, str(ROOT / "bot.py")], cwd=ROOT, env=self.env,
                                        stdout=self._log, stderr=subprocess.STDOUT)
        return self

    def wait_ready(self, timeout: float = 30) -> "BotProcess":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the bot exited with {self.process.returncode}:\n{self.log()}")
            if "ready as @" in self.log() and "websocket connected" in self.log():
                return self
            time.sleep(0.05)
        raise AssertionError(f"the bot did not become ready in {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(f"the bot did not stop within {timeout} s of {signal.Signals(sig).name}:\n{self.log()}")
        finally:
            self._log.close()

    def post_raw(self, path: str, **kwargs) -> httpx.Response:
        return httpx.post(self.url + path, timeout=10, **kwargs)


def run_bot_once(env_overrides: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run `python bot.py` expecting it to exit by itself (bad settings and the like)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MATTERMOST_", "BOT_", "DATABASE_"))}
    env.update(env_overrides)
    return subprocess.run([sys.executable, str(ROOT / "bot.py")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def running_bot(world, folder, extra_env: dict | None = None):
    """A bot process for as long as a fixture lasts; it must stop cleanly and log no traceback."""
    process = BotProcess(world, folder, database_url=os.environ.get("TEST_DATABASE_URL"), extra_env=extra_env).start().wait_ready()
    yield process
    code = process.stop()
    assert code == 0, f"the bot exited with {code} on SIGTERM:\n{process.log()}"
    assert "Traceback" not in process.log(), process.log()


def serving_double():
    """A Mattermost test double on a free loopback port, for as long as a fixture lasts."""
    server = MattermostDouble(host="127.0.0.1", port=0)
    server.start_in_thread()
    yield server
    server.stop()


def one_bot_per_module(label: str, extra_env: dict | None = None):
    """The `double`, `world` and `bot` fixtures of a module whose tests share one bot (each test
    names what it makes apart): `double, world, bot = one_bot_per_module("incidents")`."""
    import pytest

    @pytest.fixture(scope="module")
    def double():
        yield from serving_double()

    @pytest.fixture(scope="module")
    def world(double):
        return build_world(double)

    @pytest.fixture(scope="module")
    def bot(world, tmp_path_factory):
        yield from running_bot(world, tmp_path_factory.mktemp(label), extra_env=extra_env)

    return double, world, bot
