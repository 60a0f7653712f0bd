"""Inputs that once reached "Sorry, something went wrong" get a clear answer instead (issue 13, part 5)."""
from __future__ import annotations

import csv
import io
import re
import warnings

import pytest

from render.backstage import csv_rows, spreadsheet_safe
from render.chart import checklist_timeline_png, drawable
from services.errors import Invalid
from services.metrics import ItemCompletion
from services.naming import parse_item_ref, validate_display_name


# ---- item numbers --------------------------------------------------------------------------------
@pytest.mark.parametrize("ref", ["1" * 5000, "2." + "9" * 5000, "9" * 30, "1.99999999999"])
def test_an_item_number_too_big_for_any_checklist_is_refused_in_words(ref):
    # int() of 5000 digits raises "Exceeds the limit (4300 digits)"; 30 digits overflow PostgreSQL's bigint
    with pytest.raises(Invalid, match="no checklist has that many items") as refused:
        parse_item_ref(ref)
    assert len(refused.value.message) < 200, "the answer must not echo thousands of digits"


def test_the_largest_plausible_item_numbers_still_parse():
    assert parse_item_ref("99999") == (1, 99999)
    assert parse_item_ref("12.345") == (12, 345)


# ---- names: invisible characters -------------------------------------------------------------------
@pytest.mark.parametrize("typed, stored", [
    ("db\u200b-down", "db-down"),            # zero-width space: an invisible look-alike
    ("\ufeffDatabase down", "Database down"),  # byte order mark pasted in front
    ("api\u2060 down", "api down"),           # word joiner
    ("db\u200d-down\u200c", "db-down"),        # joiners beside Latin text join nothing
    ("\u200c\u200dOutage", "Outage"),
])
def test_invisible_characters_that_only_make_look_alikes_are_removed(typed, stored):
    assert validate_display_name(typed) == stored


@pytest.mark.parametrize("name", [
    "می\u200cخواهم",          # Persian needs the zero-width non-joiner between letters
    "Family \U0001F468\u200d\U0001F469\u200d\U0001F467 outage",  # an emoji sequence is joined by ZWJ
    "\u0915\u094d\u200d\u0937 down",   # Devanagari half-form with ZWJ
])
def test_joiners_that_are_part_of_writing_stay(name):
    assert validate_display_name(name) == name


def test_a_name_of_only_invisible_characters_is_no_name():
    with pytest.raises(Invalid, match="Give the incident a name"):
        validate_display_name("\u200b\u200d\ufeff")


# ---- CSV export: no formulas -----------------------------------------------------------------------
@pytest.mark.parametrize("text, cell", [
    ('=HYPERLINK("http://evil","click")', '\'=HYPERLINK("http://evil","click")'),
    ("+1 555 0100", "'+1 555 0100"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tcmd", "'\tcmd"),
    ("\rcmd", "'\rcmd"),
    ("plain text", "plain text"),
    ("", ""),
    ("a=b", "a=b"),
])
def test_cells_that_a_spreadsheet_would_run_are_prefixed_with_a_quote(text, cell):
    # OWASP "CSV Injection": prefix = + - @ tab and carriage return with a single quote
    assert spreadsheet_safe(text) == cell


def test_exported_posts_carry_no_live_formula_in_any_column():
    posts = [{"id": "p1", "user_id": "u1", "create_at": 0, "message": "=1+2", "type": "", "root_id": ""}]
    user = {"username": "@evil", "email": "=cmd|' /C calc'!A0", "is_bot": False}
    row = next(csv.reader(io.StringIO(csv_rows(posts, lambda user_id: user))))
    assert row[7] == "'=1+2" and row[2] == "'=cmd|' /C calc'!A0" and row[4] == "'@evil"
    assert not any(re.match(r"[=+\-@\t\r]", cell) for cell in row)


# ---- the chart: no warning per missing glyph ----------------------------------------------------------
def test_text_the_font_cannot_draw_makes_a_chart_without_a_flood_of_warnings():
    items = [ItemCompletion(1, 1, "Triage", "🔥 数据库 down", True, 60_000), ItemCompletion(1, 2, "Triage", "Ünïcode ok", False, None)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = checklist_timeline_png("出事了 🔥", items, 600_000)
    assert png[:4] == b"\x89PNG"
    assert not [w for w in caught if "Glyph" in str(w.message)], [str(w.message) for w in caught]


def test_what_the_font_cannot_draw_shows_as_a_box_and_the_rest_as_typed():
    assert drawable("Ünïcode 🔥 数据") == "Ünïcode □ □□"
