"""What the bot costs when nothing happens: CPU share and resident memory while idle.

    .venv/bin/python bench/idle.py [--seconds 30]

Starts the double and the bot, lets the bot settle, then samples /proc for the given time.
mmpy-bot as shipped polls in busy loops (~15 % of a core idle); this bot should be near 0.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mmdouble import MattermostDouble  # noqa: E402
from tests.e2e.harness import BotProcess, build_world  # noqa: E402


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def resident_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    double = MattermostDouble(host="127.0.0.1", port=0)
    double.start_in_thread()
    world = build_world(double)
    bot = BotProcess(world, Path(tempfile.mkdtemp(prefix="incident-idle-")), extra_env={"BOT_LOG_LEVEL": "INFO"}).start().wait_ready()
    try:
        pid = bot.process.pid
        time.sleep(2)
        before, started = cpu_seconds(pid), time.perf_counter()
        time.sleep(args.seconds)
        used, wall = cpu_seconds(pid) - before, time.perf_counter() - started
        print(f"idle for {wall:.0f} s: CPU {used:.2f} s = {100 * used / wall:.2f} % of one core; "
              f"resident memory {resident_mib(pid):.1f} MiB; threads {len(os.listdir(f'/proc/{pid}/task'))}")
    finally:
        bot.stop()
        double.stop()


if __name__ == "__main__":
    main()
