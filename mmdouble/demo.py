"""`make demo`: the Mattermost test double with a demo team, and the bot against it.

    python -m mmdouble.demo

The double listens on 8065, or on any free port when 8065 is taken (`DEMO_PORT` asks for one
port and insists on it); the bot's callback port is any free one. Once the bot answers
`/readyz`, this prints the people's tokens and the console command to type in a second
terminal. Ctrl-C (or SIGTERM) stops the bot, then the double. Nothing of yours is touched: the
bot reads no settings.toml and keeps its SQLite file in a fresh temporary folder.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from .seeding import DEMO_TOKENS, seed_demo
from .server import MattermostDouble

PREFERRED_PORT = 8065
READY_TIMEOUT = 90.0
# the bot's settings that could point it at something real: the demo sets its own
NOT_INHERITED = ("MATTERMOST_", "DATABASE_", "BOT_LISTEN_", "BOT_PUBLIC_URL", "BOT_METRICS_PORT", "BOT_SIGNING_SECRET", "SETTINGS_FILE")


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def start_double(host: str, port: int | None) -> MattermostDouble:
    """On `port` when asked (OSError if taken), else on 8065 or, that being taken, any free port."""
    if port is not None:
        return MattermostDouble(host, port).start_in_thread()
    try:
        return MattermostDouble(host, PREFERRED_PORT).start_in_thread()
    except OSError:
        return MattermostDouble(host, 0).start_in_thread()


def shown_python() -> str:
    """The interpreter as a person would type it here: `.venv/bin/python` from the project folder."""
    relative = os.path.relpath(sys.executable)
    return relative if not relative.startswith("..") else sys.executable


def bot_environment(double: MattermostDouble, host: str, bot_port: int, folder: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(NOT_INHERITED)}
    env.update({
        "SETTINGS_FILE": str(folder / "no-settings.toml"),  # absent on purpose: only what is set here
        "MATTERMOST_URL": double.url,
        "MATTERMOST_TOKEN": DEMO_TOKENS["incident"],
        "BOT_LISTEN_HOST": host,
        "BOT_LISTEN_PORT": str(bot_port),
        "DATABASE_SQLITE_PATH": str(folder / "demo.sqlite3"),
        "PYTHONUNBUFFERED": "1",
    })
    return env


def wait_ready(bot: subprocess.Popen, url: str, stop: threading.Event) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline and bot.poll() is None and not stop.is_set():
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        stop.wait(0.2)
    return False


def instructions(double: MattermostDouble, bot_url: str) -> str:
    python = shown_python()
    others = "\n".join(f"  {name:6} {python} -m mmdouble.console --url {double.url} --token {DEMO_TOKENS[name]}"
                       for name in ("bob", "admin"))
    return (
        f"\nThe demo is up: a Mattermost test double at {double.url} (team ops), the bot at {bot_url}.\n"
        f"In a second terminal, be alice:\n\n"
        f"  {python} -m mmdouble.console --url {double.url} --token {DEMO_TOKENS['alice']}\n\n"
        f"and type /incident start Checkout is down. The others:\n{others}\n"
        f"Ctrl-C here stops the bot and the double.\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mmdouble.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None, help="the double's port (default: DEMO_PORT, else 8065 or a free one)")
    args = parser.parse_args(argv)
    wanted = args.port
    if wanted is None and os.environ.get("DEMO_PORT"):
        try:
            wanted = int(os.environ["DEMO_PORT"])
        except ValueError:
            print(f"demo: DEMO_PORT must be a port number, not {os.environ['DEMO_PORT']!r}", file=sys.stderr)
            return 2

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        double = start_double(args.host, wanted)
    except OSError as exc:
        print(f"demo: cannot listen on {args.host}:{wanted} ({exc.strerror}); set DEMO_PORT to a free port, "
              "or leave it unset to have one picked", file=sys.stderr)
        return 2
    seed_demo(double)
    folder = Path(tempfile.mkdtemp(prefix="incident-demo-"))
    bot_port = free_port(args.host)
    bot_url = f"http://{args.host}:{bot_port}"
    print(f"demo: Mattermost test double listening on {double.url}; starting the bot on port {bot_port}", flush=True)
    # its own process group: Ctrl-C reaches the bot through us, once, in order
    bot = subprocess.Popen([sys.executable, "-m", "bot"], env=bot_environment(double, args.host, bot_port, folder),
                           start_new_session=True)
    code = 0
    try:
        if wait_ready(bot, bot_url, stop):
            print(instructions(double, bot_url), flush=True)
        while not stop.is_set() and bot.poll() is None:
            stop.wait(0.5)
        if bot.poll() is not None and not stop.is_set():
            code = bot.returncode or 1
            print(f"demo: the bot stopped by itself (exit code {bot.returncode}); stopping the double", file=sys.stderr)
    finally:
        if bot.poll() is None:
            bot.send_signal(signal.SIGTERM)
            try:
                bot.wait(20)
            except subprocess.TimeoutExpired:
                bot.kill()
                bot.wait()
        double.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print("demo: stopped", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
