"""The rules for alerts: reading both senders' bodies, the severity and name an incident gets, who may
connect a source, its secret, and a delivery sent twice. Formats: tests/unit/alert_payloads.py."""

from __future__ import annotations

import json

import pytest

from models.alerts import AlertDelivery, AlertSource
from services import alerts
from services.errors import Conflict, Forbidden, NotFound
from tests.unit.alert_payloads import alert, alertmanager, encoded, grafana
from tests.unit.conftest import TEAM, person

admin = person("root", team_admin=True)
member = person("alice")


# ---- reading bodies ------------------------------------------------------------------------------
def test_an_alertmanager_body_is_read_with_its_group_and_alerts():
    note = alerts.parse(encoded(alertmanager(alert("DatabaseDown", "fp1", severity="critical", instance="db-1"))))
    assert note.sender == alerts.ALERTMANAGER
    assert note.status == "firing"
    assert note.group_key == '{}:{alertname="DatabaseDown"}'
    only = note.alerts[0]
    assert (only.name, only.fingerprint, only.firing) == ("DatabaseDown", "fp1", True)
    assert only.labels["instance"] == "db-1"
    assert only.generator_url.startswith("http://prometheus.example:9090/graph")


def test_a_grafana_body_is_read_as_the_same_shape_with_its_title():
    note = alerts.parse(encoded(grafana(alert("High memory usage", "c6eadffa33fcdf37", team="blue"))))
    assert note.sender == alerts.GRAFANA
    assert note.title == "[FIRING:1] (blue)"
    assert note.alerts[0].name == "High memory usage"


@pytest.mark.parametrize("body, reason", [
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b"[1, 2]", "must be a JSON object"),
    (encoded({**alertmanager(alert("A", "f")), "version": "3"}), "unsupported version '3'"),
    (encoded({**alertmanager(alert("A", "f")), "groupKey": ""}), "groupKey is missing"),
    (encoded({**alertmanager(alert("A", "f")), "status": "burning"}), 'status must be "firing" or "resolved"'),
    (encoded({**alertmanager(alert("A", "f")), "alerts": {"a": 1}}), "alerts must be a list"),
    (encoded(alertmanager({**alert("A", "f"), "labels": {"n": 5}}, common_labels={})), "alerts[1].labels must be an object of strings"),
    (encoded(alertmanager("not an alert")), "alerts[1] must be an object"),  # type: ignore[arg-type]
])
def test_a_malformed_body_is_refused_with_the_reason(body, reason):
    with pytest.raises(alerts.Malformed, match=None) as refused:
        alerts.parse(body)
    assert reason in str(refused.value)


def test_an_alert_without_a_fingerprint_is_known_by_its_labels():
    without = {k: v for k, v in alert("A", "").items() if k != "fingerprint"}
    first = alerts.parse(encoded(alertmanager(without))).alerts[0].fingerprint
    again = alerts.parse(encoded(alertmanager(dict(without)))).alerts[0].fingerprint
    other = alerts.parse(encoded(alertmanager({**without, "labels": {"alertname": "B"}}))).alerts[0].fingerprint
    assert first == again != other


# ---- severity and name ---------------------------------------------------------------------------
@pytest.mark.parametrize("label, level", [("critical", 1), ("error", 2), ("high", 2), ("warning", 3), ("info", 4),
                                          ("CRITICAL", 1), ("page", None), ("", None)])
def test_the_severity_label_maps_to_the_incident_severity(label, level):
    note = alerts.parse(encoded(alertmanager(alert("A", "f", severity=label))))
    assert alerts.severity_of(note) == level


def test_without_a_common_severity_the_most_severe_firing_alert_counts():
    note = alerts.parse(encoded(alertmanager(alert("A", "f1", severity="warning"), alert("A", "f2", severity="critical"),
                                             alert("A", "f3", status="resolved", severity="info"), common_labels={})))
    assert alerts.severity_of(note) == 1


def test_the_name_is_the_alertname_cleaned_and_shortened():
    note = alerts.parse(encoded(alertmanager(alert("Disk\u200b full\x07 on   " + "x" * 100, "f"))))
    name = alerts.incident_name(note, "prod")
    assert name.startswith("Disk full on xxx")
    assert len(name) == 64 and name.endswith("…")


def test_without_an_alertname_the_summary_names_the_incident_then_the_source():
    body = alertmanager({**alert("A", "f"), "labels": {"job": "db"}}, common_labels={})
    body["commonAnnotations"] = {"summary": "Primary database unreachable"}
    assert alerts.incident_name(alerts.parse(encoded(body)), "prod") == "Primary database unreachable"
    bare = alertmanager({**alert("A", "f"), "labels": {}, "annotations": {}}, common_labels={})
    assert alerts.incident_name(alerts.parse(encoded(bare)), "prod") == "Alert from prod"


def test_a_name_without_letters_or_digits_for_a_channel_falls_back():
    note = alerts.parse(encoded(alertmanager({**alert("数据库宕机", "f"), "annotations": {}})))
    assert alerts.incident_name(note, "生产").startswith("Alert ")
    described = alerts.parse(encoded(alertmanager(alert("数据库宕机", "f"))))  # its summary has "db-1"
    assert alerts.incident_name(described, "生产") == "数据库宕机 on db-1"


# ---- sources ----------------------------------------------------------------------------------------
def test_only_team_and_system_admins_connect_sources(db):
    with pytest.raises(Forbidden, match="Only team and system admins"):
        alerts.connect(member, TEAM, "prod")
    assert alerts.connect(person("sys", system_admin=True), TEAM, "prod").source.owner_id == "sys"


def test_the_secret_is_kept_only_as_a_hash_and_opens_only_its_source(db):
    made = alerts.connect(admin, TEAM, "prod")
    stored = AlertSource.get_by_id(made.source.id)
    assert made.secret not in json.dumps(stored.__data__)
    assert stored.secret_hash == alerts.hash_secret(made.secret)
    assert alerts.source_for(made.source.id, made.secret).id == made.source.id
    assert alerts.source_for(made.source.id, made.secret[:-1] + "x") is None
    assert alerts.source_for(made.source.id, "") is None
    assert alerts.source_for(made.source.id + 1, made.secret) is None


def test_rotating_gives_a_new_secret_and_the_old_one_stops_working(db):
    made = alerts.connect(admin, TEAM, "prod")
    rotated = alerts.rotate(admin, TEAM, "PROD")
    assert alerts.source_for(made.source.id, made.secret) is None
    assert alerts.source_for(made.source.id, rotated.secret) is not None


def test_names_are_unique_in_a_team_whatever_the_case(db):
    alerts.connect(admin, TEAM, "prod")
    with pytest.raises(Conflict, match="already has an alert source called 'Prod'"):
        alerts.connect(admin, TEAM, "Prod")


def test_disconnecting_removes_the_source_and_what_it_sent(db):
    made = alerts.connect(admin, TEAM, "prod")
    alerts.record_delivery(made.source.id, encoded(alertmanager(alert("A", "f"))))
    alerts.disconnect(admin, TEAM, "prod")
    assert AlertDelivery.select().count() == 0
    with pytest.raises(NotFound, match="no alert source called 'prod'"):
        alerts.disconnect(admin, TEAM, "prod")


# ---- deliveries ------------------------------------------------------------------------------------
def test_the_same_body_twice_is_stored_once_and_kept_in_order(db):
    source = alerts.connect(admin, TEAM, "prod").source
    first, second = encoded(alertmanager(alert("A", "f1"))), encoded(alertmanager(alert("B", "f2")))
    assert alerts.record_delivery(source.id, first) is True
    assert alerts.record_delivery(source.id, first) is False
    assert alerts.record_delivery(source.id, second) is True
    assert [d.body.encode() for d in alerts.pending_deliveries()] == [first, second]


def test_a_delivery_that_keeps_failing_is_given_up_after_a_few_tries(db):
    source = alerts.connect(admin, TEAM, "prod").source
    alerts.record_delivery(source.id, encoded(alertmanager(alert("A", "f1"))))
    for _ in range(alerts.MAX_ATTEMPTS - 1):
        assert alerts.try_again_later(alerts.pending_deliveries()[0], "Mattermost away") is False
    assert alerts.try_again_later(alerts.pending_deliveries()[0], "Mattermost away") is True
    assert alerts.pending_deliveries() == []
