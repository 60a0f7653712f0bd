"""`/incident help`, and `help` in a direct message to the bot."""

from __future__ import annotations

import re

from mmpy_bot import listen_to

from chat.context import ChatPlugin
from chat.registry import CommandRequest, Reply, subcommand
from render import help as help_text


class Help(ChatPlugin):
    def reference(self) -> str:
        return help_text.reference(self.chat.subcommands, self.chat.emoji)

    @subcommand("help", usage="/incident help", summary="Shows this list of commands.", order=1000)
    def help(self, request: CommandRequest) -> Reply:
        return Reply(self.reference())

    @listen_to(r"^\s*help\s*$", re.IGNORECASE, direct_only=True)
    def help_in_dm(self, message) -> None:
        self.mm.post(message.channel_id, self.reference())
