"""The command reference people see for `/incident help` and a DM saying `help`."""

from __future__ import annotations

from render.text import safe

INTRO = (
    "#### DevOps Command Center\n"
    "Run incidents where your team already talks: `/incident start` opens a channel for the incident, "
    "makes you its commander and posts its checklist."
)


def reference(subcommands: dict, trigger_emoji: str = "rotating_light") -> str:
    rows = ["| Command | What it does |", "| --- | --- |"]
    for command in sorted(subcommands.values(), key=lambda c: (c.order, c.name)):
        # a "|" inside a cell, even in code, would end the cell: escape it for the table
        rows.append(f"| `{command.usage.replace('|', chr(92) + '|')}` | {command.summary} |")
    notes = (
        "`<item>` is `3` (item 3 of the first checklist) or `2.3` (checklist 2, item 3). "
        "`<incident>` is an incident's name or its channel name. "
        f"You can also react to any post with :{trigger_emoji}: to start an incident from it, or DM me `start <name>`. "
        "`/incident metrics` counts only the incidents you can see (admins: all); the weekly digest, only public ones."
    )
    return "\n".join([INTRO, "", *rows, "", notes])


def unknown(word: str, subcommands: dict) -> str:
    return f"I don't know the command **{safe(word)}**. Type `/incident help` to see them all."
