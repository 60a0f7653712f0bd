"""A Mattermost 5.37 test double: real HTTP + WebSocket server on aiohttp.

Three parts: `store` (the records), `rules` (the server's behaviour, run under the store's
lock) and the transport (`transport` helpers, `routes/`, `websocket`, put together by `app`).
`seeding` is the one way to fill a double, in this process (`MattermostDouble`) or in
another one over HTTP (`remote.RemoteDouble`).
"""
from .server import MattermostDouble

__all__ = ["MattermostDouble"]
