"""`/incident start` and `/incident backstage` read their options with chat/options.py exactly as
the hand-written parsers it replaced did (tests/unit/options_reference.py): same values, or the
same error class and sentence, for every input."""

from __future__ import annotations

import random

import pytest

from chat.options import Option, Options, WholeNumber
from chat.registry import UsageError
from plugins.backstage import BACKSTAGE_OPTIONS as BACKSTAGE
from plugins.backstage import parse_backstage as parse_backstage_args
from plugins.incidents import START_OPTIONS as START
from plugins.incidents import parse_start
from tests.unit import options_reference as before


def parse_start_args(args: str):
    asked = parse_start(args)
    return asked.name, asked.playbook, asked.private


# ---- the table ---------------------------------------------------------------------------------

START_INPUTS = [
    "Database down",
    "",
    "   ",
    "--private",
    "--public",
    "Big --playbook",
    'Big --playbook "Web outage" --private',
    "Big --private --public",
    "Big --public --private",
    "Big --private --private",
    "Big --public",
    "Big --playbook a --playbook b",
    "Big --playbook --private",
    "Big --playbook --playbook",
    'Big --playbook ""',
    "Big --",
    "--",
    "Big -x - -5 -abc",
    "-x",
    "Big --PRIVATE",
    "Big --Playbook web",
    "Big --playbook=web",
    "Big --private=yes",
    "Big --help",
    '"Big outage',
    "Big 'outage",
    'Big --playbook "unclosed',
    "Big\x00outage --playbook \x00",
    "@channel is down",
    "Big --@channel",
    "Big --@here-**bold**",
    "\u202eevil\u202c --private",
    "Big --\u200fprivate",
    "Big \u200f --public",
    "Big --private --bogus",
    "--bogus",
    "--private --public",
    "--playbook web",
    "x" * 5000,
    "name --private extra words",
    'a "" b',
    '""',
    "Big --playbook web --public tail --playbook other",
    "²³ --playbook ²",
    "Big\t--private\nmore",
]

BACKSTAGE_INPUTS = [
    "",
    "   ",
    "--status ongoing",
    "--status ended",
    "--STATUS ONGOING",
    "--Status Ended --SORT NAME --Page 2",
    "--status bogus",
    "--status",
    "--status --sort start",
    '--status ""',
    "--status ongoing --status ended",
    "--status ONGOING --status",
    "--status ongoing extra",
    "--status=ongoing",
    "--sort ſtart",
    "--sort start",
    "--sort end --sort name",
    "--sort",
    "--commander @alice",
    "--commander @alice --commander @bob",
    "--commander @alice --COMMANDER",
    "--commander",
    "--commander --page 2",
    "--commander -x",
    "--commander @channel",
    "--Commander Bob",
    "--search db is down --status ongoing",
    "--search Big Outage",
    "--search --status ongoing",
    "--search",
    '--search "" ""',
    '--search ""',
    "--search a --foo b",
    "--search a --SORT end",
    "--search a --search b",
    "--search -- --",
    '--search "unclosed',
    "--search \x00 nul\x00",
    "--search \u200f\u202e text \u202c",
    "--search @all here",
    "--page 1",
    "--page 0",
    "--page 007",
    "--page " + "9" * 5000,
    "--page ²",
    "--page ٣",
    "--page +5",
    "--page -1",
    "--page 1_0",
    "--page ' 5'",
    "--page 999999999",
    "--page 1000000000",
    "--page 2 --page x",
    "--page",
    "--page 0 --bogus",
    "--bogus --page 0",
    "ongoing",
    "-x",
    "--",
    "--help",
    "--İ",
    "--st\u0430tus ongoing",
    "--**status** `x`",
    "--status ongoing --commander @a --search x y --sort name --page 3",
]


def outcome(parse, args: str):
    """What a parser does with `args`: its result, or the class and sentence of its error."""
    try:
        return "ok", parse(args)
    except Exception as exc:
        return type(exc).__name__, str(exc)


@pytest.mark.parametrize("args", START_INPUTS)
def test_start_reads_as_before(args):
    assert outcome(parse_start_args, args) == outcome(before.parse_start, args)


@pytest.mark.parametrize("args", BACKSTAGE_INPUTS)
def test_backstage_reads_as_before(args):
    assert outcome(parse_backstage_args, args) == outcome(before.parse_backstage, args)


def test_the_table_reaches_every_sentence():
    outcomes = [outcome(parse_start_args, a) for a in START_INPUTS] + [outcome(parse_backstage_args, a) for a in BACKSTAGE_INPUTS]
    said = {message for kind, message in outcomes if kind != "ok"}
    for sentence in ["--playbook needs a title.", "Choose one of --private and --public.", "Give the incident a name.",
                     "I don't know the option --.", "--status is ongoing or ended.", "--sort is start, end or name.",
                     "--page is a whole number from 1.", "--search needs a value.", "--status needs a value.",
                     "--commander is given twice."]:
        assert sentence in said
    assert "I don't know the option --@\u2060channel." in said  # safe(): no mention
    assert outcome(parse_start_args, "Big --help") == ("UsageError", "I don't know the option --help.")  # no click --help


# Words the two parsers treat specially, shuffled into many commands (fixed seed: the same every run).
VOCABULARY = ["--playbook", "\"", "--private", "--public", "--PRIVATE", "--status", "--STATUS", "--sort", "--page", "--search",
              "--commander", "--Search", "--", "-x", "--bogus", "--page=2", "ongoing", "ENDED", "name", "start", "1", "0",
              "²", "12345678901", "@channel", '""', "'a b'", "web", "x\x00y", "\u202e"]


@pytest.mark.parametrize("seed", range(4))
def test_shuffled_words_read_as_before(seed):
    pick = random.Random(seed)
    for _ in range(500):
        args = " ".join(pick.choice(VOCABULARY) for _ in range(pick.randint(0, 7)))
        assert outcome(parse_start_args, args) == outcome(before.parse_start, args), args
        assert outcome(parse_backstage_args, args) == outcome(before.parse_backstage, args), args


# ---- the module itself -------------------------------------------------------------------------

def test_values_are_click_conversions():
    assert START.parse(["Big", "--public"]) == {"private": False, "name": "Big"}
    assert BACKSTAGE.parse(["--PAGE", "12", "--sort", "NAME"]) == {"page": 12, "sort": "name"}


def test_no_click_sentence_reaches_a_person():
    for words in (["--page", "x"], ["--sort", "up"], ["--status", "--sort"], ["--zzz"], ["stray"]):
        with pytest.raises(UsageError) as caught:
            BACKSTAGE.parse(words)
        assert "is not one of" not in str(caught.value) and "Error" not in str(caught.value)
        assert "not a whole number" not in str(caught.value)


def test_declarations_that_cannot_be_read_fail_at_once():
    with pytest.raises(ValueError, match="run_on"):
        Options("x", Option("--search", run_on=True))
    with pytest.raises(ValueError, match="invalid"):
        Option("--page", type=WholeNumber())
    with pytest.raises(ValueError, match="one value"):
        Option("--tag", multiple=True)
    with pytest.raises(ValueError, match="--name"):
        Options("x", Option("-p"))
