"""What the bot counts for Prometheus (`/metrics`), in one registry the chat layer owns.

Counters move where the chat layer sees the event: the callback server (requests), the
gateway (REST calls), the event handler and the request handlers (database errors), the timer
job the bot schedules (reminders sent: `flows.updates.send_due_reminders` returns how many it
sent, so flows need neither this module nor a hook). What is a state rather than an event (the
websocket's, active incidents, reminders due) is read when Prometheus scrapes, by `StateCollector`.

Label values never come from what a request says: kinds and outcomes are fixed words, and a
REST path is reduced to its route template (`/posts/{id}/patch`), so no id or name a person
chose can grow the number of series.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import peewee
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

log = logging.getLogger("incident.metrics")

# not prometheus_client's global registry: only what this module declares, and the process's
REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

KINDS = {"command": "command", "action": "click", "dialog": "dialog"}  # the callback path's word -> label
OUTCOMES = ("ok", "refused", "error")
SEVERITIES = (1, 2, 3, 4)

# a slash command's usage or rule errors are answered inside its router (plugins/slash.py): `ok` here
REQUESTS = Counter("incident_bot_requests", "Callbacks from Mattermost by kind and outcome: ok (answered); refused (not "
                   "authentic, malformed, made for someone else, or a click or dialog a rule said no to); error (a handler failed)",
                   ["kind", "outcome"], registry=REGISTRY)
REQUEST_SECONDS = Histogram("incident_bot_request_seconds", "Time from a callback's arrival to the bot's answer, by kind",
                            ["kind"], registry=REGISTRY,
                            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
API_CALLS = Counter("incident_bot_mattermost_api_calls", "REST calls to Mattermost by method, route template and status "
                    "(network: no answer)", ["method", "route", "status"], registry=REGISTRY)
DATABASE_ERRORS = Counter("incident_bot_database_errors", "Database errors, by where the bot met them", ["where"],
                          registry=REGISTRY)
REMINDERS_SENT = Counter("incident_bot_reminders_sent", "Update reminders this replica sent", registry=REGISTRY)
# what the alert endpoint answered (chat/alert_hooks.py): accepted and duplicate were stored (200), the others refused
ALERT_OUTCOMES = ("accepted", "duplicate", "unauthorized", "malformed", "too_large", "unavailable")
ALERTS_RECEIVED = Counter("incident_bot_alerts_received", "Alert webhook deliveries by outcome: accepted (stored), duplicate "
                          "(the same body again), unauthorized (wrong or missing secret), malformed, too_large, unavailable "
                          "(the database did not answer)", ["outcome"], registry=REGISTRY)

for _kind in KINDS.values():  # every series exists from the start, so rate() sees the first request
    for _outcome in OUTCOMES:
        REQUESTS.labels(_kind, _outcome)
    REQUEST_SECONDS.labels(_kind)
for _where in ("callback", "event", "readiness", "metrics"):
    DATABASE_ERRORS.labels(_where)
for _outcome in ALERT_OUTCOMES:
    ALERTS_RECEIVED.labels(_outcome)


def alert_received(outcome: str) -> None:
    ALERTS_RECEIVED.labels(outcome).inc()


def kind_of(path_word: str) -> str:
    """The `kind` label for `/hooks/<word>`; anything but the three callbacks is `other`."""
    return KINDS.get(path_word, "other")


def request_handled(kind: str, outcome: str, seconds: float) -> None:
    REQUESTS.labels(kind, outcome).inc()
    REQUEST_SECONDS.labels(kind).observe(seconds)


# ---- REST routes -----------------------------------------------------------------------------
# The literal words of the Mattermost v4 paths the bot calls. Every other segment is a value (an
# id, a name) and becomes a placeholder; a word missing here only makes a route less readable.
ROUTE_WORDS = frozenset({
    "actions", "channels", "client", "commands", "config", "dialogs", "direct", "ephemeral", "execute", "files", "info",
    "members", "me", "name", "open", "patch", "pin", "posts", "privacy", "reactions", "restore", "teams", "thread",
    "unpin", "username", "users", "emoji", "roles", "status", "search", "ids", "usernames", "pinned", "link", "preview",
})
PLACEHOLDER_AFTER = {"username": "{username}", "name": "{name}"}


def route_template(path: str) -> str:
    """`/teams/abc.../channels/name/war-room` -> `/teams/{id}/channels/name/{name}` (query strings dropped)."""
    segments = path.split("?", 1)[0].strip("/").split("/")
    shown = []
    previous = ""
    for segment in segments:
        if segment in ROUTE_WORDS and previous not in PLACEHOLDER_AFTER:
            shown.append(segment)
        else:
            shown.append(PLACEHOLDER_AFTER.get(previous, "{id}"))
        previous = segment
    return "/" + "/".join(shown)


def api_called(method: str, path: str, status: int) -> None:
    API_CALLS.labels(method.upper(), route_template(path), str(status) if status else "network").inc()


def database_error(where: str) -> None:
    DATABASE_ERRORS.labels(where).inc()


def is_database_error(exc: BaseException) -> bool:
    # peewee wraps the drivers' errors (psycopg2, sqlite3) in these
    return isinstance(exc, (peewee.DatabaseError, peewee.InterfaceError))


# ---- states, read at scrape time ---------------------------------------------------------------
@dataclass(frozen=True)
class WebsocketFigures:
    connected: bool
    reconnects: int
    disconnected_seconds: float


@dataclass
class StateSources:
    websocket: Callable[[], WebsocketFigures] | None = None
    active_incidents: Callable[[], Mapping[int, int]] | None = None  # severity -> how many
    reminders_due: Callable[[], int] | None = None
    done: Callable[[], None] = lambda: None  # after reading (returns the thread's database connection)


class StateCollector(Collector):
    def __init__(self) -> None:
        self.sources = StateSources()

    def collect(self) -> Iterator[Metric]:
        sources = self.sources
        if sources.websocket is not None:
            figures = sources.websocket()
            yield GaugeMetricFamily("incident_bot_websocket_connected", "1 while the websocket to Mattermost is open",
                                    value=1 if figures.connected else 0)
            yield CounterMetricFamily("incident_bot_websocket_reconnects", "Websocket connections opened after one was lost",
                                      value=figures.reconnects)
            yield CounterMetricFamily("incident_bot_websocket_disconnected_seconds",
                                      "Seconds the websocket was down after it had first connected",
                                      value=figures.disconnected_seconds)
        try:
            yield from self._from_database(sources)
        finally:
            sources.done()

    @staticmethod
    def _from_database(sources: StateSources) -> Iterator[Metric]:
        try:
            active = sources.active_incidents() if sources.active_incidents else None
            due = sources.reminders_due() if sources.reminders_due else None
        except Exception as exc:  # the scrape still answers, without the figures it cannot have
            log.warning("metrics: could not read the incidents (%s)", type(exc).__name__)
            database_error("metrics")
            return
        if active is not None:
            family = GaugeMetricFamily("incident_bot_active_incidents", "Active incidents (all teams) by severity",
                                       labels=["severity"])
            for severity in sorted(set(SEVERITIES) | set(active)):
                family.add_metric([str(severity)], active.get(severity, 0))
            yield family
        if due is not None:
            yield GaugeMetricFamily("incident_bot_reminders_due", "Update reminders due and not yet sent", value=due)


STATE = StateCollector()
REGISTRY.register(STATE)


def watch(sources: StateSources) -> None:
    """What the scrape reads (the bot, once it has started); replaces what was watched before."""
    STATE.sources = sources


def exposition() -> tuple[bytes, str]:
    """The body and content type of `/metrics`; reads the database: call it off the event loop."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
