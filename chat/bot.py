"""The mmpy-bot `Bot`, assembled for production use.

mmpy-bot 2.2.1's constructor logs in once with no retry, loads example plugins when given
none, reads its settings from the environment behind our back, and starts a webhook server
that polls busily. `IncidentBot` builds the same pieces (driver, plugin manager, event
handler, webhook server) from our settings, runs the start-up checks, and stops cleanly on
SIGTERM/SIGINT.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any, Callable
from urllib.parse import urlsplit

from mmpy_bot import Bot
from mmpy_bot.driver import Driver
from mmpy_bot.settings import Settings as MmpySettings
from mmpy_bot.threadpool import ThreadPool

from chat import metrics, startup
from chat.context import ChatContext, ChatPlugin
from chat.health import Readiness
from flows import alerts as alerts_flow
from flows import assignments as assignments_flow
from flows import missed_events
from flows import sweeps
from flows.context import FlowContext
from flows.timers import Timers
from chat.events import IncidentEventHandler, Mark
from chat.gateway import Mattermost
from chat.signing import Signer
from chat.web import CallbackChecks, CallbackServer, CommandTokens
from chat.registry import collect
from chat.websocket import ConnectionState
from config.settings import Settings
from models.db import db
from services import incidents as incident_records
from services import updates as update_records

log = logging.getLogger("incident.bot")


class _FixedSettings(MmpySettings):
    """mmpy-bot's settings, taken only from our own (never from the environment)."""

    def _check_environment_variables(self) -> None:
        return None


def driver_options(settings: Settings) -> dict[str, Any]:
    url = urlsplit(settings.mattermost.url)
    return {
        "url": url.hostname,
        "port": url.port or (443 if url.scheme == "https" else 80),
        "scheme": url.scheme,
        "basepath": url.path.rstrip("/"),
        "token": settings.mattermost.token,
        "verify": settings.mattermost.verify_tls,
        "keepalive": True,
        "timeout": settings.bot.heartbeat_seconds,
        "request_timeout": 30,
    }


def ping_database() -> None:
    """For /readyz, on the probe's own thread; the connection is returned at once."""
    try:
        db.execute_sql("SELECT 1")
    finally:
        db.close()


def active_by_severity() -> dict[int, int]:
    counts: dict[int, int] = {}
    for incident in incident_records.active_incidents():
        counts[incident.severity] = counts.get(incident.severity, 0) + 1
    return counts


class IncidentBot(Bot):
    def __init__(self, settings: Settings, plugins: list[ChatPlugin], signer: Signer,
                 remember_command: Callable[[str, str, str], None] | None = None,
                 stored_command_token: Callable[[str], str | None] | None = None,
                 claim_event: Callable[[str], bool] | None = None, contexts_timed_since: int | None = None) -> None:
        """`contexts_timed_since`: when (ms) this bot's buttons first carried their issue time (`CallbackChecks`)."""
        self.app_settings = settings
        self._setup_plugin_manager(plugins)
        self.settings = _FixedSettings(
            MATTERMOST_URL=settings.mattermost.url,
            BOT_TOKEN=settings.mattermost.token,
            SSL_VERIFY=settings.mattermost.verify_tls,
            WEBHOOK_HOST_ENABLED=False,  # we run our own callback server, below
        )
        self.console = None
        self.running = False
        self.stopping = threading.Event()
        self.driver = Driver(driver_options(settings))
        # autodriver's Driver.__new__ rejects keyword arguments, so size the pool afterwards
        self.driver.threadpool = ThreadPool(num_workers=settings.bot.worker_threads)
        self.driver.client.token = settings.mattermost.token  # driver.login() would set it; we log in ourselves
        self.mattermost = Mattermost(self.driver)
        self.signer = signer
        self.tokens = CommandTokens(fallback=stored_command_token)
        self._remember_command = remember_command or (lambda team, command, token: None)
        self.connection = ConnectionState()
        self.readiness = Readiness(self.connection, settings.bot.heartbeat_seconds, ping_database)
        self.webhook_server = CallbackServer(
            settings.bot.listen_host,
            settings.bot.listen_port,
            signer,
            self.tokens,
            listeners=lambda: self.plugin_manager.webhook_listeners.items(),
            worker_threads=settings.bot.worker_threads,
            readiness=self.readiness,
            metrics_port=settings.bot.metrics_port,
            checks=CallbackChecks.from_settings(settings.bot, contexts_timed_since),
        )
        self.event_handler: IncidentEventHandler | None = None
        self.chat: ChatContext | None = None
        self.timers: Timers | None = None
        self.alert_deliveries: alerts_flow.DeliveryWorker | None = None
        self._claim_event = claim_event or (lambda key: True)
        self._unwatch: Callable[[], None] = lambda: None

    # ---- start -------------------------------------------------------------------------
    def prepare(self, timers: bool = True) -> None:
        """Log in, check the server grants what the bot needs, register /incident; `timers=False`
        for a check that must not send reminders."""
        me = startup.login(self.mattermost, self.app_settings.mattermost.url, self.stopping, self.app_settings.bot.startup_attempts)
        self.driver.client.userid = me["id"]
        self.driver.client.username = me["username"]
        self.driver.user_id = me["id"]
        self.driver.username = me["username"]
        startup.check_role(me)
        self.readiness.logged_in(me["username"])
        self.plugin_manager.initialize(self.driver, self.settings)
        self.chat = ChatContext(self.mattermost, self.signer, self.app_settings, collect(self.plugin_manager.plugins),
                                self.register_team)
        for plugin in self.plugin_manager.plugins:
            plugin.attach(self.chat)
        self.event_handler = IncidentEventHandler(
            self.driver, settings=self.settings, plugin_manager=self.plugin_manager,
            heartbeat_seconds=self.app_settings.bot.heartbeat_seconds, claim=self._claim_event, connection=self.connection,
            find_missed=self._find_missed, mark=Mark(missed_events.remembered_heard_at, missed_events.remember_heard_at),
        )
        flows = self.chat.flows
        self._watch(flows)
        self._unwatch = assignments_flow.watch(flows)  # items changed anywhere: their DMs follow
        if timers:
            self.timers = Timers(lambda: self._send_due_reminders(flows), self.app_settings.updates.sweep_seconds)
            flows.on_reminder_due(self.timers.wake_at)
            self.timers.start()
            # alerts stored before this start (or while it was down) are processed now; new ones wake it
            self.alert_deliveries = alerts_flow.DeliveryWorker(flows, self.chat.actor)
            self.webhook_server.alert_hooks.on_stored(self.alert_deliveries.wake)
            self.alert_deliveries.start()
        self.webhook_server.start_in_thread()
        base = self.app_settings.callback_base_url
        # a token regenerated in Mattermost, or a command deleted there, is picked up on the next /incident
        self.tokens.refresh_with(lambda team_id: startup.refresh_team(self.mattermost, team_id, base, self.tokens, self._registered))
        teams = startup.register_commands(self.mattermost, base, self.tokens, self._registered)
        startup.check_callbacks_reachable(self.mattermost, teams[0], base)
        log.info("ready as @%s in %d team(s); callbacks at %s", me["username"], len(teams), base)

    def register_team(self, team_id: str) -> None:
        """The bot joined a team while running: give that team /incident too."""
        self.readiness.team_joined(team_id)  # not ready until it is registered there
        team = self.mattermost.team(team_id)
        startup.register_in_team(self.mattermost, team, self.app_settings.callback_base_url, self.tokens,
                                 self._registered)

    def _registered(self, team_id: str, command_id: str, token: str) -> None:
        self._remember_command(team_id, command_id, token)
        self.readiness.team_joined(team_id)
        self.readiness.command_registered(team_id)

    def _find_missed(self, heard_at_ms: int, now_ms: int) -> missed_events.Missed:
        """DMs and the reactions that do something, made while the websocket was down (chat/events.py replays them)."""
        emojis = {self.app_settings.bot.trigger_emoji, self.app_settings.bot.timeline_emoji}
        return missed_events.find_missed(self.mattermost, heard_at_ms, now_ms, emojis)

    # ---- what /metrics reads ---------------------------------------------------------------
    def _watch(self, flows: FlowContext) -> None:
        connection = self.connection
        metrics.watch(metrics.StateSources(
            websocket=lambda: metrics.WebsocketFigures(connection.is_open, connection.reconnects, connection.disconnected_seconds()),
            active_incidents=active_by_severity,
            reminders_due=lambda: len(update_records.due_reminders(flows.now())),
            done=db.close,  # the scrape's thread gives its connection back
        ))

    @staticmethod
    def _send_due_reminders(flows: FlowContext) -> None:
        metrics.REMINDERS_SENT.inc(sweeps.run(flows).update_reminders)  # item deadlines are swept there too

    def check(self) -> None:
        """What a start checks (login, role, /incident in every team, callbacks reachable), then
        stop: no websocket, no reminders. Raises `StartupError` like `run`."""
        self._install_signal_handlers()
        try:
            self.prepare(timers=False)
        finally:
            self.shutdown()

    def run(self) -> None:
        self._install_signal_handlers()
        try:
            self.prepare()
            self.running = True
            self.driver.threadpool.start()  # no mmpy-bot scheduler thread: nothing is scheduled there
            self.plugin_manager.start()
            if not self.stopping.is_set() and self.event_handler is not None:
                self.event_handler.start()  # blocks until stop()
        finally:
            self.shutdown()

    # ---- stop --------------------------------------------------------------------------
    def _install_signal_handlers(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda number, frame: self.request_stop(signal.Signals(number).name))

    def request_stop(self, reason: str = "request") -> None:
        if not self.stopping.is_set():
            log.info("stopping (%s)", reason)
        self.stopping.set()
        self.driver.disconnect()

    def shutdown(self) -> None:
        self.webhook_server.stop_thread()
        self.readiness.stop()
        if self.timers is not None:
            self.timers.stop()
        if self.alert_deliveries is not None:
            self.alert_deliveries.stop()
        self._unwatch()
        if self.chat is not None:
            self.chat.flows.stop()
        if self.running:
            self.plugin_manager.stop()
            self.driver.threadpool.stop()
            self.running = False
        log.info("stopped")
