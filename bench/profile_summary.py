"""Where a py-spy profile's samples went, in words: by thread, by the project's own frames, by library.

    .venv/bin/python bench/profile_summary.py /tmp/prof/bot-click.txt [--top 25] [--under flows/checklists.py]

Reads py-spy's raw output (`py-spy record --format raw`, what bench/incident_bench.py --profile
writes): one line per distinct stack, `thread (tid): name;frame;frame;... count`. Prints the
share of samples of each thread, the frames of the project (inclusive: a frame and all it
called), and the leaf frames by library (exclusive: who was on the CPU).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^:()]+):\d+\)$")
PROJECT = ("bot.py", "chat/", "flows/", "services/", "render/", "models/", "plugins/", "config/", "telemetry/")


def parse(path: Path) -> list[tuple[str, list[str], int]]:
    stacks = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        thread = frames[0].split(":", 1)[1].strip() if ":" in frames[0] else frames[0]
        thread = re.sub(r"_\d+$", "", thread)
        stacks.append((thread, frames[1:], int(count)))
    return stacks


def place(frame: str) -> tuple[str, str]:
    found = FRAME.match(frame)
    return (found["function"], found["file"]) if found else (frame, "?")


def library(file: str) -> str:
    if file.startswith(PROJECT):
        return file.split("/")[0] if "/" in file else file
    return file.split("/")[0].removesuffix(".py")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--under", default="", help="only stacks through a frame of this file (e.g. flows/checklists.py)")
    args = parser.parse_args()
    stacks = [s for s in parse(args.profile) if not args.under or any(args.under in f for f in s[1])]
    total = sum(count for _, _, count in stacks) or 1
    threads, inclusive, leaves = Counter(), Counter(), Counter()
    for thread, frames, count in stacks:
        threads[thread] += count
        seen = set()
        for frame in frames:
            function, file = place(frame)
            if file.startswith(PROJECT) and (function, file) not in seen:
                seen.add((function, file))
                inclusive[f"{file}:{function}"] += count
        if frames:
            leaves[library(place(frames[-1])[1])] += count
    print(f"{args.profile}: {total} samples")
    print("by thread:")
    for name, count in threads.most_common():
        print(f"  {100 * count / total:5.1f} %  {name}")
    print("project frames, inclusive:")
    for name, count in inclusive.most_common(args.top):
        print(f"  {100 * count / total:5.1f} %  {name}")
    print("on the CPU (leaf frame), by library:")
    for name, count in leaves.most_common(12):
        print(f"  {100 * count / total:5.1f} %  {name}")


if __name__ == "__main__":
    main()
