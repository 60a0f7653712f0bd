"""The bot as an operator installs and runs it: the `incident-bot` console command, and `make demo`.

`incident-bot` is the console script `pip install .` puts beside the interpreter (this
environment's editable install). The demo is started the way `make demo` starts it.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mmdouble.seeding import DEMO_TOKENS
from mmdouble.testing import SimUser
from tests.e2e.harness import ROOT, build_world, free_port, run_bot_once, wait_until

pytestmark = pytest.mark.e2e

CONSOLE = Path(sys.executable).parent / "incident-bot"


def incident_bot(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MATTERMOST_", "BOT_", "DATABASE_"))}
    return subprocess.run([str(CONSOLE), *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=timeout)


def settings_for(double, token: str, folder: Path) -> dict[str, str]:
    return {"SETTINGS_FILE": str(folder / "none.toml"), "MATTERMOST_URL": double.url, "MATTERMOST_TOKEN": token,
            "BOT_LISTEN_PORT": str(free_port()), "DATABASE_SQLITE_PATH": str(folder / "bot.sqlite3"),
            **({"DATABASE_URL": os.environ["TEST_DATABASE_URL"]} if os.environ.get("TEST_DATABASE_URL") else {})}


# ---- the console command -----------------------------------------------------------------------------
def test_version():
    result = incident_bot("--version", env={})
    assert result.returncode == 0
    assert re.fullmatch(r"incident-bot, version \d+\.\d+\.\d+\S*", result.stdout.strip()), result.stdout


def test_check_passes_with_a_good_token_and_leaves_nothing_running(double, tmp_path):
    world = build_world(double)
    result = incident_bot("--check", env=settings_for(double, world.bot_token, tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "check: OK" in result.stdout and "Traceback" not in result.stdout + result.stderr
    assert "websocket connected" not in result.stdout  # it checks, it does not start listening
    assert world.bot_token not in result.stdout + result.stderr
    assert [c["trigger"] for c in double.commands(world.team["id"])] == ["incident"]  # registered, as a start does
    assert double.websocket_count(world.bot_user["id"]) == 0


def test_check_exits_2_on_a_token_the_server_refuses(double, tmp_path):
    build_world(double)
    result = incident_bot("--check", env=settings_for(double, "wrong-token-value", tmp_path))
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "MATTERMOST_TOKEN" in lines[0] and "wrong-token-value" not in result.stderr


def test_check_exits_1_when_mattermost_does_not_answer(tmp_path):
    env = {"SETTINGS_FILE": str(tmp_path / "none.toml"), "MATTERMOST_URL": f"http://127.0.0.1:{free_port()}",
           "MATTERMOST_TOKEN": "t", "DATABASE_SQLITE_PATH": str(tmp_path / "bot.sqlite3"), "BOT_STARTUP_ATTEMPTS": "1"}
    assert incident_bot("--check", env=env).returncode == 1


def test_migrate_creates_the_schema_and_exits(tmp_path):
    env = {"SETTINGS_FILE": str(tmp_path / "none.toml"), "MATTERMOST_URL": "http://127.0.0.1:1", "MATTERMOST_TOKEN": "t",
           "DATABASE_SQLITE_PATH": str(tmp_path / "fresh.sqlite3")}
    result = incident_bot("migrate", env=env)
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout and (tmp_path / "fresh.sqlite3").exists()


def test_no_settings_at_all_points_at_the_demo(tmp_path):
    result = run_bot_once({"SETTINGS_FILE": str(tmp_path / "none.toml")})
    assert result.returncode == 2
    assert [line for line in result.stderr.splitlines() if line.strip()][0].startswith("settings: MATTERMOST_URL is not set")
    assert "make demo" in result.stdout


# ---- make demo ----------------------------------------------------------------------------------------
class Demo:
    """`python -m mmdouble.demo`, its output read as it comes."""

    def __init__(self, extra_env: dict[str, str] | None = None) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MATTERMOST_", "BOT_", "DATABASE_", "DEMO_"))}
        self.process = subprocess.Popen([sys.executable, "-m", "mmdouble.demo"], cwd=ROOT, env={**env, **(extra_env or {})},
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def output(self) -> str:
        return "".join(self.lines)

    def console_command(self) -> list[str]:
        """The command printed for alice, as words."""
        wait_until(lambda: "--token " + DEMO_TOKENS["alice"] in self.output() or self.process.poll() is not None, 90, self.output)
        line = next(line for line in self.lines if "mmdouble.console" in line and DEMO_TOKENS["alice"] in line)
        return line.split()

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            return self.process.wait(30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.reader.join(10)  # all of its output read


def option(words: list[str], name: str) -> str:
    return words[words.index(name) + 1]


def test_two_demos_at_once_each_pick_free_ports_and_stop_on_ctrl_c():
    taken = socket.socket()  # whatever holds 8065 here, it is taken: the demos must go elsewhere
    try:
        taken.bind(("127.0.0.1", 8065))
        taken.listen()
    except OSError:
        pass
    first, second = Demo(), Demo()
    try:
        urls = []
        for demo in (first, second):
            words = demo.console_command()
            assert words[0].endswith("python") and words[1:3] == ["-m", "mmdouble.console"], words
            urls.append(option(words, "--url"))
            alice = SimUser(option(words, "--url"), option(words, "--token"), connect_websocket=False)
            try:
                town_square = alice.driver.channels.get_channel_by_name(alice.driver.teams.get_user_teams(alice.id)[0]["id"], "town-square")
                answer = alice.run_command(town_square["id"], "/incident list")
                assert "incident" in (answer.get("text") or "").lower(), answer
            finally:
                alice.close()
        assert urls[0] != urls[1] and not any(url.endswith(":8065") for url in urls)
        for name in ("bob", "admin"):
            assert DEMO_TOKENS[name] in first.output()
    finally:
        codes = [first.stop(), second.stop()]
        taken.close()
    for demo in (first, second):
        assert "Traceback" not in demo.output(), demo.output()
        assert "demo: stopped" in demo.output()
    assert codes == [0, 0]


def test_a_demo_port_that_is_taken_is_one_line_not_a_traceback():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        demo = Demo({"DEMO_PORT": str(taken.getsockname()[1])})
        code = demo.process.wait(30)
        demo.reader.join(10)
    assert code == 2
    assert "Traceback" not in demo.output()
    assert "DEMO_PORT" in demo.output() and len([line for line in demo.output().splitlines() if line.strip()]) == 1
