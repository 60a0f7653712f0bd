"""A Mattermost 5.37 test double: real HTTP + WebSocket server on aiohttp."""
from .server import MattermostDouble

__all__ = ["MattermostDouble"]
