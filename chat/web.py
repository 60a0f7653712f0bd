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
import contextvars
import functools
import hmac
import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable

from aiohttp import web
from mmpy_bot.webhook_server import WebHookServer
from mmpy_bot.wrappers import ActionEvent, WebHookEvent

from chat import json_codec, loops, metrics
from chat.alert_hooks import ROUTE as ALERT_ROUTE
from chat.alert_hooks import AlertHooks
from chat.health import Readiness
from chat.logs import log_ids
from chat.signing import ForgedPayload, Signer
from config.settings import BotSettings
from models.db import DatabaseUnavailable, with_reconnect
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


TOKEN_REFRESH_SECONDS = 10.0  # at most one look at Mattermost per team in this time
_TEAM_ID = re.compile(r"[A-Za-z0-9]{1,64}")


class CommandTokens:
    """The tokens Mattermost issued for the bot's slash commands, one per team.

    A team's token changes under the bot when an admin regenerates it (`PUT /commands/{id}/regen_token`)
    or another replica registers the command again. So an unknown token for a team the bot serves
    is checked against the database (another replica's registration) and then, at most once per
    `refresh_seconds` per team, against Mattermost itself (`refresh`: the team's command as it is now,
    made again if it was deleted). A team the bot never served costs no look anywhere.
    """

    def __init__(self, fallback: Callable[[str], str | None] | None = None, refresh: Callable[[str], str | None] | None = None,
                 refresh_seconds: float = TOKEN_REFRESH_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()
        self._team_locks: dict[str, threading.Lock] = {}
        self._refreshed: dict[str, float] = {}
        self._fallback = fallback
        self._refresh = refresh
        self._refresh_seconds = refresh_seconds
        self._clock = clock

    def set(self, team_id: str, token: str) -> None:
        with self._lock:
            self._tokens[team_id] = token

    def refresh_with(self, refresh: Callable[[str], str | None]) -> None:
        """How to ask Mattermost for a team's current token (once the bot has logged in)."""
        self._refresh = refresh

    def is_valid(self, token: str, team_id: str) -> bool:
        """Is this the token Mattermost issued for /incident in that team?

        Bound to the team: a team admin can read their own team's command token, and must
        not be able to use it to act in another team. May call Mattermost: not on an event loop.
        """
        if not token or not _TEAM_ID.fullmatch(team_id or ""):
            return False
        if _same_token(token, self.get(team_id)):
            return True
        with self._team_lock(team_id):  # one look per team at a time; the others then see its result
            known = self.get(team_id)
            if _same_token(token, known):
                return True
            stored = self._fallback(team_id) if self._fallback is not None else None
            if stored and stored != known:
                self.set(team_id, stored)  # registered again by another replica meanwhile
                if _same_token(token, stored):
                    return True
            if not (known or stored) or self._refresh is None or not self._may_refresh(team_id):
                return False
            fresh = self._refresh(team_id)
            if fresh:
                self.set(team_id, fresh)
            return _same_token(token, fresh)

    def get(self, team_id: str) -> str | None:
        """The token this process knows for the team."""
        with self._lock:
            return self._tokens.get(team_id)

    def _team_lock(self, team_id: str) -> threading.Lock:
        with self._lock:
            return self._team_locks.setdefault(team_id, threading.Lock())

    def _may_refresh(self, team_id: str) -> bool:
        now = self._clock()
        last = self._refreshed.get(team_id)
        if last is not None and now - last < self._refresh_seconds:
            return False
        self._refreshed[team_id] = now
        return True

    def __len__(self) -> int:
        return len(self._tokens)


def _same_token(received: str, expected: str | None) -> bool:
    """Constant-time compare that survives junk from outside (non-ASCII, lone surrogates)."""
    return bool(expected) and hmac.compare_digest(str(expected).encode(), received.encode("utf-8", "surrogatepass"))


DAY_SECONDS = 86_400.0
SECRET_PARAMETER = "secret"  # in the query of the action URL the bot gives Mattermost


@dataclass(frozen=True)
class CallbackChecks:
    """What a signed click or dialog must also satisfy (settings `[bot] callback_secret`, `callback_max_age_days`).

    Mattermost sends clicks with no credential. With `secret` set, a click must come to the action
    URL that carries it: Mattermost keeps integration URLs of message buttons to itself (its posts
    and events show clients none), so only a request Mattermost made has it. Dialog URLs are
    another matter: the person's client sees the dialog's URL and names it when submitting (see
    the contract recordings), so the secret stays out of them; a dialog's signed state is bound
    to the one person it was opened for anyway.

    Contexts and states older than `max_age_seconds` are refused. Those from before they carried
    an issue time count as issued when this version first ran (`untimed_since`, Unix seconds;
    None: accepted as they are), so they age out like the others instead of working for ever.
    """

    secret: str = ""
    max_age_seconds: float = 30 * DAY_SECONDS
    untimed_since: float | None = None

    @classmethod
    def from_settings(cls, bot: BotSettings, timed_since_ms: int | None) -> "CallbackChecks":
        return cls(secret=bot.callback_secret, max_age_seconds=bot.callback_max_age_days * DAY_SECONDS,
                   untimed_since=None if timed_since_ms is None else timed_since_ms / 1000)

    def too_old(self, issued_at: int, now: float) -> bool:
        issued = issued_at or self.untimed_since
        return issued is not None and now - issued > self.max_age_seconds

    @property
    def max_age(self) -> str:
        days, hours = self.max_age_seconds / DAY_SECONDS, self.max_age_seconds / 3600
        return f"{days:g} day{'' if days == 1 else 's'}" if days >= 1 else f"{hours:g} hour{'' if hours == 1 else 's'}"


class NotAccepted(Exception):
    """A callback the bot signed, but will not run; `message` tells the person why."""

    def __init__(self, webhook_id: str, message: str) -> None:
        super().__init__(message)
        self.webhook_id = webhook_id
        self.message = message


def too_old_message(kind: str, max_age: str) -> str:
    if kind == "dialog":
        return f"This dialog was opened too long ago (over {max_age}); open it again."
    return (f"This button is too old to trust (buttons work for {max_age}); use the matching /incident command instead. "
            "The message gets fresh buttons whenever the incident changes.")


OUTDATED_ADDRESS = ("This button comes from before the bot's callback address changed; use the matching /incident command "
                    "instead. The message gets fresh buttons whenever the incident changes.")


def _json(payload: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=json_codec.dumps(payload), content_type=JSON)


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
        readiness: Readiness | None = None,
        metrics_port: int = 0,
        checks: CallbackChecks | None = None,
    ):
        super().__init__(url=host, port=port)
        self.host = host
        self.signer = signer
        self.tokens = tokens
        self.checks = checks or CallbackChecks()
        self._listeners = listeners
        self._executor = ThreadPoolExecutor(max_workers=worker_threads, thread_name_prefix="callback")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        # ---- operations: probes and metrics, on the callback port unless metrics_port is set
        self.readiness = readiness
        self.metrics_port = metrics_port
        self._operations = ThreadPoolExecutor(max_workers=2, thread_name_prefix="operations")  # never behind callbacks
        self.app.router.add_get("/healthz", self._live)  # what it always answered: the process runs
        # Alertmanager and Grafana post here (Grafana's webhook may be set to PUT); chat/alert_hooks.py
        self.alert_hooks = AlertHooks(self._executor)
        for method in ("POST", "PUT"):
            self.app.router.add_route(method, ALERT_ROUTE, self.alert_hooks.receive)
        self.operations_app = web.Application() if metrics_port else self.app
        self.operations_runner = web.AppRunner(self.operations_app) if metrics_port else None
        self.operations_app.router.add_get("/livez", self._live)
        self.operations_app.router.add_get("/readyz", self._ready)
        self.operations_app.router.add_get("/metrics", self._metrics)

    # ---- lifecycle: our own thread and loop, idle until a request comes -------------------
    def start_in_thread(self) -> None:
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = loops.new_loop()
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
            if self.operations_runner is not None:
                loop.run_until_complete(self.operations_runner.cleanup())
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
        if self.operations_runner is not None:
            await self.operations_runner.setup()
            await web.TCPSite(self.operations_runner, self.host, self.metrics_port).start()
            log.info("serving /livez, /readyz and /metrics on %s:%s", self.host, self.metrics_port)

    def stop_thread(self) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread:
            self._thread.join(timeout=5)
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._operations.shutdown(wait=False, cancel_futures=True)
        self.running = False

    # ---- operations ---------------------------------------------------------------------
    async def _live(self, request: web.Request) -> web.Response:
        return _json({"status": "OK"})

    async def _ready(self, request: web.Request) -> web.Response:
        if self.readiness is None:
            return _json({"status": "not ready", "not_ready": ["startup"], "checks": {"startup": "the bot is starting"}}, 503)
        report = await asyncio.get_running_loop().run_in_executor(self._operations, self.readiness.report)
        return _json(report.body(), 200 if report.ready else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        body, content_type = await asyncio.get_running_loop().run_in_executor(self._operations, metrics.exposition)
        return web.Response(body=body, headers={"Content-Type": content_type})

    # ---- requests -----------------------------------------------------------------------
    async def process_webhook(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        kind = request.match_info.get("webhook_id", "")
        outcome = "refused"
        try:
            try:
                body = await self._read_body(request)
            except ValueError as exc:
                return _refuse(400, str(exc))
            # one hand-off to a worker for the checks and the handler: each hand-off wakes two threads
            # (issue 14); in a copy of this context, so the log ids it sets stay with this request
            status, response, outcome = await asyncio.get_running_loop().run_in_executor(
                self._executor, contextvars.copy_context().run, self._checked_dispatch, kind, request, body, started)
            return _json(response, status)
        finally:
            metrics.request_handled(metrics.kind_of(kind), outcome, time.perf_counter() - started)

    def _checked_dispatch(self, kind: str, request: web.Request, body: dict[str, Any], started: float) -> tuple[int, Any, str]:
        """On a worker (an unknown command token may make the checks ask Mattermost, see CommandTokens):
        the status, answer and outcome of an authentic request's handler, or of its refusal."""
        try:
            webhook_id = self._authenticate(kind, request, body)
        except NotAccepted as exc:  # signed by the bot, but too old or sent to an old address: said, not run
            log.info("did not run %s: %s", exc.webhook_id, exc.message)
            return 200, answer(exc.webhook_id, exc.message), "refused"
        except Exception as exc:  # forged, or junk that breaks the checks: refused all the same
            log.warning("refused a %s callback from %s: %s", kind, request.remote, exc)
            return 401, {"error": "this request was not issued by the incident bot"}, "refused"
        refusal = self._not_theirs(body)
        if refusal is not None:
            return 200, answer(webhook_id, refusal), "refused"
        event = self._event(webhook_id, body)
        with log_ids(**request_ids(body)):  # the handler's lines too
            response, outcome = self._dispatch(event)
            log.debug("%s answered in %.1f ms", webhook_id, (time.perf_counter() - started) * 1000)
        return 200, response or {}, outcome

    async def _read_body(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/x-www-form-urlencoded":
            form = await request.post()
            return {key: form.get(key) for key in form.keys()}
        if request.content_type == JSON:
            try:
                body = await request.json(loads=json_codec.loads)
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
            webhook_id = f"action:{body['context'].name}"
            self._came_through_mattermost(webhook_id, request)
            self._fresh(webhook_id, body["context"])
            return webhook_id
        if kind == "dialog":
            body["state"] = callbacks.read("dialog", self.signer.verify_state(body.get("state")))
            webhook_id = f"dialog:{body['state'].name}"
            self._fresh(webhook_id, body["state"])
            return webhook_id
        raise ForgedPayload(f"unknown callback kind {kind!r}")

    def _came_through_mattermost(self, webhook_id: str, request: web.Request) -> None:
        """With a callback secret, a click must carry it: only Mattermost knows the URL that does."""
        if not self.checks.secret:
            return
        received = request.query.get(SECRET_PARAMETER)
        if received is None:  # a button posted before the secret was set: authentic, but its URL is out of date
            raise NotAccepted(webhook_id, OUTDATED_ADDRESS)
        if not hmac.compare_digest(self.checks.secret.encode(), received.encode("utf-8", "surrogatepass")):
            raise ForgedPayload("wrong callback secret")

    def _fresh(self, webhook_id: str, signed: callbacks.Callback) -> None:
        if self.checks.too_old(signed.issued_at, time.time()):
            raise NotAccepted(webhook_id, too_old_message(signed.kind, self.checks.max_age))

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

    def _dispatch(self, event: WebHookEvent) -> tuple[Any, str]:
        """Run the listener for this event on a worker thread; its answer, and the outcome to count.

        Handlers return the JSON answer for Mattermost. An exception is logged with its
        traceback and the person gets a polite message instead of a stack trace.
        """
        for matcher, functions in self._listeners():
            if not matcher.search(event.webhook_id):
                continue
            for function in functions:
                try:
                    # the database away for a moment (a restart, a fail-over): reconnect and run it once more
                    return with_reconnect(functools.partial(function.function, function.plugin, event)), "ok"
                except DomainError as exc:  # a sentence for the person, e.g. "This dialog was opened for someone else."
                    return answer(event.webhook_id, inert(exc.message)), "refused"
                except DatabaseUnavailable as exc:  # expected in an outage: one line, no traceback
                    metrics.database_error("callback")
                    log.warning("handler %s could not answer %s: the database is unavailable (%s)", function.name,
                                event.webhook_id, exc)
                    return answer(event.webhook_id, DATABASE_UNAVAILABLE), "error"
                except Exception as exc:
                    if metrics.is_database_error(exc):
                        metrics.database_error("callback")
                    log.exception("handler %s failed on %s", function.name, event.webhook_id)
                    return apology(event.webhook_id), "error"
        log.warning("no handler for callback %s", event.webhook_id)
        return apology(event.webhook_id), "error"


def request_ids(body: dict[str, Any]) -> dict[str, Any]:
    """The ids an authentic callback is about, for its log lines."""
    signed = body.get("context") or body.get("state")
    return {"team_id": body.get("team_id"), "channel_id": body.get("channel_id"), "user_id": body.get("user_id"),
            "incident_id": getattr(signed, "incident_id", None)}


SORRY = "Sorry, something went wrong on the incident bot's side. It has been logged; please try again."
DATABASE_UNAVAILABLE = "The incident database is unavailable; try again in a minute."


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
