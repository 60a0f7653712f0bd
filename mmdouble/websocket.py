"""The /api/v4/websocket endpoint and the hub that fans events out.

Recipients are decided at publish time (under the store lock) with the rules of
the real server's ShouldSendEvent; each connection then writes its events in
order from its own queue, stamping its own `seq`.
"""
import asyncio
import json
import logging
import time

from aiohttp import WSMsgType, web

from .ids import new_id
from .request_keys import TOKEN

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
    def __init__(self, state):
        self.state = state
        self.connections: set[Connection] = set()
        self.blocked_until = 0.0
        state.publish = self.publish
        state.has_listeners = lambda: bool(self.connections)

    def publish(self, event, data, *, user_id="", channel_id="", team_id="", omit_users=None):
        broadcast = {"omit_users": omit_users, "user_id": user_id, "channel_id": channel_id,
                     "team_id": team_id}
        frame = {"event": event, "data": data, "broadcast": broadcast}
        st = self.state
        with st.lock:
            for conn in list(self.connections):
                uid = conn.user_id
                if not uid:
                    continue
                if user_id:
                    if uid != user_id:
                        continue
                elif omit_users and uid in omit_users:
                    continue
                elif channel_id and not st.is_member(channel_id, uid):
                    continue
                elif team_id and not st.is_team_member(team_id, uid):
                    continue
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
                 "data": {"connection_id": conn.id, "server_version": self.state.server_version()},
                 "broadcast": {"omit_users": None, "user_id": user["id"], "channel_id": "",
                               "team_id": ""}}
        conn.enqueue(("event", hello))

    def _after_auth(self, conn, reply_seq=None):
        if reply_seq is not None:
            conn.enqueue(("raw", {"status": "OK", "seq_reply": reply_seq}))
        self.publish("status_change", {"status": "online", "user_id": conn.user_id},
                     user_id=conn.user_id)

    async def handle(self, request: web.Request):
        if time.monotonic() < self.blocked_until:
            raise web.HTTPServiceUnavailable(text="websocket connections are blocked")
        heartbeat = float(self.state.config.get("WebsocketHeartbeatSeconds") or 0) or None
        ws = web.WebSocketResponse(heartbeat=heartbeat, max_msg_size=8 * 1024)
        await ws.prepare(request)
        conn = Connection(ws, asyncio.get_running_loop())
        writer = asyncio.ensure_future(conn.writer())
        token = request.get(TOKEN)
        user = self.state.user_by_token(token) if token else None
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
            user = self.state.user_by_token(token) if isinstance(token, str) else None
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
                                  "data": {"text": "pong", "version": self.state.server_version(),
                                           "server_time": int(time.time() * 1000), "node_id": ""}}))
        elif action == "user_typing":
            data = req.get("data") or {}
            cid = data.get("channel_id", "")
            if cid and self.state.is_member(cid, conn.user_id):
                self.publish("typing", {"parent_id": data.get("parent_id", ""), "user_id": conn.user_id},
                             channel_id=cid, omit_users={conn.user_id: True})
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
