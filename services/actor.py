"""Who is acting, as the chat layer knows them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


def _member_of_nothing(channel_id: str) -> bool:
    return False


@dataclass(frozen=True)
class Actor:
    """The user behind a command or button, in the team they are acting from.

    `is_team_admin` is about `team_id` only: a team admin acting on another team's
    incident or playbook counts as an outsider there. `is_channel_member` is asked
    lazily (the chat layer answers from Mattermost, cached), so the services only
    ask about channels that matter to the decision.
    """

    user_id: str
    username: str
    team_id: str
    is_system_admin: bool = False
    is_team_admin: bool = False
    is_channel_member: Callable[[str], bool] = field(
        default=_member_of_nothing, compare=False, repr=False
    )

    def in_team(self, team_id: str) -> bool:
        return self.team_id == team_id

    def is_admin_of(self, team_id: str) -> bool:
        return self.is_system_admin or (self.is_team_admin and self.team_id == team_id)

    @property
    def mention(self) -> str:
        return f"@{self.username}"
