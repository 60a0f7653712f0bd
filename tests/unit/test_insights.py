"""Team metrics and the weekly digest: numbers worked out by hand, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from flows import insights as flow
from flows.port import ChatError
from models import Incident, StatusUpdate
from models.incidents import name_key
from models.insights import DigestPost
from render import insights as view
from services import backstage, incidents, insights, timeline
from services.errors import Forbidden, Invalid
from tests.unit.conftest import TEAM, person

MIN = 60_000
HOUR = 60 * MIN
DAY = 24 * HOUR
MONDAY = 1_709_510_400_000  # 2024-03-04 00:00 UTC, a Monday
UTC = ZoneInfo("UTC")
_numbers = itertools.count(1)

alice = person("alice")  # a team member, in no incident channel
admin = person("root", team_admin=True)


def incident(created: int, *, severity: int = 3, ended: int | None = None, private: bool = False,
             update_after: int | None = None, tick_after: int | None = None, team: str = TEAM) -> Incident:
    """An incident started at `created`, with its first update and/or first tick that many ms later."""
    number = next(_numbers)
    row = Incident.create(team_id=team, name=f"Incident {number}", name_key=name_key(f"Incident {number}"),
                          channel_id=f"chan-{number}", channel_name=f"incident-{number}", commander_id="alice",
                          creator_id="alice", is_private=private, is_active=ended is None, created_at=created,
                          ended_at=ended, severity=severity)
    if update_after is not None:
        StatusUpdate.create(incident=row.id, author_id="alice", message="later", severity=severity,
                            posted_at=created + update_after + MIN)
        StatusUpdate.create(incident=row.id, author_id="alice", message="first", severity=severity,
                            posted_at=created + update_after)
    if tick_after is not None:
        timeline.record(row, "item_checked", "alice", at=created + tick_after)
    if ended is not None:
        timeline.record(row, "incident_ended", "alice", at=ended)
    # what services.updates and services.checklists store on the incident as they record these
    Incident.update(first_update_at=None if update_after is None else created + update_after,
                    first_tick_at=None if tick_after is None else created + tick_after).where(Incident.id == row.id).execute()
    return row


def numbers(actor=admin, member_of=frozenset(), since=MONDAY - DAY, until=None, **scope):
    visible = backstage.visible_to(actor, TEAM, member_of)
    return insights.metrics(insights.Scope(TEAM, since, until, **scope), visible, UTC, now=MONDAY + 14 * DAY)


# ---- the numbers ---------------------------------------------------------------------------------
def test_a_scripted_set_of_incidents_gives_the_mtta_and_mttr_worked_out_by_hand(db):
    # week 1 (from MONDAY): four incidents; week 2: one, still open
    # ack 5m (the update wins over the earlier tick), open 2h
    incident(MONDAY + 1 * HOUR, severity=1, update_after=5 * MIN, tick_after=2 * MIN, ended=MONDAY + 3 * HOUR)
    incident(MONDAY + 2 * HOUR, severity=2, tick_after=20 * MIN, ended=MONDAY + 2 * HOUR + 30 * MIN)  # no update: ack by tick 20m, open 30m
    incident(MONDAY + 3 * HOUR, severity=2, update_after=10 * MIN, ended=MONDAY + 13 * HOUR)  # ack 10m, open 10h
    incident(MONDAY + 4 * HOUR, severity=3, ended=MONDAY + 5 * HOUR)  # never acknowledged, open 1h
    incident(MONDAY + 8 * DAY, severity=1, update_after=40 * MIN)  # ack 40m, still open
    incident(MONDAY - 3 * DAY, severity=1, update_after=MIN, ended=MONDAY - 2 * DAY)  # before the window
    incident(MONDAY + HOUR, team="team-b", update_after=MIN, ended=MONDAY + 2 * HOUR)  # another team

    result = numbers()

    assert (result.total.started, result.total.ended, result.total.open) == (5, 4, 1)
    # MTTA values 5m, 10m, 20m, 40m (n=4): median = rank ceil(2) = 10m, p90 = rank ceil(3.6) = 40m
    assert result.total.mtta == insights.Spread(4, 10 * MIN, 40 * MIN)
    # MTTR values 30m, 1h, 2h, 10h (n=4): median = 2nd = 1h, p90 = 4th = 10h
    assert result.total.mttr == insights.Spread(4, HOUR, 10 * HOUR)
    assert sorted(result.by_severity) == [1, 2, 3]
    sev1, sev2, sev3 = result.by_severity[1], result.by_severity[2], result.by_severity[3]
    assert (sev1.started, sev1.ended, sev1.open) == (2, 1, 1)
    assert sev1.mtta == insights.Spread(2, 5 * MIN, 40 * MIN)  # n=2: median rank 1, p90 rank 2
    assert sev1.mttr == insights.Spread(1, 2 * HOUR, 2 * HOUR)
    assert sev2.mtta == insights.Spread(2, 10 * MIN, 20 * MIN)
    assert sev2.mttr == insights.Spread(2, 30 * MIN, 10 * HOUR)
    assert sev3.mtta == insights.Spread(0, None, None) and sev3.mttr == insights.Spread(1, HOUR, HOUR)
    # weeks from the Monday before the window's start (empty) to now (Monday 00:00: the new week is not begun)
    assert [w.start_ms for w in result.weeks] == [MONDAY - 7 * DAY, MONDAY, MONDAY + 7 * DAY]
    assert [w.by_severity for w in result.weeks] == [{}, {1: 1, 2: 2, 3: 1}, {1: 1}]
    assert result.weeks[1].mttr == insights.Spread(4, HOUR, 10 * HOUR)
    assert result.weeks[2].mttr == insights.Spread(0, None, None)


def test_nearest_rank_percentiles_of_ten_values(db):
    for minutes in (7, 1, 9, 3, 10, 2, 8, 4, 6, 5):  # MTTR 1..10 minutes, in no order
        incident(MONDAY + minutes * HOUR, ended=MONDAY + minutes * HOUR + minutes * MIN)
    # n=10: median = rank 5 = 5m, p90 = rank 9 = 9m
    assert numbers().total.mttr == insights.Spread(10, 5 * MIN, 9 * MIN)


def test_filters_by_playbook_severity_and_window(db):
    from models import Playbook

    playbook = Playbook.create(team_id=TEAM, title="Outage", title_key="outage", created_by="alice", created_at=0, updated_at=0)
    first = incident(MONDAY + HOUR, severity=1, ended=MONDAY + 2 * HOUR)
    Incident.update(playbook=playbook.id).where(Incident.id == first.id).execute()
    incident(MONDAY + 2 * HOUR, severity=2, ended=MONDAY + 4 * HOUR)
    incident(MONDAY + 9 * DAY, severity=1)
    assert numbers(playbook_id=playbook.id).total.started == 1
    assert numbers(severity=1).total.started == 2
    assert numbers(since=MONDAY, until=MONDAY + DAY).total.started == 2


# ---- privacy ---------------------------------------------------------------------------------------
def test_a_private_incident_counts_for_its_members_and_admins_only(db):
    incident(MONDAY + HOUR, ended=MONDAY + 2 * HOUR)
    secret = incident(MONDAY + 2 * HOUR, private=True, ended=MONDAY + 12 * HOUR)

    outsider = numbers(alice)
    assert outsider.total.started == 1 and outsider.total.mttr == insights.Spread(1, HOUR, HOUR)
    assert outsider.private_seen == 0
    member = numbers(alice, member_of=frozenset({secret.channel_id}))
    assert member.total.started == 2 and member.private_seen == 1
    assert numbers(admin).total.started == 2
    stranger = person("mallory", team="team-b")  # not in the team: sees nothing, even public ones
    assert numbers(stranger).total.started == 0


# ---- restarts --------------------------------------------------------------------------------------
# (a restarted incident that ended: tests/unit/test_metrics_figures.py)
def test_a_restarted_incident_still_open_counts_as_open(db):
    commander = person("alice", channels={"chan-again"})
    started = incidents.start_incident(commander, TEAM, "Again", "chan-again")
    incidents.end_incident(commander, started)
    incidents.restart_incident(commander, started)
    Incident.update(created_at=MONDAY + HOUR).where(Incident.id == started.id).execute()
    result = numbers()
    assert (result.total.started, result.total.ended, result.total.open) == (1, 0, 1)
    assert result.total.mttr.count == 0


# ---- what people type ------------------------------------------------------------------------------
def test_since_takes_days_or_a_date_in_the_team_zone():
    now = MONDAY + 10 * DAY
    assert insights.parse_since("7d", UTC, now) == now - 7 * DAY
    assert insights.parse_since(None, UTC, now) == now - 30 * DAY
    berlin = ZoneInfo("Europe/Berlin")
    assert insights.parse_since("2024-03-04", berlin, now) == MONDAY - HOUR  # midnight in Berlin is 23:00 UTC
    for wrong in ("0d", "99999d", "yesterday", "2024-13-01", "1999-12-31", "2030-01-01", "-3d"):
        with pytest.raises(Invalid):
            insights.parse_since(wrong, UTC, now)


def test_timezones_are_checked_and_set_by_admins_only(db):
    assert insights.parse_zone("Europe/Berlin") == "Europe/Berlin"
    assert insights.parse_zone("utc") == "UTC"
    for wrong in ("Mars/Olympus", "../../etc/passwd", "Berlin", "x" * 200, ""):
        with pytest.raises(Invalid):
            insights.parse_zone(wrong)
    with pytest.raises(Forbidden):
        insights.set_zone(alice, TEAM, "Europe/Berlin")
    insights.set_zone(admin, TEAM, "Europe/Berlin")
    assert str(insights.zone_of(TEAM)) == "Europe/Berlin"
    assert str(insights.zone_of("team-b")) == "UTC"


# ---- when the digest is due -------------------------------------------------------------------------
def test_the_digest_is_due_monday_0900_team_time_for_the_week_before():
    berlin = ZoneInfo("Europe/Berlin")
    wednesday = int(datetime(2024, 4, 3, 12, 0, tzinfo=berlin).timestamp() * 1000)
    window = insights.digest_window(wednesday, berlin)
    assert window.due_at == int(datetime(2024, 4, 1, 9, 0, tzinfo=berlin).timestamp() * 1000)
    # the week before: Monday 25 March 00:00 (CET) to Monday 1 April 00:00 (CEST, after the change)
    assert window.since_ms == int(datetime(2024, 3, 25, tzinfo=berlin).timestamp() * 1000)
    assert window.until_ms == int(datetime(2024, 4, 1, tzinfo=berlin).timestamp() * 1000)
    assert window.next_due_at == int(datetime(2024, 4, 8, 9, 0, tzinfo=berlin).timestamp() * 1000)
    early_monday = int(datetime(2024, 4, 8, 8, 59, tzinfo=berlin).timestamp() * 1000)
    assert insights.digest_window(early_monday, berlin).due_at == window.due_at  # not yet 09:00


def test_a_shortened_week_for_tests():
    scale = 10_000 / insights.WEEK_MS  # a "week" of 10 s
    window = insights.digest_window(insights.SCALED_ANCHOR_MS + 25_000, UTC, scale)
    assert (window.due_at - insights.SCALED_ANCHOR_MS, window.until_ms - window.since_ms) == (20_000, 10_000)
    assert window.next_due_at == window.due_at + 10_000


def test_the_settings_answer_names_the_period_the_digest_really_comes_at():
    # an admin setting the digest on a demo bot whose week lasts 10 s is not told "every Monday"
    real = view.digest_schedule("Europe/Berlin", insights.scaled_digest_period_ms(1.0))
    assert real == "every Monday at 09:00 (Europe/Berlin)"
    short = view.digest_schedule("Europe/Berlin", insights.scaled_digest_period_ms(10_000 / insights.WEEK_MS))
    assert short.startswith("every 10 s") and "Monday" not in short and "UPDATES_TIME_SCALE" in short
    hourly = view.digest_schedule("UTC", insights.scaled_digest_period_ms(1 / 168))
    assert hourly.startswith("every 1h ")


# ---- the digest --------------------------------------------------------------------------------------
@pytest.fixture
def digest_channel(chat):
    chat.channels["town"] = {"id": "town", "team_id": TEAM, "name": "town-square", "type": "O", "delete_at": 0}
    return chat.channels["town"]


def at_monday_0900(ctx, weeks: int = 0) -> int:
    ctx.now = lambda: MONDAY + weeks * 7 * DAY + 9 * HOUR + MIN
    return MONDAY + weeks * 7 * DAY + 9 * HOUR


def test_the_digest_posts_last_weeks_public_numbers_and_open_incidents_once(db, ctx, chat, digest_channel):
    ctx.now = lambda: MONDAY - DAY
    flow.set_digest(ctx, admin, TEAM, "~town-square")
    assert ("town", "bot-user") in chat.members  # the bot joined the public channel
    incident(MONDAY + HOUR, severity=2, update_after=5 * MIN, ended=MONDAY + 3 * HOUR)
    incident(MONDAY + 2 * HOUR, severity=1, update_after=15 * MIN)  # still open
    secret = incident(MONDAY + 3 * HOUR, private=True)  # open too, but private
    Incident.update(name="Secret payroll leak").where(Incident.id == secret.id).execute()

    due = at_monday_0900(ctx, weeks=1)
    assert flow.send_due_digests(ctx) == 1
    assert flow.send_due_digests(ctx) == 0  # claimed: a second sweep (or replica) posts nothing
    [text] = chat.messages("town")
    assert "Started **2** · Ended **1** · Still open **1**" in text
    assert "MTTA 5m (p90 15m) · MTTR 2h (p90 2h)" in text
    assert "SEV1 1 · SEV2 1" in text
    assert "Open incidents now: 1" in text and "Incident" in text
    assert "Secret" not in text and "Only public incidents are counted" in text
    assert [d.due_at for d in insights.digests_of(TEAM)] == [due]


def test_no_digest_for_a_week_that_was_due_before_it_was_switched_on(db, ctx, chat, digest_channel):
    at_monday_0900(ctx, weeks=1)
    flow.set_digest(ctx, admin, TEAM, "town-square")  # 09:01: this Monday's is past
    assert flow.send_due_digests(ctx) == 0
    at_monday_0900(ctx, weeks=2)
    assert flow.send_due_digests(ctx) == 1


def test_a_failed_digest_is_retried_after_a_server_error_but_not_after_a_refusal(db, ctx, chat, digest_channel):
    ctx.now = lambda: MONDAY
    flow.set_digest(ctx, admin, TEAM, "town-square")
    at_monday_0900(ctx, weeks=1)
    chat.refuse("post", ChatError(503, "api.context.server_busy", "busy"))
    assert flow.send_due_digests(ctx) == 0
    assert flow.send_due_digests(ctx) == 1  # the claim was given back
    at_monday_0900(ctx, weeks=2)
    chat.refuse("post", ChatError(403, "api.context.permissions.app_error", "no permission"))
    assert flow.send_due_digests(ctx) == 0
    assert flow.send_due_digests(ctx) == 0  # kept, with why
    assert DigestPost.get(DigestPost.due_at == MONDAY + 14 * DAY + 9 * HOUR).problem == "no permission"


def test_only_admins_choose_the_digest_channel_and_it_must_exist(db, ctx, chat, digest_channel):
    with pytest.raises(Forbidden):
        flow.set_digest(ctx, alice, TEAM, "town-square")
    with pytest.raises(Invalid, match="no channel ~nowhere"):
        flow.set_digest(ctx, admin, TEAM, "nowhere")
    chat.channels["hidden"] = {"id": "hidden", "team_id": TEAM, "name": "hidden", "type": "P", "delete_at": 0}
    chat.members.add(("hidden", "root"))
    with pytest.raises(Invalid, match="invite me"):
        flow.set_digest(ctx, admin, TEAM, "hidden")
    flow.set_digest(ctx, admin, TEAM, "town-square")
    flow.set_digest(ctx, admin, TEAM, None)
    assert insights.digest_teams() == []


# ---- a person's metrics ---------------------------------------------------------------------------------
def test_metrics_answer_and_the_chart_by_dm(db, ctx, chat):
    ctx.now = lambda: MONDAY + 3 * DAY
    incident(MONDAY + HOUR, severity=1, update_after=5 * MIN, ended=MONDAY + 3 * HOUR)
    text = flow.metrics(ctx, alice, TEAM, since="7d")
    assert "| **All** | 1 | 1 | 0 | 5m (p90 5m) | 2h (p90 2h) |" in text
    assert "the private ones whose channel you are in" in text
    ctx.long_work.drain(10)
    [dm] = [p for p in chat.posts.values() if p["channel_id"] == "dm-alice"]
    png = chat.files[dm["file_ids"][0]]["content"]
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000
    assert "Counted over the incidents you can see" in dm["message"]
    assert "every incident of this team" in flow.metrics(ctx, admin, TEAM)
    with pytest.raises(Invalid, match="Only members"):
        flow.metrics(ctx, person("mallory", team="team-b"), TEAM)
