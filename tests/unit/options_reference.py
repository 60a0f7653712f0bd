"""The hand-written parsers `chat/options.py` replaced, kept as the reference it must read like.

`/incident start` and `/incident backstage` were parsed by these until the shared parser came;
people's muscle memory (and the help text) was built on what they accept and what they say.
"""

from __future__ import annotations

from chat.options import split_args
from chat.registry import UsageError
from render.text import safe
from services import backstage

OPTIONS = ("--status", "--commander", "--search", "--sort", "--page")


def is_number(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 9


def parse_start(args: str) -> tuple[str, str | None, bool | None]:
    words = split_args(args)
    name_words, playbook, private = [], None, None
    index = 0
    while index < len(words):
        word = words[index]
        if word == "--playbook":
            if index + 1 >= len(words):
                raise UsageError("--playbook needs a title.")
            playbook = words[index + 1]
            index += 2
            continue
        if word in ("--private", "--public"):
            if private is not None:
                raise UsageError("Choose one of --private and --public.")
            private = word == "--private"
        elif word.startswith("--"):
            raise UsageError(f"I don't know the option {safe(word)}.")
        else:
            name_words.append(word)
        index += 1
    if not name_words:
        raise UsageError("Give the incident a name.")
    return " ".join(name_words), playbook, private


def parse_backstage(args: str) -> tuple[dict, str | None]:
    """Filter values and the commander's name as typed; raises UsageError on nonsense."""
    words = split_args(args)
    values: dict = {}
    commander = None
    index = 0
    while index < len(words):
        option = words[index].lower()
        if option not in OPTIONS:
            raise UsageError(f"I don't know the option {safe(words[index])}.")
        if option in values or (option == "--commander" and commander is not None):
            raise UsageError(f"{option} is given twice.")
        # --search takes every word up to the next option, so quotes are optional
        end = index + 1
        while end < len(words) and (option == "--search" or end == index + 1) and words[end].lower() not in OPTIONS:
            end += 1
        value = " ".join(words[index + 1:end])
        if not value:
            raise UsageError(f"{option} needs a value.")
        index = end
        if option == "--status":
            if value.lower() not in backstage.STATUSES:
                raise UsageError("--status is ongoing or ended.")
            values["status"] = value.lower()
        elif option == "--sort":
            if value.lower() not in backstage.SORTS:
                raise UsageError("--sort is start, end or name.")
            values["sort"] = value.lower()
        elif option == "--page":
            if not is_number(value) or int(value) < 1:
                raise UsageError("--page is a whole number from 1.")
            values["page"] = int(value)
        elif option == "--search":
            values["search"] = value
        else:
            commander = value
            values["--commander"] = value
    values.pop("--commander", None)
    return values, commander
