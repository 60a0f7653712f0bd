"""Subcommands of `/incident`, declared next to the code that handles them.

A plugin method decorated with `@subcommand("start", usage=..., summary=...)` handles
`/incident start ...`; `chat/bot.py` collects them at start and `plugins/slash.py` routes to them. Grep for
`@subcommand("start"` to find where a subcommand lives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from mmpy_bot import Plugin

_MARK = "__incident_subcommand__"


@dataclass(frozen=True)
class CommandRequest:
    """A person's `/incident ...` (or a DM to the bot), as the handlers see it."""

    user_id: str
    user_name: str
    channel_id: str
    team_id: str
    args: str
    trigger_id: str = ""


@dataclass
class Reply:
    """What the person sees. Slash replies are ephemeral unless `in_channel` is set."""

    text: str = ""
    attachments: list[dict[str, Any]] = field(default_factory=list)
    in_channel: bool = False
    goto: str = ""

    def as_command_response(self) -> dict[str, Any]:
        answer: dict[str, Any] = {"response_type": "in_channel" if self.in_channel else "ephemeral", "text": self.text}
        if self.attachments:
            answer["attachments"] = self.attachments
        if self.goto:
            answer["goto_location"] = self.goto
        return answer


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str
    summary: str
    order: int
    handler: Callable[[CommandRequest], Reply | None]


# a subcommand's handler as declared in its plugin: (self, request)
_Method = TypeVar("_Method", bound=Callable[[Any, CommandRequest], Reply | None])


def subcommand(name: str, usage: str, summary: str, order: int = 100) -> Callable[[_Method], _Method]:
    def mark(function: _Method) -> _Method:
        setattr(function, _MARK, (name, usage, summary, order))
        return function

    return mark


def collect(plugins: list[Plugin]) -> dict[str, Subcommand]:
    found: dict[str, Subcommand] = {}
    for plugin in plugins:
        for attribute in dir(type(plugin)):
            method = getattr(plugin, attribute, None)
            spec = getattr(method, _MARK, None)
            if spec is None:
                continue
            name, usage, summary, order = spec
            if name in found:
                raise ValueError(f"two handlers for /incident {name}")
            found[name] = Subcommand(name, usage, summary, order, method)  # type: ignore[arg-type]  # marked: a method
    return found


class UsageError(Exception):
    """Wrong arguments: the reply is the subcommand's usage line."""
