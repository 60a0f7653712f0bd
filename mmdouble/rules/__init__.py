"""The server's behaviour: every rule of the double, as methods on one object under one lock.

Methods take ids and plain values and return plain dicts (copies, safe to use after the
lock is released) or raise AppError; HTTP lives in mmdouble.routes, records in mmdouble.store.
"""
from ..store import Store
from .actions import ActionRules
from .channels import ChannelRules
from .commands import CommandRules
from .files import FileRules
from .inspection import InspectionRules
from .system import SystemRules
from .teams import TeamRules
from .users import UserRules


class Rules(UserRules, TeamRules, ChannelRules, CommandRules, ActionRules, FileRules, InspectionRules,
            SystemRules):
    @property
    def store(self) -> Store:
        """The records themselves, for tests that set what no API can; hold `store.lock`."""
        return self._store


__all__ = ["Rules"]
