"""`/incident help`, and `help` in a direct message to the bot."""

from __future__ import annotations

import re

from mmpy_bot import Plugin, listen_to

from chat.registry import CommandRequest, Reply, subcommand
from render import help as help_text


class Help(Plugin):
    def attach(self, bot) -> None:
        self.bot = bot
        self.emoji = bot.app_settings.bot.trigger_emoji

    def reference(self) -> str:
        return help_text.reference(self.bot.subcommands, self.emoji)

    @subcommand("help", usage="/incident help", summary="Shows this list of commands.", order=1000)
    def help(self, request: CommandRequest) -> Reply:
        return Reply(self.reference())

    @listen_to(r"^\s*help\s*$", re.IGNORECASE, direct_only=True)
    def help_in_dm(self, message) -> None:
        self.bot.mattermost.post(message.channel_id, self.reference())
