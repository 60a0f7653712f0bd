"""Rows past their use are deleted by the sweep, and nothing a once-only claim still needs goes with
them; on SQLite and PostgreSQL."""

from __future__ import annotations

from flows import alerts as alerts_flow
from flows import retention as retention_flow
from flows import sweeps
from models.alerts import DONE, FAILED, PENDING, AlertDelivery
from models.clock import now_ms
from models.incidents import START_RECOVERED, START_ROLLED_BACK, START_STARTED, START_STARTING, IncidentStart
from models.insights import DigestPost
from services import alerts, insights, retention
from tests.unit.alert_payloads import alert, alertmanager, encoded
from tests.unit.conftest import TEAM, person

DAY = 24 * 60 * 60 * 1000
root = person("root", team_admin=True)


def delivery(source_id: int, name: str, state: str, days_ago: float | None) -> bytes:
    body = encoded(alertmanager(alert(name, name.lower())))
    alerts.record_delivery(source_id, body)
    processed = None if days_ago is None else now_ms() - int(days_ago * DAY)
    AlertDelivery.update(state=state, processed_at=processed).where(AlertDelivery.body_hash == alerts.body_hash(body)).execute()
    return body


def start(name: str, state: str, days_ago: float, channel_id: str | None = None) -> None:
    at = now_ms() - int(days_ago * DAY)
    IncidentStart.create(team_id=TEAM, name=name, name_key=name.lower(), channel_name=name.lower(), creator_id="alice",
                         state=state, created_at=at, finished_at=None if state == START_STARTING else at,
                         channel_id=channel_id)


def test_processed_alert_deliveries_go_after_a_month_and_pending_ones_stay(db, ctx):
    source = alerts_flow.connect_source(ctx, root, TEAM, "prod").source
    old_body = delivery(source.id, "DiskFull", DONE, days_ago=31)
    delivery(source.id, "Refused", FAILED, days_ago=40)
    delivery(source.id, "Yesterday", DONE, days_ago=1)
    delivery(source.id, "Waiting", PENDING, days_ago=None)

    assert retention.prune(now_ms()) == retention.Pruned(deliveries=2)

    names = sorted(alerts.parse(d.body).firing_alerts.popitem()[1].name for d in AlertDelivery.select())
    assert names == ["Waiting", "Yesterday"]
    # a month on, the same body is a new notification (an alert still firing), no longer a sender's retry
    assert alerts.record_delivery(source.id, old_body)


def test_finished_starts_go_after_a_month_but_not_what_keeps_a_channel_from_being_adopted(db):
    start("Started", START_STARTED, days_ago=31)
    start("Recovered", START_RECOVERED, days_ago=35)
    start("Refused at once", START_ROLLED_BACK, days_ago=31)
    start("Channel left open", START_ROLLED_BACK, days_ago=31, channel_id="orphan")  # its archive was refused
    start("Still starting", START_STARTING, days_ago=31)  # recovery's work, however old
    start("Started today", START_STARTED, days_ago=0)

    assert retention.prune(now_ms()) == retention.Pruned(starts=3)

    left = sorted(s.name for s in IncidentStart.select())
    assert left == ["Channel left open", "Started today", "Still starting"]


def test_digest_claims_go_only_once_their_week_can_no_longer_be_claimed(db):
    now = now_ms()
    this_week = insights.digest_window(now, insights.zone_of(TEAM)).due_at
    last_week, a_month_ago, longer_ago = this_week - 7 * DAY, now - 29 * DAY, now - 31 * DAY
    for due in (this_week, last_week, a_month_ago, longer_ago):
        assert insights.claim_digest(TEAM, due, "town-square")

    assert retention.prune(now) == retention.Pruned(digests=1)  # only the one over 30 days before now

    assert sorted(d.due_at for d in DigestPost.select()) == [a_month_ago, last_week, this_week]
    assert not insights.claim_digest(TEAM, this_week, "town-square")  # this week's digest still goes out once


def test_the_sweep_prunes_at_most_once_an_hour(db, ctx, monkeypatch):
    start("Started", START_STARTED, days_ago=31)
    assert sweeps.run(ctx).pruned == 1
    start("Another", START_STARTED, days_ago=31)
    assert sweeps.run(ctx).pruned == 0  # a few seconds later: not yet
    later = now_ms() + retention_flow.PRUNE_EVERY_MS
    monkeypatch.setattr(ctx, "now", lambda: later)
    assert sweeps.run(ctx).pruned == 1
