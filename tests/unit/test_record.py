"""The record of an incident: pins, follow-ups, members, the timeline read back, the draft."""
from __future__ import annotations

import pytest

from flows import incidents as incident_flow
from flows import record as flow
from services import incidents as svc
from services import record
from services.errors import Conflict, Forbidden, Invalid, NotFound
from tests.unit.conftest import TEAM, person

alice = person("alice", channels=["c1"])
bob = person("bob", channels=["c1"])
outsider = person("mallory")


@pytest.fixture
def incident(db):
    return svc.start_incident(alice, TEAM, "Database down", "c1")


def test_a_post_is_pinned_once_and_unpinned(incident):
    record.pin(alice, incident, "p1", "the first error")
    with pytest.raises(Conflict, match="on the timeline already"):
        record.pin(bob, incident, "p1")
    assert [(p.post_id, p.summary) for p in record.pins_of(incident)] == [("p1", "the first error")]
    assert record.unpin(bob, incident, "p1") is True and record.unpin(bob, incident, "p1") is False
    assert [e.kind for e in record.entries(incident)][-2:] == ["post_pinned", "post_unpinned"]


def test_outsiders_pin_nothing(incident):
    with pytest.raises(Forbidden):
        record.pin(outsider, incident, "p1")


def test_follow_ups_are_numbered_survive_the_end_and_are_done_once(incident):
    first = record.add_followup(alice, incident, "Add an alert on replication lag", owner_id="bob")
    ended = svc.end_incident(alice, incident)
    second = record.add_followup(alice, ended, "Write the runbook")
    assert (first.number, second.number) == (1, 2)
    assert record.finish_followup(bob, ended, 1).is_done
    with pytest.raises(Conflict, match="done already"):
        record.finish_followup(bob, ended, 1)
    with pytest.raises(NotFound, match="no follow-up 99"):
        record.finish_followup(bob, ended, 99)
    assert record.open_followups([incident.id]) == {incident.id: 1}


@pytest.mark.parametrize("text, answer", [("", "Say what has to be done"), ("  \x00 ", "Say what has to be done"),
                                          ("x" * 501, "at most 500 characters")])
def test_a_follow_up_needs_words(incident, text, answer):
    with pytest.raises(Invalid, match=answer):
        record.add_followup(alice, incident, text)


def test_the_starter_joining_their_new_channel_is_part_of_the_start(incident):
    assert record.member_changed(incident, "alice", True, None) is False
    assert record.member_changed(incident, "alice", False, None) is True


def test_a_member_joining_is_recorded_once_however_many_replicas_hear_it(incident):
    assert record.member_changed(incident, "bob", True, None) is True
    assert record.member_changed(incident, "bob", True, None) is False
    assert record.member_changed(incident, "bob", False, "alice") is True
    assert record.member_changed(incident, "bob", True, None) is True
    assert [e.data["user_id"] for e in record.entries(incident) if e.kind.startswith("member_")] == ["bob"] * 3


def test_ticks_are_on_the_timeline_only_when_asked(incident):
    from services import checklists

    item = checklists.add_item(alice, incident, "Page the on-call")
    checklists.set_item_state(alice, incident, item.id, True)
    assert "item_checked" not in [e.kind for e in record.entries(incident)]
    assert "item_checked" in [e.kind for e in record.entries(incident, with_ticks=True)]


# ---- through the flows, with a chat port in memory (fixtures `chat`, `ctx`) --------------------------


def test_only_posts_of_the_incident_channel_go_on_its_timeline(db, chat, ctx):
    incident = incident_flow.start_incident(ctx, alice, TEAM, "Cache down").incident
    member = person("alice", channels=[incident.channel_id])
    elsewhere = chat.post("town-square", "secret plans")
    here = chat.post(incident.channel_id, "the graph")
    with pytest.raises(Invalid, match="Only posts of ~cache-down"):
        flow.pin(ctx, member, incident, elsewhere["id"])
    with pytest.raises(NotFound, match="cannot find that post"):
        flow.pin(ctx, member, incident, "nosuchpost")
    flow.pin(ctx, member, incident, here["id"])
    chat.posts[here["id"]]["message"] = "the graph, edited"
    shown = flow.timeline(ctx, member, incident, __import__("datetime").timezone.utc, with_ticks=False)
    assert "the graph, edited" in shown and "secret plans" not in shown
    chat.posts[here["id"]]["delete_at"] = 1
    assert "(deleted)" in flow.timeline(ctx, member, incident, __import__("datetime").timezone.utc, with_ticks=False)


@pytest.mark.parametrize("reference, post_id", [
    ("https://chat.example.com/ops/pl/abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz"),
    ("abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz"),
    ("https://chat.example.com/ops/pl/abcdefghijklmnopqrstuvwxyz/", "abcdefghijklmnopqrstuvwxyz"),
])
def test_a_post_is_named_by_its_link_or_its_id(reference, post_id):
    assert flow.post_id_from(reference) == post_id


@pytest.mark.parametrize("reference", ["", "12", "https://evil/pl/../../x", "abc\x00defghijklmnopqrstuvwxyz", "1" * 5000])
def test_anything_else_is_not_a_post(reference):
    with pytest.raises(Invalid, match="post's link"):
        flow.post_id_from(reference)


def test_the_retrospective_draft_has_every_section_with_the_record_in_it(db, chat, ctx):
    from flows import updates as updates_flow
    from services import checklists

    incident = incident_flow.start_incident(ctx, alice, TEAM, "Payments failing", severity=2).incident
    member = person("alice", channels=[incident.channel_id])
    item = checklists.add_item(member, incident, "Fail over the database")
    checklists.set_item_state(member, incident, item.id, True)
    updates_flow.post_update(ctx, member, incident, "Failing over now.")
    graph = chat.post(incident.channel_id, "error rate graph")
    flow.pin(ctx, member, incident, graph["id"], "the spike")
    flow.add_followup(ctx, member, incident, "Alert on failover time", {"id": "bob", "username": "bob"})
    draft = flow.retrospective(ctx, svc.by_id(incident.id))
    sections = {block.split("\n", 1)[0]: block for block in draft.split("\n## ")[1:]}
    assert list(sections) == ["Summary", "Status updates", "Timeline", "Checklist", "Pinned posts", "Follow-ups",
                              "Impact", "Root cause", "What went well", "What to improve"]
    assert "- Severity: SEV2" in sections["Summary"] and "- Commander: @alice" in sections["Summary"]
    assert "Time to first update: 0m" in sections["Summary"] and "not resolved yet" in sections["Summary"]
    assert "(SEV2): Failing over now." in sections["Status updates"]
    assert "- [x] Fail over the database (@alice," in sections["Checklist"]
    assert "pinned by @alice: the spike\n> error rate graph" in sections["Pinned posts"]
    assert "- [ ] 1. Alert on failover time (@bob)" in sections["Follow-ups"]
    assert "started the incident (SEV2)" in sections["Timeline"] and "recorded follow-up 1 for @bob" in sections["Timeline"]
    assert sections["Root cause"].strip().endswith("_To be written by the team._")
    assert chat.messages("dm-bob")  # the owner was told
