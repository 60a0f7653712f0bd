"""Is this replica ready to serve? What `/readyz` answers, check by check.

Ready means: logged in to Mattermost, the websocket open (or lost less than one heartbeat ago:
the bot itself waits that long before it declares a silent connection dead, so a reconnect
that quick is not an outage), the database answering `SELECT 1` within a few seconds, and
`/incident` registered in every team the bot belongs to. The answer names what is not ready.

The probe reads state the bot keeps anyway and pings the database on a thread of its own,
so a database that hangs makes the probe say so instead of hanging with it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

from chat import metrics
from chat.websocket import ConnectionState

log = logging.getLogger("incident.health")

DATABASE_TIMEOUT = 3.0
CHECKS = ("login", "websocket", "database", "commands")


@dataclass(frozen=True)
class Report:
    checks: dict[str, str]  # check -> "ok" or what is wrong
    not_ready: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.not_ready

    def body(self) -> dict[str, object]:
        return {"status": "ready" if self.ready else "not ready", "not_ready": self.not_ready, "checks": self.checks}


class Readiness:
    def __init__(self, connection: ConnectionState, heartbeat_seconds: float, ping_database: Callable[[], None],
                 database_timeout: float = DATABASE_TIMEOUT) -> None:
        self.connection = connection
        self.heartbeat_seconds = heartbeat_seconds
        self._ping_database = ping_database
        self._database_timeout = database_timeout
        self._pinger = ThreadPoolExecutor(max_workers=1, thread_name_prefix="readiness")
        self._ping: Future[None] | None = None
        self._lock = threading.Lock()
        self._username: str | None = None
        self._teams: dict[str, bool] = {}  # team id -> /incident registered there
        self._was_ready: bool | None = None

    # ---- what the bot tells it -------------------------------------------------------------
    def logged_in(self, username: str) -> None:
        self._username = username

    def team_joined(self, team_id: str) -> None:
        with self._lock:
            self._teams.setdefault(team_id, False)

    def command_registered(self, team_id: str) -> None:
        with self._lock:
            self._teams[team_id] = True

    def stop(self) -> None:
        self._pinger.shutdown(wait=False, cancel_futures=True)

    # ---- the checks ---------------------------------------------------------------------------
    def report(self) -> Report:
        """Blocks up to the database timeout: call it off the event loop."""
        checks = {"login": self._login(), "websocket": self._websocket(), "database": self._database(),
                  "commands": self._commands()}
        report = Report(checks, [name for name in CHECKS if checks[name] != "ok"])
        self._log_change(report)
        return report

    def _login(self) -> str:
        return "ok" if self._username else "not logged in to Mattermost yet"

    def _websocket(self) -> str:
        if self.connection.is_open:
            return "ok"
        if not self.connection.ever_connected:
            return "not connected yet"
        down = self.connection.down_for() or 0.0
        if down < self.heartbeat_seconds:
            return "ok"
        return f"disconnected for {down:.0f} s; reconnecting"

    def _database(self) -> str:
        with self._lock:
            if self._ping is None or self._ping.done():  # one ping at a time: a hung one is waited for, not doubled
                self._ping = self._pinger.submit(self._ping_database)
            ping = self._ping
        try:
            ping.result(timeout=self._database_timeout)
        except FutureTimeout:
            return f"no answer within {self._database_timeout:g} s"
        except Exception as exc:
            if metrics.is_database_error(exc):
                metrics.database_error("readiness")
            detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
            log.debug("readiness: the database failed: %s: %s", type(exc).__name__, detail)
            return f"failing ({type(exc).__name__})"
        return "ok"

    def _commands(self) -> str:
        with self._lock:
            missing = sorted(team for team, registered in self._teams.items() if not registered)
            known = len(self._teams)
        if not known:
            return "/incident is not registered in any team yet"
        if missing:
            return f"/incident is not registered in team(s) {', '.join(missing)}"
        return "ok"

    def _log_change(self, report: Report) -> None:
        """One line when readiness changes, not one per probe."""
        if report.ready == self._was_ready:
            return
        first = self._was_ready is None
        self._was_ready = report.ready
        if report.ready:
            log.info("ready: %s", ", ".join(CHECKS))
        elif not first:
            log.warning("not ready: %s", "; ".join(f"{name}: {report.checks[name]}" for name in report.not_ready))
