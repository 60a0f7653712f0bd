"""Simulated human users for tests: REST through mattermostdriver, events from a websocket thread.

mattermostdriver is an independent client, so using it here also proves the
double speaks the wire format real clients expect.
"""
import json
import threading
import time
from urllib.parse import urlsplit

import requests
from mattermostdriver import Driver
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

# Fields the server sends as JSON strings inside event data.
JSON_STRING_FIELDS = ("post", "channel", "reaction", "mentions", "dialog", "followers", "thread")


def decode_event(frame: dict) -> dict:
    event = dict(frame)
    data = dict(frame.get("data") or {})
    for key in JSON_STRING_FIELDS:
        if isinstance(data.get(key), str):
            try:
                data[key] = json.loads(data[key])
            except ValueError:
                pass
    event["data"] = data
    return event


class SimUser:
    def __init__(self, url: str, token: str, *, connect_websocket: bool = True, timeout: float = 10):
        parts = urlsplit(url)
        self.url = url.rstrip("/")
        self.token = token
        self.driver = Driver({"url": parts.hostname, "port": parts.port or 80, "scheme": parts.scheme,
                              "token": token, "basepath": "/api/v4", "verify": False,
                              "request_timeout": timeout})
        self.driver.login()
        self.me = self.driver.users.get_user("me")
        self.id = self.me["id"]
        self.events: list[dict] = []
        self.frames: list[dict] = []
        self._consumed: set[int] = set()
        self._cond = threading.Condition()
        self._ws = None
        self._reader = None
        self._context = {"channel_id": "", "team_id": ""}
        if connect_websocket:
            self._connect(timeout)

    # ------------------------------------------------------------------ websocket
    def _connect(self, timeout):
        ws_url = self.url.replace("http", "ws", 1) + "/api/v4/websocket"
        self._ws = connect(ws_url, open_timeout=timeout, max_size=None, legacy=True)
        self._ws.send(json.dumps({"seq": 1, "action": "authentication_challenge",
                                  "data": {"token": self.token}}))
        self._reader = threading.Thread(target=self._read, name=f"simuser-{self.me['username']}", daemon=True)
        self._reader.start()
        # Only once hello arrived is the connection registered for events; wait so no event is missed.
        self.wait_event("hello", timeout=timeout)

    def _read(self):
        try:
            for raw in self._ws:
                frame = json.loads(raw)
                with self._cond:
                    self.frames.append(frame)
                    if "event" in frame:
                        self.events.append(decode_event(frame))
                    self._cond.notify_all()
        except (ConnectionClosed, OSError):
            pass
        finally:
            with self._cond:
                self._cond.notify_all()

    @property
    def connected(self) -> bool:
        return self._reader is not None and self._reader.is_alive()

    def wait_event(self, name, predicate=None, timeout=10) -> dict:
        """Return the next not yet returned event called `name` matching `predicate`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i, ev in enumerate(self.events):
                    if i in self._consumed or ev.get("event") != name:
                        continue
                    if predicate is None or predicate(ev):
                        self._consumed.add(i)
                        return ev
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [e.get("event") for e in self.events]
                    raise TimeoutError(f"{self.me['username']}: no {name!r} event within {timeout}s; got {seen}")
                self._cond.wait(left)

    def event_names(self) -> list[str]:
        with self._cond:
            return [e.get("event") for e in self.events]

    def clear_events(self):
        with self._cond:
            self.events.clear()
            self._consumed.clear()

    def close(self):
        if self._ws is not None:
            self._ws.close()
            self._reader.join(5)
            self._ws = None

    # ------------------------------------------------------------------ REST
    def post(self, channel_id, text, root_id="", **extra) -> dict:
        body = {"channel_id": channel_id, "message": text, "root_id": root_id}
        body.update(extra)
        return self.driver.posts.create_post(options=body)

    def run_command(self, channel_id, command, team_id=None, root_id="") -> dict:
        if team_id is None:
            team_id = self._team_of(channel_id)
        self._context = {"channel_id": channel_id, "team_id": team_id}
        return self.driver.client.post("/commands/execute", options={
            "channel_id": channel_id, "team_id": team_id, "command": command, "root_id": root_id})

    def react(self, post_id, emoji_name) -> dict:
        return self.driver.reactions.create_reaction(options={
            "user_id": self.id, "post_id": post_id, "emoji_name": emoji_name})

    def unreact(self, post_id, emoji_name):
        return self.driver.client.delete(f"/users/{self.id}/posts/{post_id}/reactions/{emoji_name}")

    def _raw(self, method, endpoint, body):
        """A call that reports 4xx/5xx instead of raising (mattermostdriver raises and drops the body)."""
        client = self.driver.client
        resp = requests.request(method, client.url + endpoint, headers=client.auth_header(), json=body,
                                verify=False, timeout=30)
        try:
            payload = resp.json()
        except ValueError:
            payload = resp.text
        return resp.status_code, payload

    def click(self, post_id, action_id, cookie=None, selected_option=None):
        body = {}
        if cookie:
            body["cookie"] = cookie
        if selected_option is not None:
            body["selected_option"] = selected_option
        post = None
        try:
            post = self.driver.posts.get_post(post_id)
        except Exception:  # ephemeral or unreadable posts: fall back to the last context
            pass
        if post:
            self._context = {"channel_id": post["channel_id"], "team_id": self._team_of(post["channel_id"])}
        return self._raw("POST", f"/posts/{post_id}/actions/{action_id}", body)

    def pick_user(self, username: str) -> str:
        """What a dialog's user picker (`data_source: users`) submits for `username`: the id of
        the user chosen among those the web app's autocomplete offers as one types the name."""
        offered = self.driver.users.autocomplete_users(params={"name": username})["users"]
        chosen = [u for u in offered if u["username"] == username.lstrip("@")]
        if not chosen:
            raise LookupError(f"the user picker offers no @{username.lstrip('@')}: {[u['username'] for u in offered]}")
        return chosen[0]["id"]

    def submit_dialog(self, dialog, submission: dict, cancelled=False, channel_id=None, team_id=None):
        """`dialog` is an open_dialog event, its decoded data["dialog"], or that payload's "dialog"."""
        if isinstance(dialog, dict) and dialog.get("event") == "open_dialog":
            dialog = dialog["data"]["dialog"]
        if isinstance(dialog, str):
            dialog = json.loads(dialog)
        url = dialog.get("url", "")
        inner = dialog.get("dialog", dialog)
        channel_id = channel_id or self._context["channel_id"]
        team_id = team_id if team_id is not None else (self._context["team_id"] or self._team_of(channel_id))
        body = {"url": url, "callback_id": inner.get("callback_id", ""), "state": inner.get("state", ""),
                "channel_id": channel_id, "team_id": team_id,
                "submission": {} if cancelled else submission, "cancelled": cancelled}
        return self._raw("POST", "/actions/dialogs/submit", body)

    def _team_of(self, channel_id) -> str:
        try:
            chan = self.driver.channels.get_channel(channel_id)
        except Exception:
            return ""
        if chan.get("team_id"):
            return chan["team_id"]
        teams = self.driver.teams.get_user_teams(self.id)
        return teams[0]["id"] if teams else ""
