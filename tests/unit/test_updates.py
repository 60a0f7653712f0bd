"""The rules of keeping people informed: severities, cadences, templates, one reminder per due time."""
from __future__ import annotations

import pytest

from services import incidents as svc
from services import updates
from services.errors import Conflict, Invalid
from tests.unit.conftest import TEAM, person

alice = person("alice", channels=["c1"])


@pytest.mark.parametrize("typed, level", [("1", 1), ("4", 4), ("sev2", 2), (" SEV3 ", 3)])
def test_severities_are_one_to_four(typed, level):
    assert updates.parse_severity(typed) == level


@pytest.mark.parametrize("typed", ["0", "5", "high", "", "²", "sev", "sev12", "1.0", "٣"])
def test_anything_else_is_not_a_severity(typed):
    with pytest.raises(Invalid, match="Severity is 1"):
        updates.parse_severity(typed)


@pytest.mark.parametrize("typed, seconds", [("1m", 60), ("45m", 2700), ("2h", 7200), ("1d", 86400), ("7d", 604800),
                                            ("OFF", None), ("90m", 5400)])
def test_cadences_people_type(typed, seconds):
    assert updates.parse_cadence(typed) == seconds


@pytest.mark.parametrize("typed", ["0", "0m", "-5m", "10y", "1m30", "5", "m", "1h30m", "9" * 5000 + "m", "8d", "1,5h"])
def test_cadences_that_make_no_sense_are_refused(typed):
    with pytest.raises(Invalid):
        updates.parse_cadence(typed)


def test_cadences_read_back_in_the_largest_unit():
    assert [updates.describe_cadence(s) for s in (900, 3600, 5400, 86400, None)] == ["15m", "1h", "90m", "1d", "off"]


def test_templates_use_known_placeholders_only():
    assert updates.fill_template("{name} is {severity}; next: ", {"name": "DB", "severity": "SEV2"}) == "DB is SEV2; next:"
    with pytest.raises(Invalid, match=r"unknown placeholder \{owner\}"):
        updates.check_template("Owner: {owner}")
    with pytest.raises(Invalid, match="unmatched"):
        updates.check_template("Status: {name")
    assert updates.check_template("Literal {{braces}}") == "Literal {{braces}}"


def test_an_update_needs_text_within_the_post_limit():
    with pytest.raises(Invalid, match="Write what the update says"):
        updates.clean_message(" \x00\n ")
    with pytest.raises(Invalid, match="at most 16000"):
        updates.clean_message("x" * 16001)


def test_two_replicas_sweeping_at_once_send_a_reminder_once(db):
    incident = svc.start_incident(alice, TEAM, "Database down", "c1")
    updates.schedule_reminder(incident, due_at=1000)
    seen_by_one, seen_by_two = updates.due_reminders(2000), updates.due_reminders(2000)  # both read before either claims
    assert [r.incident_id for r in seen_by_one] == [r.incident_id for r in seen_by_two] == [incident.id]
    assert updates.claim_reminder(seen_by_one[0], 2000) is True
    assert updates.claim_reminder(seen_by_two[0], 2000) is False
    assert updates.due_reminders(3000) == []


def test_a_reminder_rescheduled_meanwhile_is_not_sent_for_the_old_due_time(db):
    incident = svc.start_incident(alice, TEAM, "Database down", "c1")
    updates.schedule_reminder(incident, due_at=1000)
    [stale] = updates.due_reminders(2000)
    updates.schedule_reminder(incident, due_at=9000)  # an update came in between
    assert updates.claim_reminder(stale, 2000) is False


def test_an_ended_incident_has_no_due_reminders(db):
    incident = svc.start_incident(alice, TEAM, "Database down", "c1")
    updates.schedule_reminder(incident, due_at=1000)
    svc.end_incident(alice, incident)
    assert updates.due_reminders(2000) == []


def test_updates_on_an_ended_incident_are_refused(db):
    incident = svc.start_incident(alice, TEAM, "Database down", "c1")
    ended = svc.end_incident(alice, incident)
    with pytest.raises(Conflict, match="has ended"):
        updates.record_update(alice, ended, "Late news", now=5, due_at=None)


def test_changing_to_the_same_severity_is_refused_and_a_change_is_on_the_timeline(db):
    incident = svc.start_incident(alice, TEAM, "Database down", "c1")
    with pytest.raises(Conflict, match="already SEV3"):
        updates.change_severity(alice, incident, 3)
    changed = updates.change_severity(alice, incident, 1)
    assert changed.severity == 1 and changed.version == incident.version + 1
    from services.timeline import events_for
    assert [(e.kind, e.data) for e in events_for(incident)][-1] == ("severity_changed", {"previous": 3, "severity": 1})
