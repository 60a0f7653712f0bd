"""What the flows need from Mattermost, and nothing more.

`chat.gateway.Mattermost` implements it against a real server; tests can hand the flows a
fake. Flows never import the chat layer: they see Mattermost only through this port.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, BinaryIO, Iterator, Protocol, Sequence


class ChatError(Exception):
    """Mattermost refused or failed a call: its HTTP status and its error id."""

    def __init__(self, status: int, error_id: str, message: str):
        super().__init__(f"{status} {error_id}: {message}")
        self.status = status
        self.error_id = error_id
        self.message = message


@dataclass(frozen=True)
class Upload:
    """A file to attach to a post."""

    name: str
    content: bytes | BinaryIO  # a file object is streamed, not read into memory


class ChatPort(Protocol):
    @property
    def bot_user_id(self) -> str: ...

    def user(self, user_id: str) -> dict[str, Any]: ...

    def team(self, team_id: str) -> dict[str, Any]: ...

    def channel(self, channel_id: str) -> dict[str, Any]: ...

    def is_channel_member(self, channel_id: str, user_id: str) -> bool: ...

    def channel_by_name(self, team_id: str, name: str) -> dict[str, Any] | None:
        """The team's channel called `name` (archived ones too), or None."""
        ...

    def member_channel_ids(self, user_id: str, team_id: str) -> frozenset[str]:
        """The channels of the team the user is in, archived ones included."""
        ...

    def create_channel(self, team_id: str, name: str, display_name: str, private: bool, purpose: str = "",
                       header: str = "") -> dict[str, Any]: ...

    def add_member(self, channel_id: str, user_id: str) -> None: ...

    def archive_channel(self, channel_id: str) -> None: ...

    def restore_channel(self, channel_id: str) -> dict[str, Any]: ...

    def post(self, channel_id: str, message: str, props: dict[str, Any] | None = None, root_id: str = "",
             file_ids: list[str] | None = None) -> dict[str, Any]: ...

    def get_post(self, post_id: str) -> dict[str, Any]: ...

    def upload(self, channel_id: str, upload: Upload) -> dict[str, Any]: ...

    def direct_message(self, user_id: str, message: str, props: dict[str, Any] | None = None,
                       uploads: Sequence[Upload] = ()) -> dict[str, Any]: ...

    def patch_post(self, post_id: str, message: str | None = None,
                   props: dict[str, Any] | None = None) -> dict[str, Any]: ...

    def delete_post(self, post_id: str) -> None: ...

    def channel_post_pages(self, channel_id: str) -> Iterator[list[dict[str, Any]]]:
        """Every post of the channel, a page at a time, newest first."""
        ...

    def client_config(self) -> dict[str, Any]:
        """The server's settings as clients see them (ShowEmailAddress, ...)."""
        ...

    # ---- catching up after the websocket was down (flows/missed_events.py) ------------------
    def bot_channels(self) -> list[dict[str, Any]]:
        """The live channels the bot is in, in all its teams, its direct messages included (once each)."""
        ...

    def posts_since(self, channel_id: str, since_ms: int) -> list[dict[str, Any]]:
        """The channel's posts created or changed (edited, deleted, reacted to) since `since_ms`, oldest first."""
        ...

    def post_reactions(self, post_id: str) -> list[dict[str, Any]]: ...
