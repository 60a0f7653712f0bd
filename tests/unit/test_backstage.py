"""Backstage queries: filters combine, search ignores case and accents, sorts, pages, privacy."""
from __future__ import annotations

import pytest

from models import Incident
from models.incidents import name_key, search_key
from services import backstage, updates
from services.backstage import Filters
from services.errors import Invalid
from tests.unit.conftest import OTHER_TEAM, TEAM, person

ALICE_CHANNELS = {"c-private-alice", "c-Disk full"}  # what Mattermost says she is in
ALICE = person("alice", channels=ALICE_CHANNELS)
BOB = person("bob")
ADMIN = person("carol", team_admin=True)


def make(name, *, created, ended=None, commander="alice", private=False, team=TEAM, channel=None):
    return Incident.create(team_id=team, name=name, name_key=name_key(name), channel_id=channel or f"c-{name}",
                           channel_name=(channel or f"c-{name}").lower()[:64], commander_id=commander, creator_id=commander,
                           is_private=private, is_active=ended is None, created_at=created, ended_at=ended)


@pytest.fixture
def team(db):
    make("Ziggürat flood", created=100, ended=900, commander="bob")
    make("Disk full", created=200)
    make("DNS 100% down", created=300, ended=400)
    make("Secret merger", created=400, private=True, channel="c-private-alice")
    make("Other secret", created=500, private=True)
    make("Elsewhere", created=600, team=OTHER_TEAM)
    make("under_score", created=700, ended=800, commander="bob")


def names(page):
    return [i.name for i in page.incidents]


def test_search_key_folds_case_accents_and_spaces():
    assert search_key("  ZIGGÜRAT   Straße ") == "ziggurat strasse"
    assert search_key("Øresund Łódź") == "oresund lodz"


def test_newest_first_and_only_what_one_may_see(team):
    assert names(backstage.browse(BOB, TEAM)) == ["under_score", "DNS 100% down", "Disk full", "Ziggürat flood"]
    assert names(backstage.browse(ALICE, TEAM, member_of=ALICE_CHANNELS))[:2] == ["under_score", "Secret merger"]
    assert "Other secret" in names(backstage.browse(ADMIN, TEAM))
    assert "Elsewhere" not in names(backstage.browse(ADMIN, TEAM))
    assert names(backstage.browse(person("dave", team=OTHER_TEAM), TEAM)) == []


def test_search_ignores_case_and_accents_and_takes_wildcards_literally(team):
    assert names(backstage.browse(BOB, TEAM, Filters(search="ziggurat"))) == ["Ziggürat flood"]
    assert names(backstage.browse(BOB, TEAM, Filters(search="ZIGGÜRAT"))) == ["Ziggürat flood"]
    assert names(backstage.browse(BOB, TEAM, Filters(search="100%"))) == ["DNS 100% down"]
    assert names(backstage.browse(BOB, TEAM, Filters(search="_"))) == ["under_score"]
    assert names(backstage.browse(BOB, TEAM, Filters(search="secret"))) == []
    assert names(backstage.browse(ALICE, TEAM, Filters(search="secret"), member_of=ALICE_CHANNELS)) == ["Secret merger"]


def test_filters_combine(team):
    assert names(backstage.browse(BOB, TEAM, Filters(status="ended", commander_id="bob"))) == ["under_score", "Ziggürat flood"]
    assert names(backstage.browse(BOB, TEAM, Filters(status="ongoing"))) == ["Disk full"]
    assert names(backstage.browse(BOB, TEAM, Filters(status="ended", commander_id="bob", search="zig"))) == ["Ziggürat flood"]


def test_sorts(team):
    assert names(backstage.browse(BOB, TEAM, Filters(sort="end"))) == ["Ziggürat flood", "under_score", "DNS 100% down", "Disk full"]
    assert names(backstage.browse(BOB, TEAM, Filters(sort="name"))) == ["Disk full", "DNS 100% down", "under_score", "Ziggürat flood"]


def test_paging_and_past_the_end(team):
    first = backstage.browse(BOB, TEAM, Filters(page=1), per_page=3)
    second = backstage.browse(BOB, TEAM, Filters(page=2), per_page=3)
    beyond = backstage.browse(BOB, TEAM, Filters(page=3), per_page=3)
    assert (first.total, first.pages, first.has_previous, first.has_next) == (4, 2, False, True)
    assert names(second) == ["Ziggürat flood"] and second.has_previous and not second.has_next
    assert beyond.incidents == [] and beyond.past_end


def test_bad_filters_are_refused():
    for bad in (dict(status="open"), dict(sort="size"), dict(page=0), dict(search="x" * 101)):
        with pytest.raises(Invalid):
            Filters(**bad)


# ---- counting stops early; the incident list is a page of the ongoing ones ----------------------
def many(count, *, start=1000, ended=False, private=False, prefix="Outage"):
    return [make(f"{prefix} {n}", created=start + n, ended=start + n + 1 if ended else None, private=private)
            for n in range(count)]


def test_a_big_count_stops_at_the_limit_and_the_last_page_says_the_true_number(db, monkeypatch):
    monkeypatch.setattr(backstage, "COUNT_MAX", 30)
    many(50)
    first = backstage.browse(BOB, TEAM, Filters(), per_page=10)
    assert (first.total, first.exact, first.pages, first.has_next) == (30, False, 3, True)
    third = backstage.browse(BOB, TEAM, Filters(page=3), per_page=10)
    assert third.has_next and not third.exact, "the count stopped at 30, but the extra row says there are more"
    last = backstage.browse(BOB, TEAM, Filters(page=5), per_page=10)
    assert names(last) == [f"Outage {n}" for n in range(9, -1, -1)]
    assert (last.total, last.exact, last.has_next) == (50, True, False)
    beyond = backstage.browse(BOB, TEAM, Filters(page=7), per_page=10)
    assert beyond.past_end and (beyond.total, beyond.exact, beyond.pages) == (50, True, 5)


def test_a_page_far_past_the_limit_still_knows_there_is_a_next_one(db, monkeypatch):
    monkeypatch.setattr(backstage, "COUNT_MAX", 10)
    many(35)
    deep = backstage.browse(BOB, TEAM, Filters(page=3), per_page=10)
    assert names(deep) == [f"Outage {n}" for n in range(14, 4, -1)]
    assert (deep.first_index, deep.last_index, deep.has_next, deep.exact) == (21, 30, True, False)


def test_the_incident_list_is_the_ongoing_incidents_one_may_see_newest_first_a_page_at_a_time(db):
    many(45)
    many(5, start=5000, ended=True, prefix="Over")
    make("Secret merger", created=9000, private=True, channel="c-private-alice")
    make("Other secret", created=9001, private=True)
    first = backstage.active(BOB, TEAM)
    assert names(first) == [f"Outage {n}" for n in range(44, 24, -1)]
    assert (first.total, first.pages, first.has_next) == (45, 3, True)
    assert names(backstage.active(BOB, TEAM, 3)) == [f"Outage {n}" for n in range(4, -1, -1)]
    alices = backstage.active(ALICE, TEAM, member_of=ALICE_CHANNELS)
    assert names(alices)[0] == "Secret merger" and alices.total == 46
    assert backstage.active(ADMIN, TEAM).total == 47
    assert backstage.active(BOB, TEAM, 4).past_end


def test_the_next_updates_due_of_a_page_come_in_one_query(db):
    from models.updates import UpdateReminder

    due, unset, none = many(3)
    UpdateReminder.create(incident=due.id, due_at=123_000)
    UpdateReminder.create(incident=unset.id, due_at=None)
    assert updates.next_due_of([due.id, unset.id, none.id]) == {due.id: 123_000}
    assert updates.next_due_of([]) == {}
