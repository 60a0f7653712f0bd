"""Long work shows progress: an export or the numbers of a long channel answer at once, keep one
direct message up to date with how far they got, and replace it with the result."""

from __future__ import annotations

import threading
from datetime import timezone

import pytest

from flows import backstage as backstage_flow
from flows import incidents as incidents_flow
from flows import long_work
from flows.long_work import LongWork, ProgressNote
from flows.port import ChatError
from tests.unit.conftest import TEAM, person

alice = person("alice")


@pytest.fixture(autouse=True)
def every_page_shows(monkeypatch):
    monkeypatch.setattr(long_work, "PROGRESS_SECONDS", 0)


def incident_with_posts(ctx, chat, count):
    incident = incidents_flow.start_incident(ctx, alice, TEAM, "Long night").incident
    for n in range(count):
        chat.post(incident.channel_id, f"message {n}")
    member = person("alice", channels=[incident.channel_id])
    return incident, member


def dms(chat, user_id="alice"):
    return [post for post in chat.posts.values() if post["channel_id"] == f"dm-{user_id}"]


def test_a_long_export_keeps_one_progress_message_and_replaces_it_with_the_file(db, chat, ctx):
    incident, member = incident_with_posts(ctx, chat, 450)  # three pages

    answer = backstage_flow.export(ctx, member, incident)
    ctx.long_work.drain()

    assert answer == "Exporting ~long-night; I'll send you the CSV file in a direct message."
    assert chat.calls.count("direct_message") == 2  # the progress message, then the file
    assert chat.calls.count("patch_post") == 1  # 200 posts read, then 400
    assert "delete_post" in chat.calls
    (result,) = dms(chat)  # the progress message is gone
    assert result["message"].startswith("The export of **Long night** (~long-night): 452 posts")
    assert len(result["file_ids"]) == 1


def test_a_short_export_sends_only_the_file(db, chat, ctx):
    incident, member = incident_with_posts(ctx, chat, 3)

    backstage_flow.export(ctx, member, incident)
    ctx.long_work.drain()

    assert chat.calls.count("direct_message") == 1
    assert "delete_post" not in chat.calls


def test_asking_twice_while_the_export_runs_exports_once(db, chat, ctx):
    incident, member = incident_with_posts(ctx, chat, 3)
    release = threading.Event()
    chat_pages = chat.channel_post_pages

    def slow_pages(channel_id):
        release.wait(5)
        yield from chat_pages(channel_id)

    chat.channel_post_pages = slow_pages
    first = backstage_flow.export(ctx, member, incident)
    second = backstage_flow.export(ctx, member, incident)
    release.set()
    ctx.long_work.drain()

    assert first.startswith("Exporting ~long-night")
    assert second == "Your export of ~long-night is still running; the CSV file will come in a direct message."
    assert len([post for post in dms(chat) if post["file_ids"]]) == 1
    # once it is done, asking again exports again
    backstage_flow.export(ctx, member, incident)
    ctx.long_work.drain()
    assert len([post for post in dms(chat) if post["file_ids"]]) == 2


def test_an_export_that_mattermost_stops_says_so_and_leaves_no_progress_message(db, chat, ctx):
    incident, member = incident_with_posts(ctx, chat, 450)
    pages = chat.channel_post_pages

    def failing_pages(channel_id):
        iterator = pages(channel_id)
        yield next(iterator)
        yield next(iterator)
        raise ChatError(503, "api.context.server_busy.app_error", "Server is busy")

    chat.channel_post_pages = failing_pages
    backstage_flow.export(ctx, member, incident)
    ctx.long_work.drain()

    (told,) = dms(chat)
    assert told["message"] == ("The export of ~long-night stopped: Mattermost answered 'Server is busy'. "
                               "Run `/incident export` again in a minute.")


def test_the_numbers_of_a_short_channel_come_at_once(db, chat, ctx):
    incident, member = incident_with_posts(ctx, chat, 10)

    answer = backstage_flow.stats(ctx, member, incident, timezone.utc)
    ctx.long_work.drain()

    assert answer.complete
    assert "Messages: **12**" in answer.text
    (chart,) = dms(chat)
    assert "Messages: **12**" in chart["message"] and chart["file_ids"]


def test_the_numbers_of_a_long_channel_come_by_dm_with_progress(db, chat, ctx, monkeypatch):
    monkeypatch.setattr(backstage_flow, "QUICK_PAGES", 1)
    incident, member = incident_with_posts(ctx, chat, 450)

    answer = backstage_flow.stats(ctx, member, incident, timezone.utc)
    ctx.long_work.drain()

    assert not answer.complete
    assert answer.text == ("~long-night has a long history (200 messages so far); I'll send you its numbers and the "
                           "checklist chart in a direct message when I have read it all.")
    assert "delete_post" in chat.calls  # the progress message made way for the numbers
    (numbers,) = dms(chat)
    assert "Messages: **452**" in numbers["message"] and numbers["file_ids"]


def test_the_same_job_runs_once_at_a_time():
    work = LongWork()
    gate = threading.Event()
    ran = []

    def job():
        gate.wait(5)
        ran.append(1)

    assert work.start("export", job)
    assert not work.start("export", job)
    assert work.start("other", lambda: ran.append(2))
    gate.set()
    work.drain()
    assert sorted(ran) == [1, 2]
    work.stop()


def test_a_progress_message_is_edited_no_more_than_once_a_second(chat, monkeypatch):
    monkeypatch.setattr(long_work, "PROGRESS_SECONDS", 1.0)
    moments = iter([0.0, 0.4, 0.9, 1.2, 1.5])
    note = ProgressNote(chat, "alice", clock=lambda: next(moments))

    for n in range(4):
        note.report(f"{n} read")

    assert chat.calls == ["direct_message", "patch_post"]  # at 0.0 posted; 0.4, 0.9 skipped; 1.2 edited
    (shown,) = dms(chat)
    assert shown["message"] == "3 read"
