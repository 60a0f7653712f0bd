"""The HTTP endpoints Mattermost calls: slash commands, button clicks, dialog submissions.

This is mmpy-bot's `WebHookServer`, extended in three ways the product needs:
- slash commands arrive form-encoded with `Authorization: Token <command token>`; mmpy-bot
  only parses JSON;
- nothing reaches a handler unless it is authentic: a registered command token
  (constant-time compare) or a context/state signed by this bot;
- the handler runs on a thread pool and its answer is returned directly, instead of
  travelling through mmpy-bot's queues, whose busy-polling loops cost ~15 % of a core idle.

Handlers are mmpy-bot `listen_webhook` functions that *return* their answer. The webhook id
they listen to is `command:<trigger>`, `action:<name>` or `dialog:<name>`, the name coming
from the signed payload, so a plugin never sees an unverified request. A button's context and
a dialog's state reach the handler as typed values (`render.callbacks`), already checked to
belong to the person who sent them. A handler may raise a `DomainError`: its message reaches
the person in the shape the callback needs.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Callable, Iterable

from aiohttp import web
from mmpy_bot.webhook_server import WebHookServer
from mmpy_bot.wrappers import ActionEvent, WebHookEvent

from chat.signing import ForgedPayload, Signer
from render import callbacks
from render.text import inert
from services.errors import DomainError

if TYPE_CHECKING:
    from mmpy_bot.function import WebHookFunction

log = logging.getLogger("incident.web")

COMMAND_PATH = "/hooks/command"
ACTION_PATH = "/hooks/action"
DIALOG_PATH = "/hooks/dialog"
JSON = "application/json"


class CommandTokens:
    """The tokens Mattermost issued for the bot's slash commands, one per team."""

    def __init__(self, fallback: Callable[[str], str | None] | None = None) -> None:
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()
        self._fallback = fallback

    def set(self, team_id: str, token: str) -> None:
        with self._lock:
            self._tokens[team_id] = token

    def is_valid(self, token: str, team_id: str) -> bool:
        """Is this the token Mattermost issued for /incident in that team?

        Bound to the team: a team admin can read their own team's command token, and must
        not be able to use it to act in another team.
        """
        with self._lock:
            expected = self._tokens.get(team_id)
        if expected is None and self._fallback is not None and team_id:
            expected = self._fallback(team_id)  # registered by another replica meanwhile
            if expected:
                self.set(team_id, expected)
        if not token or not expected:
            return False
        return hmac.compare_digest(expected.encode(), token.encode("utf-8", "surrogatepass"))

    def __len__(self) -> int:
        return len(self._tokens)


def _json(payload: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=json.dumps(payload).encode(), content_type=JSON)


def _refuse(status: int, reason: str) -> web.Response:
    return _json({"error": reason}, status=status)


class CallbackServer(WebHookServer):
    def __init__(
        self,
        host: str,
        port: int,
        signer: Signer,
        tokens: CommandTokens,
        listeners: Callable[[], Iterable[tuple[re.Pattern[str], list[WebHookFunction]]]],
        worker_threads: int = 8,
    ):
        super().__init__(url=host, port=port)
        self.host = host
        self.signer = signer
        self.tokens = tokens
        self._listeners = listeners
        self._executor = ThreadPoolExecutor(max_workers=worker_threads, thread_name_prefix="callback")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self.app.router.add_get("/healthz", self._health)

    # ---- lifecycle: our own thread and loop, idle until a request comes -------------------
    def start_in_thread(self) -> None:
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._stop = asyncio.Event()
            try:
                loop.run_until_complete(self._start_site())
            except BaseException as exc:  # reported to the starting thread
                failure.append(exc)
                started.set()
                return
            started.set()
            loop.run_until_complete(self._stop.wait())
            loop.run_until_complete(self.app_runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="callback-server", daemon=True)
        self._thread.start()
        started.wait()
        if failure:
            raise failure[0]

    async def _start_site(self) -> None:
        await self.app_runner.setup()
        site = web.TCPSite(self.app_runner, self.host, self.port)
        await site.start()
        self.running = True
        log.info("listening for Mattermost callbacks on %s:%s", self.host, self.port)

    def stop_thread(self) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread:
            self._thread.join(timeout=5)
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.running = False

    async def _health(self, request: web.Request) -> web.Response:
        return _json({"status": "OK"})

    # ---- requests -----------------------------------------------------------------------
    async def process_webhook(self, request: web.Request) -> web.Response:
        kind = request.match_info.get("webhook_id", "")
        try:
            body = await self._read_body(request)
        except ValueError as exc:
            return _refuse(400, str(exc))
        try:
            webhook_id = self._authenticate(kind, request, body)
        except Exception as exc:  # forged, or junk that breaks the checks: refused all the same
            log.warning("refused a %s callback from %s: %s", kind, request.remote, exc)
            return _refuse(401, "this request was not issued by the incident bot")
        refusal = self._not_theirs(body)
        if refusal is not None:
            return _json(answer(webhook_id, refusal))
        event = self._event(webhook_id, body)
        started = time.perf_counter()
        response = await asyncio.get_running_loop().run_in_executor(self._executor, self._dispatch, event)
        log.debug("%s answered in %.1f ms", webhook_id, (time.perf_counter() - started) * 1000)
        return _json(response or {})

    async def _read_body(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/x-www-form-urlencoded":
            form = await request.post()
            return {key: form.get(key) for key in form.keys()}
        if request.content_type == JSON:
            try:
                body = await request.json()
            except ValueError:
                raise ValueError("the body is not valid JSON") from None
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            return body
        raise ValueError("expected application/json or application/x-www-form-urlencoded")

    def _authenticate(self, kind: str, request: web.Request, body: dict[str, Any]) -> str:
        """The webhook id to dispatch on, once the request is proven authentic."""
        if kind == "command":
            header = request.headers.get("Authorization", "")
            token = header[len("Token "):].strip() if header.startswith("Token ") else str(body.get("token") or "")
            if not self.tokens.is_valid(token, str(body.get("team_id") or "")):
                raise ForgedPayload("unknown slash command token")
            trigger = str(body.get("command") or "").lstrip("/")
            return f"command:{trigger}"
        if kind == "action":
            body["context"] = callbacks.read("action", self.signer.verify_context(body.get("context")))
            return f"action:{body['context'].name}"
        if kind == "dialog":
            body["state"] = callbacks.read("dialog", self.signer.verify_state(body.get("state")))
            return f"dialog:{body['state'].name}"
        raise ForgedPayload(f"unknown callback kind {kind!r}")

    @staticmethod
    def _not_theirs(body: dict[str, Any]) -> str | None:
        """Why this person may not use the button or dialog they sent, if it was made for another."""
        signed = body.get("context") or body.get("state")
        if not isinstance(signed, callbacks.Callback) or not signed.for_user or body.get("cancelled"):
            return None
        return None if body.get("user_id") == signed.for_user else signed.not_yours

    @staticmethod
    def _event(webhook_id: str, body: dict[str, Any]) -> WebHookEvent:
        request_id = str(body.get("trigger_id") or f"{time.time()}")
        if body.get("trigger_id"):
            return ActionEvent(body, request_id=request_id, webhook_id=webhook_id)
        return WebHookEvent(body, request_id=request_id, webhook_id=webhook_id)

    def _dispatch(self, event: WebHookEvent) -> Any:
        """Run the listener for this event on a worker thread and return its answer.

        Handlers return the JSON answer for Mattermost. An exception is logged with its
        traceback and the person gets a polite message instead of a stack trace.
        """
        for matcher, functions in self._listeners():
            if not matcher.search(event.webhook_id):
                continue
            for function in functions:
                try:
                    return function.function(function.plugin, event)
                except DomainError as exc:  # a sentence for the person, e.g. "This dialog was opened for someone else."
                    return answer(event.webhook_id, inert(exc.message))
                except Exception:
                    log.exception("handler %s failed on %s", function.name, event.webhook_id)
                    return apology(event.webhook_id)
        log.warning("no handler for callback %s", event.webhook_id)
        return apology(event.webhook_id)


SORRY = "Sorry, something went wrong on the incident bot's side. It has been logged; please try again."


def answer(webhook_id: str, text: str) -> dict[str, Any]:
    """Text for the person, in the shape each kind of callback expects."""
    if webhook_id.startswith("command:"):
        return {"response_type": "ephemeral", "text": text}
    if webhook_id.startswith("dialog:"):
        return {"error": text}
    return {"ephemeral_text": text}


def apology(webhook_id: str) -> dict[str, Any]:
    """The polite answer for a failed handler."""
    return answer(webhook_id, SORRY)
