"""The /api/v4/websocket endpoint and the hub that fans events out.

Recipients are decided at publish time (under the store lock, by Rules.audience, the
real server's ShouldSendEvent); each connection then writes its events in
order from its own queue, stamping its own `seq`.
"""
import asyncio
import json
import logging
import time

from aiohttp import WSMsgType, web

from .config import server_version
from .ids import new_id
from .transport import TOKEN

log = logging.getLogger("mmdouble.websocket")

AUTH_TIMEOUT_SECONDS = 5.0


class Connection:
    def __init__(self, ws: web.WebSocketResponse, loop):
        self.id = new_id()
        self.ws = ws
        self.loop = loop
        self.user_id = ""
        self.seq = 0
        self.queue: asyncio.Queue = asyncio.Queue()

    def enqueue(self, item):
        self.loop.call_soon_threadsafe(self.queue.put_nowait, item)

    async def writer(self):
        while True:
            kind, payload = await self.queue.get()
            if kind == "close":
                await self.ws.close(code=payload)
                return
            if kind == "event":
                payload = dict(payload, seq=self.seq)
                self.seq += 1
            try:
                await self.ws.send_str(json.dumps(payload, ensure_ascii=False))
            except (ConnectionError, RuntimeError):
                return


class Hub:
    """The rules' event sink (Rules.events): publish and has_listeners."""

    def __init__(self, rules):
        self.rules = rules
        self.connections: set[Connection] = set()
        self.blocked_until = 0.0

    def has_listeners(self) -> bool:
        return bool(self.connections)

    def publish(self, event, data, *, user_id="", channel_id="", team_id="", omit_users=None, admins=None):
        """Only the rules call this, holding the store lock: each connection gets its events in
        the order the changes happened.  `admins` (see Rules.audience) is not part of the frame."""
        broadcast = {"omit_users": omit_users, "user_id": user_id, "channel_id": channel_id,
                     "team_id": team_id}
        frame = {"event": event, "data": data, "broadcast": broadcast}
        connections = list(self.connections)
        chosen = self.rules.audience({conn.user_id for conn in connections}, admins=admins, **broadcast)
        for conn in connections:
            if conn.user_id in chosen:
                conn.enqueue(("event", frame))

    def drop(self, user_id=None):
        for conn in list(self.connections):
            if user_id is None or conn.user_id == user_id:
                conn.enqueue(("close", 1001))

    def block(self, seconds: float):
        self.blocked_until = time.monotonic() + seconds

    def _authenticate(self, conn, user):
        conn.user_id = user["id"]
        self.connections.add(conn)
        hello = {"event": "hello",
                 "data": {"connection_id": conn.id, "server_version": server_version()},
                 "broadcast": {"omit_users": None, "user_id": user["id"], "channel_id": "",
                               "team_id": ""}}
        conn.enqueue(("event", hello))

    def _after_auth(self, conn, reply_seq=None):
        if reply_seq is not None:
            conn.enqueue(("raw", {"status": "OK", "seq_reply": reply_seq}))
        self.rules.announce_online(conn.user_id)

    async def handle(self, request: web.Request):
        if time.monotonic() < self.blocked_until:
            raise web.HTTPServiceUnavailable(text="websocket connections are blocked")
        heartbeat = float(self.rules.config().get("WebsocketHeartbeatSeconds") or 0) or None
        ws = web.WebSocketResponse(heartbeat=heartbeat, max_msg_size=8 * 1024)
        await ws.prepare(request)
        conn = Connection(ws, asyncio.get_running_loop())
        writer = asyncio.ensure_future(conn.writer())
        token = request.get(TOKEN)
        user = self.rules.user_by_token(token) if token else None
        if user:
            self._authenticate(conn, user)
            self._after_auth(conn)
        auth_deadline = None if user else asyncio.get_running_loop().time() + AUTH_TIMEOUT_SECONDS
        try:
            while True:
                timeout = None
                if not conn.user_id and auth_deadline is not None:
                    timeout = max(0.0, auth_deadline - asyncio.get_running_loop().time())
                try:
                    msg = await asyncio.wait_for(ws.receive(), timeout)
                except asyncio.TimeoutError:
                    break
                if msg.type != WSMsgType.TEXT:
                    break
                if not self._on_message(conn, msg.data):
                    break
        finally:
            self.connections.discard(conn)
            writer.cancel()
            if not ws.closed:
                await ws.close()
        return ws

    def _on_message(self, conn, raw) -> bool:
        """Handle one client request; False closes the connection."""
        try:
            req = json.loads(raw)
        except ValueError:
            return False
        action, seq = req.get("action", ""), req.get("seq", 0)
        if not action:
            conn.enqueue(("raw", self._fail(seq, 400, "api.web_socket_router.no_action.app_error")))
            return True
        if not isinstance(seq, int) or seq <= 0:
            conn.enqueue(("raw", self._fail(seq, 400, "api.web_socket_router.bad_seq.app_error")))
            return True
        if action == "authentication_challenge":
            if conn.user_id:
                return True
            token = (req.get("data") or {}).get("token")
            user = self.rules.user_by_token(token) if isinstance(token, str) else None
            if not user:
                return False
            self._authenticate(conn, user)
            self._after_auth(conn, reply_seq=seq)
            return True
        if not conn.user_id:
            conn.enqueue(("raw", self._fail(seq, 401, "api.web_socket_router.not_authenticated.app_error")))
            return True
        if action == "ping":
            conn.enqueue(("raw", {"status": "OK", "seq_reply": seq,
                                  "data": {"text": "pong", "version": server_version(),
                                           "server_time": int(time.time() * 1000), "node_id": ""}}))
        elif action == "user_typing":
            data = req.get("data") or {}
            self.rules.user_typing(conn.user_id, data.get("channel_id", ""), data.get("parent_id", ""))
            conn.enqueue(("raw", {"status": "OK", "seq_reply": seq}))
        elif action in ("get_statuses", "get_statuses_by_ids", "user_update_active_status"):
            conn.enqueue(("raw", {"status": "OK", "seq_reply": seq, "data": {}}))
        else:
            conn.enqueue(("raw", self._fail(seq, 500, "api.web_socket_router.bad_action.app_error")))
        return True

    @staticmethod
    def _fail(seq, status, err_id):
        return {"status": "FAIL", "seq_reply": seq,
                "error": {"id": err_id, "message": err_id, "detailed_error": "",
                          "status_code": status}}
