"""Stored alert deliveries becoming incidents and posts, against the chat port in memory.
Bodies as the senders write them: tests/unit/alert_payloads.py (formats and their docs there)."""

from __future__ import annotations

from flows import alerts as flow
from flows import incidents as incidents_flow
from flows.port import ChatError
from models import Incident
from models.alerts import DONE, FAILED, PENDING, AlertDelivery, AlertSource
from services import alerts, playbooks
from tests.unit.alert_payloads import alert, alertmanager, encoded, grafana
from tests.unit.conftest import TEAM, person

root = person("root", team_admin=True)


def the_person(user_id: str, team_id: str):
    """The chat layer's answer for who connected a source: still a team admin of it."""
    return person(user_id, team=team_id, team_admin=True)


def connected(ctx, **options):
    return flow.connect_source(ctx, root, TEAM, "prod", **options).source


def deliver(ctx, source, body, actor_of=the_person) -> int:
    alerts.record_delivery(source.id, encoded(body))
    return flow.process_pending(ctx, actor_of)


def incidents():
    return list(Incident.select().order_by(Incident.id))


def test_a_firing_group_starts_an_incident_named_after_it_with_its_severity_and_alerts(db, chat, ctx):
    source = connected(ctx)
    firing = alert("DatabaseDown", "fp1", severity="critical", instance="db-1")
    firing["annotations"]["description"] = "ping @channel and @alice now"
    assert deliver(ctx, source, alertmanager(firing)) == 1
    [incident] = incidents()
    assert (incident.name, incident.severity, incident.commander_id) == ("DatabaseDown", 1, "root")
    assert (incident.channel_id, "root") in chat.members
    details = chat.messages(incident.channel_id)[-1]
    assert "Opened by alert source **prod** (Alertmanager): 1 alert firing" in details
    assert "instance=`db-1`" in details and "severity=`critical`" in details
    assert "[Open the source of this alert](http://prometheus.example:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1)" in details
    assert "@channel" not in details and "@alice" not in details  # made inert
    assert "@\u2060channel" in details
    assert AlertDelivery.get().state == DONE


def test_the_same_group_again_posts_what_changed_into_the_same_incident(db, chat, ctx):
    source = connected(ctx)
    deliver(ctx, source, alertmanager(alert("DatabaseDown", "fp1")))
    deliver(ctx, source, alertmanager(alert("DatabaseDown", "fp1"), alert("DatabaseDown", "fp2", instance="db-2")))
    [incident] = incidents()
    change = chat.messages(incident.channel_id)[-1]
    assert "**Now firing** (1):" in change and "instance=`db-2`" in change
    assert "2 alerts of the group still firing." in change
    posted = len(chat.messages(incident.channel_id))
    deliver(ctx, source, alertmanager(alert("DatabaseDown", "fp1"), alert("DatabaseDown", "fp2", instance="db-2"),
                                      truncatedAlerts=0, receiver="again"))  # a repeat saying nothing new
    assert len(chat.messages(incident.channel_id)) == posted
    deliver(ctx, source, alertmanager(alert("DatabaseDown", "fp2", instance="db-2"),
                                      alert("DatabaseDown", "fp1", status="resolved")))
    assert "**Resolved**: **DatabaseDown**" in chat.messages(incident.channel_id)[-1]
    assert len(incidents()) == 1


def test_a_resolved_group_offers_the_end_button_and_leaves_the_incident_open(db, chat, ctx):
    source = connected(ctx)
    deliver(ctx, source, alertmanager(alert("DatabaseDown", "fp1")))
    deliver(ctx, source, alertmanager(alert("DatabaseDown", "fp1", status="resolved")))
    [incident] = incidents()
    last = [p for p in chat.posts.values() if p["channel_id"] == incident.channel_id][-1]
    assert last["message"].startswith("#### :white_check_mark: All alerts of this group resolved at 20")
    [button] = last["props"]["attachments"][0]["actions"]
    assert button["name"] == "End incident"
    assert button["integration"]["context"]["callback"] == "end_ask"  # the checklist message's End button
    assert button["integration"]["context"]["incident_id"] == incident.id
    assert Incident.get_by_id(incident.id).is_active
    posted = len(chat.messages(incident.channel_id))
    deliver(ctx, source, alertmanager(alert("DatabaseDown", "fp1", status="resolved"), receiver="resent"))
    assert len(chat.messages(incident.channel_id)) == posted  # resolved once is said once


def test_two_deliveries_of_one_group_never_open_two_incidents(db, chat, ctx):
    source = connected(ctx)
    alerts.record_delivery(source.id, encoded(alertmanager(alert("DatabaseDown", "fp1"))))
    alerts.record_delivery(source.id, encoded(alertmanager(alert("DatabaseDown", "fp1"), receiver="retry with new body")))
    flow.process_pending(ctx, the_person)
    assert len(incidents()) == 1


def test_a_group_whose_incident_ended_starts_a_new_one(db, chat, ctx):
    source = connected(ctx)
    deliver(ctx, source, alertmanager(alert("DatabaseDown", "fp1")))
    incidents_flow.end_incident(ctx, root, incidents()[0])
    deliver(ctx, source, alertmanager({**alert("DatabaseDown", "fp1"), "startsAt": "2026-03-03T08:00:00Z"}))
    assert [i.is_active for i in incidents()] == [False, True]


def test_the_source_settings_choose_severity_playbook_and_privacy(db, chat, ctx):
    playbook = playbooks.create_playbook(root, TEAM, "Database outage")
    source = connected(ctx, playbook_title="database", severity=2, private=True)
    deliver(ctx, source, grafana(alert("High memory usage", "c6eadffa33fcdf37", severity="info")))
    [incident] = incidents()
    assert (incident.severity, incident.playbook_id, incident.is_private) == (2, playbook.id, True)
    assert "(Grafana)" in chat.messages(incident.channel_id)[-1]


def test_a_source_whose_owner_left_the_team_opens_nothing_and_says_why(db, chat, ctx):
    source = connected(ctx)
    deliver(ctx, source, alertmanager(alert("DatabaseDown", "fp1")), actor_of=lambda user_id, team_id: person(user_id, team=""))
    assert incidents() == []
    assert AlertDelivery.get().state == FAILED
    assert "no longer in the team" in AlertSource.get_by_id(source.id).last_problem


def test_mattermost_away_keeps_the_delivery_and_the_ones_after_it_for_later(db, chat, ctx):
    source = connected(ctx)
    deliver(ctx, source, alertmanager(alert("DatabaseDown", "fp1")))
    chat.refuse("post", ChatError(503, "api.context.server_busy.app_error", "busy"))
    deliver(ctx, source, alertmanager(alert("DatabaseDown", "fp1"), alert("DatabaseDown", "fp2")))
    alerts.record_delivery(source.id, encoded(alertmanager(alert("DatabaseDown", "fp1", status="resolved"))))
    assert [d.state for d in AlertDelivery.select().order_by(AlertDelivery.id)] == [DONE, PENDING, PENDING]
    assert flow.process_pending(ctx, the_person) == 2  # Mattermost is back: in order
    channel = incidents()[0].channel_id
    assert "**Now firing** (1):" in chat.messages(channel)[-3]
    assert "resolved at" in chat.messages(channel)[-1]


def test_mattermost_failing_to_create_the_channel_keeps_the_alert_for_a_retry_that_opens_one_incident(db, chat, ctx):
    source = connected(ctx)
    chat.refuse("create_channel", ChatError(502, "", "bad gateway"))
    deliver(ctx, source, alertmanager(alert("DatabaseDown", "fp1")))
    chat.refuse("create_channel", ChatError(0, "network", "Mattermost could not be reached: connection refused"))
    assert flow.process_pending(ctx, the_person) == 0  # the worker's next wake: still away
    [waiting] = AlertDelivery.select()
    assert (waiting.state, waiting.attempts) == (PENDING, 2) and "connection refused" in waiting.outcome
    assert incidents() == [] and AlertSource.get_by_id(source.id).last_problem == ""

    assert flow.process_pending(ctx, the_person) == 1  # Mattermost is back
    [incident] = incidents()
    assert AlertDelivery.get().state == DONE and len(chat.channels) == 1


def test_two_replicas_working_the_same_deliveries_open_one_incident(db, chat, ctx):
    """Each bot process has its own delivery worker; on one PostgreSQL they take turns."""
    import threading

    from models import db as database
    from tests.unit.fake_chat import flow_context

    source = connected(ctx)
    for n in range(5):  # the group grows: five deliveries, each with one more alert
        alerts.record_delivery(source.id, encoded(alertmanager(*[alert("DiskFull", f"fp{i}") for i in range(n + 1)])))
    other = flow_context(chat)
    gate = threading.Barrier(2)

    def replica(context):
        gate.wait()
        try:
            flow.process_pending(context, the_person)
        finally:
            database.close()

    threads = [threading.Thread(target=replica, args=(c,)) for c in (ctx, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    other.stop()

    assert len(incidents()) == 1
    assert [d.state for d in AlertDelivery.select()] == [DONE] * 5
