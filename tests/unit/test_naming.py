"""Incident names become valid Mattermost channel names; item references parse or explain."""
from __future__ import annotations

import re

import pytest

from services.errors import Invalid
from services.naming import channel_name_for, parse_item_ref, validate_display_name, with_suffix
from services.text import paragraphs

VALID_CHANNEL_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])$")


@pytest.mark.parametrize(
    "incident_name, channel_name",
    [
        ("Database down", "database-down"),
        ("Ziggürat!", "ziggurat"),
        ("  Çà  marche   pas  ", "ca-marche-pas"),
        ("@channel outage", "channel-outage"),
        ("API 5xx -- EU/West", "api-5xx-eu-west"),
        ("X", "incident-x"),
        ("---a_b---", "a-b"),
    ],
)
def test_incident_names_fold_into_lowercase_channel_names(incident_name, channel_name):
    assert channel_name_for(incident_name) == channel_name
    assert VALID_CHANNEL_NAME.match(channel_name)


def test_a_name_with_nothing_usable_is_refused_with_a_reason():
    with pytest.raises(Invalid, match="no letters or digits"):
        channel_name_for("###")


def test_a_name_of_only_non_latin_letters_is_refused_rather_than_made_up():
    with pytest.raises(Invalid, match="no letters or digits"):
        channel_name_for("障害")


def test_an_empty_name_asks_for_one():
    with pytest.raises(Invalid, match="Give the incident a name"):
        channel_name_for("   ")


def test_a_64_character_name_is_fine_but_65_is_too_long():
    assert len(channel_name_for("a" * 64)) == 64
    with pytest.raises(Invalid, match="65 characters long; use at most 64"):
        channel_name_for("a" * 65)


def test_the_channel_name_never_ends_in_a_dash_after_truncation():
    # The ligature "ﬀ" folds to two letters, so a short display name can fold past 64:
    # 63 letters, a dash, "x" -> cut at 64 would end in "-".
    result = channel_name_for("ﬀ" * 31 + "f x")
    assert result == "f" * 63


def test_the_clash_retry_adds_a_short_suffix_and_stays_within_64():
    long_name = channel_name_for("b" * 64)
    retried = with_suffix(long_name)
    assert len(retried) == 64 and VALID_CHANNEL_NAME.match(retried)
    assert retried.startswith("b" * 59 + "-")
    assert with_suffix("db-down").startswith("db-down-")
    assert len(with_suffix("db-down")) == len("db-down") + 5


@pytest.mark.parametrize("ref, expected", [("2.3", (2, 3)), ("3", (1, 3)), (" 10.200 ", (10, 200))])
def test_item_references_are_checklist_dot_item_or_just_the_item(ref, expected):
    assert parse_item_ref(ref) == expected


@pytest.mark.parametrize(
    "ref, message",
    [
        ("", "Say which item"),
        ("abc", "'abc' is not an item number: use N for item N of checklist 1"),
        ("1.2.3", "'1.2.3' is not an item number"),
        ("-1", "'-1' is not an item number"),
        ("0", "numbering starts at 1"),
        ("2.0", "numbering starts at 1"),
        ("²", "is not an item number"),
    ],
)
def test_bad_item_references_say_how_to_write_one(ref, message):
    with pytest.raises(Invalid, match=re.escape(message)):
        parse_item_ref(ref)


@pytest.mark.parametrize("typed, stored", [
    ("a\x00b", "a b"),                      # PostgreSQL cannot store NUL at all
    ("Disk\x07 full\x1b[31m", "Disk full [31m"),
    ("\u202eevil\u202c payload", "evil payload"),  # a bidi override would show it reversed
    ("\u200fשרת נפל", "\u200fשרת נפל"),      # a right-to-left mark is writing, not spoofing
])
def test_names_lose_control_characters_but_keep_writing_marks(typed, stored):
    assert validate_display_name(typed) == stored


def test_messages_keep_their_lines_and_lose_control_characters():
    assert paragraphs("  line one\r\nline\x00 two\n\n\tthree \x1b ") == "line one\nline two\n\n\tthree"
