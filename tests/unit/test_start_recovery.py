"""The bot dies in the middle of a start, an end or a restart; recovery (or the person's retry)
finishes what it can and rolls back what it cannot, telling the person.

A crash is a `Crash` raised by the chat port in memory before or after it does what was asked:
like SIGKILL, nothing in the bot catches it, and whatever was already done stays done.
"""

from __future__ import annotations

import pytest

from flows import incidents as flow
from flows import recovery
from flows.port import ChatError
from models.clock import now_ms
from models.incidents import START_RECOVERED, START_ROLLED_BACK, START_STARTING, ChannelChange, IncidentStart
from services import backstage, incidents
from services.backstage import Filters
from tests.unit.conftest import TEAM, person

alice = person("alice")
bob = person("bob")


class Crash(BaseException):
    """The process died here (nothing catches a BaseException that is not an Exception)."""


def crash(chat, method: str, *, after: bool, nth: int = 1) -> None:
    """The `nth` call of `method` kills the bot, before or after Mattermost did it."""
    real = getattr(chat, method)
    calls = []

    def dying(*args, **kwargs):
        calls.append(1)
        if len(calls) != nth:
            return real(*args, **kwargs)
        if after:
            real(*args, **kwargs)
        del chat.__dict__[method]  # the next process talks to a Mattermost that works
        raise Crash(f"{method} #{nth}")

    setattr(chat, method, dying)


def started_until_crash(ctx, who=alice, name="Database down"):
    with pytest.raises(Crash):
        flow.start_incident(ctx, who, TEAM, name)


def a_while_later(ctx, monkeypatch, ms=recovery.RECOVER_AFTER_MS + 1_000):
    """The clock recovery reads, `ms` from now (the half-made start is no live request's any more)."""
    monkeypatch.setattr(ctx, "now", lambda: now_ms() + ms)


def channels_named(chat, stem="database-down"):
    return [c for c in chat.channels.values() if c["name"].startswith(stem)]


def bot_posts(chat, channel_id):
    return [p for p in chat.posts.values() if p["channel_id"] == channel_id]


def dms_to(chat, user_id):
    return [p["message"] for p in chat.posts.values() if p["channel_id"] == f"dm-{user_id}"]


def the_start():
    [start] = IncidentStart.select()
    return start


CRASH_POINTS = [
    pytest.param("create_channel", False, 1, id="before-the-channel"),
    pytest.param("create_channel", True, 1, id="after-the-channel"),
    pytest.param("add_member", True, 1, id="after-adding-the-starter"),
    pytest.param("post", False, 1, id="after-the-record"),
    pytest.param("post", True, 1, id="after-the-announcement"),
    pytest.param("post", True, 2, id="after-the-checklist-message"),
]


# ---- recovery finishes a start -------------------------------------------------------------------
@pytest.mark.parametrize("method, after, nth", CRASH_POINTS)
def test_a_start_killed_at_any_step_is_finished_by_recovery_with_one_channel_and_one_checklist(
        db, chat, ctx, monkeypatch, method, after, nth):
    crash(chat, method, after=after, nth=nth)
    started_until_crash(ctx)
    a_while_later(ctx, monkeypatch)

    done = recovery.run(ctx)

    assert (done.finished, done.rolled_back) == (1, 0)
    [channel] = channels_named(chat)
    [incident] = incidents.active_incidents()
    assert incident.channel_id == channel["id"] and (channel["id"], "alice") in chat.members
    messages = chat.messages(channel["id"])
    assert messages == ["@alice started the incident **Database down** and is its commander.",
                        "#### Checklist for Database down"]  # once each, whatever was posted before the crash
    assert chat.posts[incident.checklist_post_id]["channel_id"] == channel["id"]
    assert the_start().state == START_RECOVERED
    [told] = dms_to(chat, "alice")
    assert "ready now in ~database-down" in told
    assert recovery.run(ctx).repaired == 0  # nothing left to repair


def test_a_half_made_start_is_no_incident_until_it_is_recorded(db, chat, ctx, monkeypatch):
    crash(chat, "create_channel", after=True)
    started_until_crash(ctx)
    assert incidents.active_incidents() == []
    assert backstage.browse(person("admin", system_admin=True), TEAM, Filters()).total == 0
    with pytest.raises(Exception, match="no incident called"):
        incidents.find_incident(TEAM, "Database down")


def test_a_start_younger_than_a_moment_is_left_to_the_request_making_it(db, chat, ctx):
    crash(chat, "create_channel", after=True)
    started_until_crash(ctx)
    assert recovery.run(ctx).repaired == 0
    assert the_start().state == START_STARTING


def test_recovery_leaves_a_channel_the_bot_did_not_make_for_this_start(db, chat, ctx, monkeypatch):
    crash(chat, "create_channel", after=False)
    started_until_crash(ctx)
    # meanwhile someone made a channel of that name by hand
    chat.channels["theirs"] = {"id": "theirs", "team_id": TEAM, "name": "database-down", "type": "O", "delete_at": 0,
                               "purpose": "Incident channel", "creator_id": "carol"}  # made by hand, alike
    a_while_later(ctx, monkeypatch)
    assert recovery.run(ctx).finished == 1
    [incident] = incidents.active_incidents()
    assert incident.channel_id != "theirs" and incident.channel_name.startswith("database-down-")
    assert chat.messages("theirs") == []


# ---- or rolls it back, and says so ---------------------------------------------------------------
def test_when_mattermost_refuses_the_starter_after_a_crash_the_orphan_channel_is_archived_and_the_person_told(
        db, chat, ctx, monkeypatch):
    crash(chat, "create_channel", after=True)
    started_until_crash(ctx)
    chat.refuse("add_member", ChatError(403, "api.context.permissions.app_error", "not in the team any more"))
    a_while_later(ctx, monkeypatch)

    done = recovery.run(ctx)

    assert (done.finished, done.rolled_back) == (0, 1)
    [channel] = channels_named(chat)
    assert channel["delete_at"]
    assert incidents.active_incidents() == [] and the_start().state == START_ROLLED_BACK
    [told] = dms_to(chat, "alice")
    assert "could not be started" in told and "~database-down was archived" in told
    assert "/incident start Database down" in told


def test_a_start_found_long_after_the_crash_is_rolled_back_not_made_late(db, chat, ctx, monkeypatch):
    crash(chat, "create_channel", after=True)
    started_until_crash(ctx)
    a_while_later(ctx, monkeypatch, recovery.GIVE_UP_MS + 60_000)

    assert recovery.run(ctx).rolled_back == 1
    [channel] = channels_named(chat)
    assert channel["delete_at"] and incidents.active_incidents() == []
    assert "Start it again" in dms_to(chat, "alice")[0]


def test_a_recorded_incident_is_never_rolled_back_however_late_recovery_comes(db, chat, ctx, monkeypatch):
    crash(chat, "post", after=False)
    started_until_crash(ctx)
    a_while_later(ctx, monkeypatch, recovery.GIVE_UP_MS + 60_000)
    assert recovery.run(ctx).finished == 1
    [incident] = incidents.active_incidents()
    assert incident.checklist_post_id


def test_when_mattermost_does_not_answer_recovery_tries_again_at_the_next_sweep(db, chat, ctx, monkeypatch):
    crash(chat, "create_channel", after=False)
    started_until_crash(ctx)
    chat.refuse("create_channel", ChatError(0, "network", "Mattermost could not be reached"))
    a_while_later(ctx, monkeypatch)
    assert recovery.run(ctx).waiting == 1 and the_start().state == START_STARTING
    assert recovery.run(ctx).finished == 1


# ---- the person tries again ------------------------------------------------------------------------
@pytest.mark.parametrize("method, after, nth", CRASH_POINTS)
def test_a_retry_by_the_same_person_finishes_the_half_made_start_instead_of_making_a_second_channel(
        db, chat, ctx, method, after, nth):
    crash(chat, method, after=after, nth=nth)
    started_until_crash(ctx)

    retried = flow.start_incident(ctx, alice, TEAM, "Database down")

    assert retried.announced
    [channel] = channels_named(chat)
    assert retried.incident.channel_id == channel["id"]
    assert len(chat.messages(channel["id"])) == 2
    assert the_start().state == START_RECOVERED
    assert dms_to(chat, "alice") == []  # they are being answered


def test_a_retry_after_recovery_finished_it_gets_that_incident(db, chat, ctx, monkeypatch):
    crash(chat, "create_channel", after=True)
    started_until_crash(ctx)
    a_while_later(ctx, monkeypatch)
    recovery.run(ctx)
    retried = flow.start_incident(ctx, alice, TEAM, "database DOWN")
    assert [c["id"] for c in channels_named(chat)] == [retried.incident.channel_id]


def test_someone_else_starting_the_same_name_gets_an_incident_of_their_own(db, chat, ctx):
    crash(chat, "create_channel", after=True)
    started_until_crash(ctx)
    theirs = flow.start_incident(ctx, bob, TEAM, "Database down")
    assert theirs.incident.creator_id == "bob" and theirs.incident.channel_name.startswith("database-down-")
    assert IncidentStart.get(IncidentStart.creator_id == "alice").state == START_STARTING


def test_starting_the_same_name_again_after_a_finished_start_makes_a_second_incident(db, chat, ctx):
    first = flow.start_incident(ctx, alice, TEAM, "Database down").incident
    second = flow.start_incident(ctx, alice, TEAM, "Database down").incident
    assert first.id != second.id and len(channels_named(chat)) == 2


# ---- ends and restarts -----------------------------------------------------------------------------
def member(chat, actor, incident):
    return person(actor.user_id, channels=[c for (c, u) in chat.members if u == actor.user_id])


def test_an_end_killed_before_the_archive_is_archived_by_recovery_with_one_retrospective(db, chat, ctx, monkeypatch):
    incident = flow.start_incident(ctx, alice, TEAM, "Database down").incident
    crash(chat, "archive_channel", after=False)
    with pytest.raises(Crash):
        flow.end_incident(ctx, member(chat, alice, incident), incident)
    assert not chat.channels[incident.channel_id]["delete_at"]
    a_while_later(ctx, monkeypatch)

    assert recovery.run(ctx).ended == 1

    assert chat.channels[incident.channel_id]["delete_at"]
    assert ChannelChange.select().count() == 0
    drafts = [m for m in chat.messages(incident.channel_id) if m.startswith("The retrospective draft")]
    assert len(drafts) == 1


def test_an_end_killed_right_after_its_record_gets_its_retrospective_and_archive_from_recovery(db, chat, ctx, monkeypatch):
    incident = flow.start_incident(ctx, alice, TEAM, "Database down").incident
    crash(chat, "post", after=False)  # the "ended" message
    with pytest.raises(Crash):
        flow.end_incident(ctx, member(chat, alice, incident), incident)
    a_while_later(ctx, monkeypatch)
    assert recovery.run(ctx).ended == 1
    assert chat.channels[incident.channel_id]["delete_at"]
    assert any(m.startswith("The retrospective draft") for m in chat.messages(incident.channel_id))


def test_an_end_whose_archive_got_no_answer_is_archived_by_recovery(db, chat, ctx, monkeypatch):
    incident = flow.start_incident(ctx, alice, TEAM, "Database down").incident
    chat.refuse("archive_channel", ChatError(502, "", "bad gateway"))
    ended = flow.end_incident(ctx, member(chat, alice, incident), incident)
    assert ended.channel == flow.ARCHIVE_PENDING  # alice is told it comes later, not that it is archived
    assert not chat.channels[incident.channel_id]["delete_at"]
    a_while_later(ctx, monkeypatch)
    assert recovery.run(ctx).ended == 1
    assert chat.channels[incident.channel_id]["delete_at"]


def test_an_end_whose_archive_mattermost_refused_says_so_and_leaves_nothing_to_recover(db, chat, ctx, monkeypatch):
    incident = flow.start_incident(ctx, alice, TEAM, "Database down").incident
    chat.refuse("archive_channel", ChatError(403, "api.context.permissions.app_error", "no permission"))
    ended = flow.end_incident(ctx, member(chat, alice, incident), incident)
    assert (ended.channel, ended.problem) == (flow.ARCHIVE_REFUSED, "no permission")
    assert not ended.incident.is_active and not chat.channels[incident.channel_id]["delete_at"]
    a_while_later(ctx, monkeypatch)
    assert ChannelChange.select().count() == 0 and recovery.run(ctx).repaired == 0


def test_a_finished_end_leaves_nothing_to_recover(db, chat, ctx, monkeypatch):
    incident = flow.start_incident(ctx, alice, TEAM, "Database down").incident
    assert flow.end_incident(ctx, member(chat, alice, incident), incident).channel == flow.ARCHIVED
    a_while_later(ctx, monkeypatch)
    assert ChannelChange.select().count() == 0 and recovery.run(ctx).repaired == 0


def test_a_restart_killed_after_the_channel_was_restored_is_recorded_by_recovery(db, chat, ctx, monkeypatch):
    incident = flow.start_incident(ctx, alice, TEAM, "Database down").incident
    ended = flow.end_incident(ctx, member(chat, alice, incident), incident).incident
    crash(chat, "restore_channel", after=True)
    with pytest.raises(Crash):
        flow.restart_incident(ctx, member(chat, alice, incident), ended)
    assert not incidents.reload(ended).is_active and not chat.channels[incident.channel_id]["delete_at"]
    a_while_later(ctx, monkeypatch)

    assert recovery.run(ctx).restarted == 1

    restarted = incidents.reload(ended)
    assert restarted.is_active and incidents.restarts(restarted) == 1
    assert "@alice restarted the incident **Database down**." in chat.messages(incident.channel_id)
    assert ChannelChange.select().count() == 0


def test_a_restart_killed_before_the_channel_was_restored_leaves_the_incident_ended(db, chat, ctx, monkeypatch):
    incident = flow.start_incident(ctx, alice, TEAM, "Database down").incident
    ended = flow.end_incident(ctx, member(chat, alice, incident), incident).incident
    crash(chat, "restore_channel", after=False)
    with pytest.raises(Crash):
        flow.restart_incident(ctx, member(chat, alice, incident), ended)
    a_while_later(ctx, monkeypatch)
    assert recovery.run(ctx).repaired == 0
    assert not incidents.reload(ended).is_active and chat.channels[incident.channel_id]["delete_at"]
    assert ChannelChange.select().count() == 0
