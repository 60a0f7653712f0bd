"""The rules for alerts: what a webhook body says, who may connect a source, which group has which
incident, and what changed between two notifications of a group.

Two senders, one shape. Alertmanager's webhook receiver posts JSON with `"version": "4"`: `groupKey`,
`status` (`firing` or `resolved`), `receiver`, `groupLabels`, `commonLabels`, `commonAnnotations`,
`externalURL`, `truncatedAlerts`, and `alerts[]`, each with `status`, `labels`, `annotations`,
`startsAt`, `endsAt`, `generatorURL` and `fingerprint` (Prometheus docs, Alertmanager configuration,
`<webhook_config>`: https://prometheus.io/docs/alerting/latest/configuration/#webhook_config). Grafana's
unified alerting webhook contact point posts the same fields with `"version": "1"`, plus `orgId`,
`title`, `state` and `message` (Grafana docs, "Configure the webhook notifier for Alerting":
https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import Any, Mapping

import peewee

from models import Incident, Playbook, db
from models.alerts import DONE, FAILED, PENDING, SOURCE_NAME_MAX, AlertDelivery, AlertGroup, AlertSource
from models.clock import now_ms
from models.incidents import NAME_MAX, name_key

from .actor import Actor
from .errors import Conflict, Forbidden, Invalid, NotFound
from .naming import channel_name_for
from .text import one_line, paragraphs

ALERTMANAGER = "alertmanager"
GRAFANA = "grafana"
VERSIONS = {"4": ALERTMANAGER, "1": GRAFANA}  # the `version` each sender writes
FIRING, RESOLVED = "firing", "resolved"

# the words of a `severity` label -> the incident's severity (1 is the most severe)
SEVERITY_WORDS = {"critical": 1, "error": 2, "high": 2, "warning": 3, "info": 4}
MAX_ATTEMPTS = 5  # a delivery that keeps failing (Mattermost away) is given up after this many tries
ADMINS_ONLY = "Only team and system admins can manage alert sources; ask one of them."


class Malformed(ValueError):
    """The body is not a notification the bot can read; the message says why (the sender sees it)."""


# ---- what a notification says -------------------------------------------------------------------
@dataclass(frozen=True)
class Alert:
    status: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: str
    ends_at: str
    generator_url: str
    fingerprint: str

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "") or self.annotations.get("summary", "") or self.fingerprint

    @property
    def firing(self) -> bool:
        return self.status == FIRING


@dataclass(frozen=True)
class Notification:
    sender: str  # ALERTMANAGER or GRAFANA
    status: str
    group_key: str
    receiver: str
    group_labels: Mapping[str, str]
    common_labels: Mapping[str, str]
    common_annotations: Mapping[str, str]
    external_url: str
    alerts: tuple[Alert, ...]
    truncated: int = 0
    title: str = ""  # Grafana's

    @property
    def firing_alerts(self) -> dict[str, Alert]:
        return {alert.fingerprint: alert for alert in self.alerts if alert.firing}

    @property
    def resolved_alerts(self) -> dict[str, Alert]:
        return {alert.fingerprint: alert for alert in self.alerts if not alert.firing}


def parse(raw: bytes | str) -> Notification:
    """Read a webhook body; `Malformed` says what is wrong with it."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Malformed("the body is not UTF-8 text") from None
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise Malformed(f"the body is not valid JSON ({exc})") from None
    if not isinstance(body, dict):
        raise Malformed("the body must be a JSON object")
    version = str(body.get("version", ""))
    sender = VERSIONS.get(version)
    if sender is None:
        raise Malformed(f"unsupported version {version[:20]!r}: expected Alertmanager's webhook version \"4\" "
                        "or Grafana's \"1\"")
    group_key = body.get("groupKey")
    if not isinstance(group_key, str) or not group_key:
        raise Malformed("groupKey is missing or not a string")
    status = _status(body.get("status"), "status")
    alerts = body.get("alerts")
    if not isinstance(alerts, list):
        raise Malformed("alerts must be a list")
    truncated = body.get("truncatedAlerts", 0)
    return Notification(
        sender=sender, status=status, group_key=group_key, receiver=_text(body.get("receiver"), "receiver"),
        group_labels=_strings(body.get("groupLabels"), "groupLabels"),
        common_labels=_strings(body.get("commonLabels"), "commonLabels"),
        common_annotations=_strings(body.get("commonAnnotations"), "commonAnnotations"),
        external_url=_text(body.get("externalURL"), "externalURL"),
        alerts=tuple(_alert(alert, number) for number, alert in enumerate(alerts, 1)),
        truncated=truncated if isinstance(truncated, int) and truncated > 0 else 0,
        title=_text(body.get("title"), "title") if sender == GRAFANA else "",
    )


def _alert(raw: Any, number: int) -> Alert:
    where = f"alerts[{number}]"
    if not isinstance(raw, dict):
        raise Malformed(f"{where} must be an object")
    labels = _strings(raw.get("labels"), f"{where}.labels")
    fingerprint = _text(raw.get("fingerprint"), f"{where}.fingerprint") or _fingerprint(labels)
    return Alert(status=_status(raw.get("status", FIRING), f"{where}.status"), labels=labels,
                 annotations=_strings(raw.get("annotations"), f"{where}.annotations"),
                 starts_at=_text(raw.get("startsAt"), f"{where}.startsAt"), ends_at=_text(raw.get("endsAt"), f"{where}.endsAt"),
                 generator_url=_text(raw.get("generatorURL"), f"{where}.generatorURL"), fingerprint=fingerprint)


def _fingerprint(labels: Mapping[str, str]) -> str:
    """Alertmanager before 0.19 sent no fingerprint: the labels identify an alert (as they do for it)."""
    return hashlib.sha256(json.dumps(sorted(labels.items())).encode()).hexdigest()[:16]


def _status(value: Any, where: str) -> str:
    if value not in (FIRING, RESOLVED):
        raise Malformed(f"{where} must be \"firing\" or \"resolved\"")
    return str(value)


def _text(value: Any, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Malformed(f"{where} must be a string")
    return value


def _strings(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise Malformed(f"{where} must be an object of strings")
    return {str(k): v for k, v in value.items()}


# ---- what the incident is called, how severe ------------------------------------------------------
def severity_of(note: Notification) -> int | None:
    """From a `severity` label: the group's common one, else the most severe among its firing alerts."""
    common = SEVERITY_WORDS.get(note.common_labels.get("severity", "").strip().lower())
    if common is not None:
        return common
    found = [SEVERITY_WORDS.get(a.labels.get("severity", "").strip().lower()) for a in note.alerts if a.firing]
    levels = [level for level in found if level is not None]
    return min(levels) if levels else None


def incident_name(note: Notification, source_name: str) -> str:
    """The `alertname` label, else the summary, else the source's name: the first that makes an
    incident name (cleaned, at most NAME_MAX characters, with letters or digits for its channel)."""
    firing = [a for a in note.alerts if a.firing] or list(note.alerts)
    candidates = [note.common_labels.get("alertname", ""), *(a.labels.get("alertname", "") for a in firing[:1]),
                  note.common_annotations.get("summary", ""), *(a.annotations.get("summary", "") for a in firing[:1]),
                  note.title, f"Alert from {source_name}"]
    for candidate in candidates:
        name = shorten(one_line(candidate), NAME_MAX)
        try:
            channel_name_for(name)
        except Invalid:  # empty, or no letter or digit to name a channel after
            continue
        return name
    return f"Alert {group_hash(note.group_key)[:8]}"


def incident_summary(note: Notification) -> str:
    firing = [a for a in note.alerts if a.firing] or list(note.alerts)
    text = (note.common_annotations.get("summary") or note.common_annotations.get("description")
            or (firing[0].annotations.get("summary", "") if firing else ""))
    return shorten(paragraphs(text), 500)


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# ---- secrets -----------------------------------------------------------------------------------
def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def group_hash(group_key: str) -> str:
    return hashlib.sha256(group_key.encode("utf-8", "surrogatepass")).hexdigest()


def body_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def source_for(source_id: int, secret: str) -> AlertSource | None:
    """The source this URL is for, if it carries that source's secret (compared in constant time)."""
    source = AlertSource.get_or_none(AlertSource.id == source_id)
    received = hash_secret(secret)
    expected = source.secret_hash if source is not None else hash_secret("")
    return source if hmac.compare_digest(received, expected) and source is not None and secret else None


# ---- sources -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Connected:
    source: AlertSource
    secret: str  # shown once, in the URL; only its hash is kept


def require_admin(actor: Actor, team_id: str) -> None:
    if not actor.is_admin_of(team_id):
        raise Forbidden(ADMINS_ONLY)


def source_name(name: str) -> str:
    cleaned = one_line(name)
    if not cleaned:
        raise Invalid("Name the source, e.g. `/incident alerts connect prometheus-prod`.")
    if len(cleaned) > SOURCE_NAME_MAX:
        raise Invalid(f"The source name is {len(cleaned)} characters long; use at most {SOURCE_NAME_MAX}.")
    return cleaned


def connect(actor: Actor, team_id: str, name: str, *, playbook: Playbook | None = None, severity: int | None = None,
            is_private: bool = False) -> Connected:
    require_admin(actor, team_id)
    shown = source_name(name)
    if severity is not None and severity not in (1, 2, 3, 4):
        raise Invalid("The severity is 1 (most severe), 2, 3 or 4.")
    secret = new_secret()
    try:
        with db.atomic():
            source = AlertSource.create(team_id=team_id, name=shown, name_key=name_key(shown), secret_hash=hash_secret(secret),
                                        playbook=playbook.id if playbook is not None else None, severity=severity,
                                        is_private=is_private, owner_id=actor.user_id, created_at=now_ms())
    except peewee.IntegrityError:
        raise Conflict(f"This team already has an alert source called {shown!r}; choose another name, or "
                       f"`/incident alerts rotate {shown}` for a new URL.") from None
    return Connected(source, secret)


def sources_of(actor: Actor, team_id: str) -> list[AlertSource]:
    require_admin(actor, team_id)
    return list(AlertSource.select().where(AlertSource.team_id == team_id).order_by(AlertSource.name_key))


def find_source(actor: Actor, team_id: str, name: str) -> AlertSource:
    require_admin(actor, team_id)
    source = AlertSource.get_or_none((AlertSource.team_id == team_id) & (AlertSource.name_key == name_key(one_line(name))))
    if source is None:
        raise NotFound(f"This team has no alert source called {one_line(name)!r}; `/incident alerts list` shows them.")
    return source


def disconnect(actor: Actor, team_id: str, name: str) -> AlertSource:
    """Removes the source with what it sent and still had to process; its incidents stay."""
    source = find_source(actor, team_id, name)
    source.delete_instance()  # deliveries and groups cascade
    return source


def rotate(actor: Actor, team_id: str, name: str) -> Connected:
    source = find_source(actor, team_id, name)
    secret = new_secret()
    AlertSource.update(secret_hash=hash_secret(secret)).where(AlertSource.id == source.id).execute()
    source.secret_hash = hash_secret(secret)
    return Connected(source, secret)


def playbook_of(source: AlertSource) -> Playbook | None:
    """The source's playbook while it can still be used (a deleted one is left out)."""
    if source.playbook_id is None:
        return None
    playbook = Playbook.get_or_none(Playbook.id == source.playbook_id)
    return playbook if playbook is not None and not playbook.is_deleted else None


def playbook_titles(sources: list[AlertSource]) -> dict[int, str]:
    """The titles of the sources' playbooks, by id."""
    ids = [source.playbook_id for source in sources if source.playbook_id]
    return {p.id: p.title for p in Playbook.select(Playbook.id, Playbook.title).where(Playbook.id.in_(ids))} if ids else {}


def note_problem(source: AlertSource, problem: str) -> None:
    AlertSource.update(last_problem=problem[:500]).where(AlertSource.id == source.id).execute()


# ---- deliveries --------------------------------------------------------------------------------
def record_delivery(source_id: int, raw: bytes) -> bool:
    """Keep a delivery to process; False when the same body was received before (a retry)."""
    try:
        with db.atomic():
            AlertDelivery.create(source=source_id, body=raw.decode("utf-8"), body_hash=body_hash(raw), received_at=now_ms())
    except peewee.IntegrityError:
        return False
    return True


def pending_deliveries(limit: int = 100) -> list[AlertDelivery]:
    """The oldest deliveries not processed yet, in the order they came."""
    return list(AlertDelivery.select().where(AlertDelivery.state == PENDING).order_by(AlertDelivery.id).limit(limit))


def finish(delivery: AlertDelivery, outcome: str, failed: bool = False) -> None:
    AlertDelivery.update(state=FAILED if failed else DONE, outcome=outcome[:1000], processed_at=now_ms(),
                         attempts=AlertDelivery.attempts + 1).where(AlertDelivery.id == delivery.id).execute()


def try_again_later(delivery: AlertDelivery, reason: str) -> bool:
    """Counts a failed try; True if the delivery is given up (failed) after MAX_ATTEMPTS."""
    attempts = delivery.attempts + 1
    given_up = attempts >= MAX_ATTEMPTS
    AlertDelivery.update(attempts=attempts, outcome=reason[:1000], state=FAILED if given_up else PENDING,
                         processed_at=now_ms() if given_up else None).where(AlertDelivery.id == delivery.id).execute()
    return given_up


# ---- groups and what changed ---------------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    """Between what a group's incident was last told and a new notification of the group."""

    firing: dict[str, str]  # fingerprint -> alert name, firing after this notification
    newly_firing: list[Alert] = field(default_factory=list)
    newly_resolved: list[str] = field(default_factory=list)  # names of alerts that stopped firing
    resolved: bool = False  # the whole group stopped firing with this notification

    @property
    def anything(self) -> bool:
        return bool(self.newly_firing or self.newly_resolved or self.resolved)


def active_group(source: AlertSource, group_key: str) -> AlertGroup | None:
    """The group's row whose incident is still active (an ended incident's group starts afresh)."""
    group: AlertGroup | None = (
        AlertGroup.select().join(Incident)
        .where((AlertGroup.source == source.id) & (AlertGroup.group_key_hash == group_hash(group_key)) & Incident.is_active)
        .order_by(AlertGroup.id.desc()).first())
    return group


def open_group(source: AlertSource, note: Notification, incident: Incident) -> AlertGroup:
    firing = {fingerprint: alert.name for fingerprint, alert in note.firing_alerts.items()}
    group: AlertGroup = AlertGroup.create(source=source.id, group_key_hash=group_hash(note.group_key), incident=incident.id,
                                          firing=firing, updated_at=now_ms())
    return group


def change_of(group: AlertGroup, note: Notification) -> Change:
    """What is new. An alert missing from an untruncated notification has stopped firing (Alertmanager
    leaves resolved alerts out unless `send_resolved` is on); with `truncatedAlerts`, only those said
    to be resolved have."""
    before: dict[str, str] = dict(group.firing or {})
    firing_now = note.firing_alerts
    if note.status == RESOLVED:
        after: dict[str, str] = {}
    elif note.truncated:
        after = {fp: name for fp, name in before.items() if fp not in note.resolved_alerts}
        after.update({fp: alert.name for fp, alert in firing_now.items()})
    else:
        after = {fp: alert.name for fp, alert in firing_now.items()}
    newly_firing = [alert for fp, alert in firing_now.items() if fp not in before and fp in after]
    newly_resolved = [name for fp, name in before.items() if fp not in after]
    resolved = not after and group.resolved_at is None
    return Change(firing=after, newly_firing=newly_firing, newly_resolved=newly_resolved, resolved=resolved)


def apply_change(group: AlertGroup, change: Change, at: int) -> None:
    resolved_at = (at if change.resolved else group.resolved_at) if not change.firing else None
    AlertGroup.update(firing=change.firing, resolved_at=resolved_at, updated_at=at).where(AlertGroup.id == group.id).execute()
