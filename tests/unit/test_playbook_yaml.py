"""Playbooks travel as YAML: round trip, import that updates, and clear errors for bad input."""
from __future__ import annotations

import pytest
import yaml

from services import playbooks as pb
from services.errors import Conflict, Invalid
from services.playbook_yaml import export_playbook_yaml, import_playbook_yaml, parse_playbook_yaml
from tests.unit.conftest import OTHER_TEAM, TEAM, person

alice = person("alice")
bob = person("bob")

GOOD = """
title: Database outage
description: "When the primary stops answering: @channel stays text"
public: false
create_public_incidents: true
checklists:
  - title: Triage
    items:
      - Page the on-call DBA
      - "Check lag: replica"
  - title: Recover
    items: []
"""


def test_export_then_import_in_another_team_gives_the_same_playbook(db):
    result = import_playbook_yaml(alice, TEAM, GOOD)
    assert result.created and result.changes == ["created with 2 checklists and 2 items"]
    text = export_playbook_yaml(result.playbook)
    copy = import_playbook_yaml(person("x", team=OTHER_TEAM), OTHER_TEAM, text).playbook
    assert export_playbook_yaml(copy) == text
    assert yaml.safe_load(text) == {
        "title": "Database outage",
        "description": "When the primary stops answering: @channel stays text",
        "public": False,
        "create_public_incidents": True,
        "checklists": [
            {"title": "Triage", "items": ["Page the on-call DBA", "Check lag: replica"]},
            {"title": "Recover", "items": []},
        ],
    }


def test_importing_over_an_existing_playbook_as_its_editor_updates_it_and_says_what_changed(db):
    original = import_playbook_yaml(alice, TEAM, GOOD).playbook
    changed = GOOD.replace("public: false", "public: true").replace(
        "      - Page the on-call DBA\n", "      - Page the on-call DBA\n      - Tell support\n"
    ).replace("  - title: Recover\n    items: []\n", "  - title: Afterwards\n    items: [Postmortem]\n")
    result = import_playbook_yaml(alice, TEAM, changed.replace("title: Database outage", "title: DATABASE OUTAGE"))
    assert not result.created and result.playbook.id == original.id and result.playbook.version == 2
    assert result.changes == [
        "title 'Database outage' -> 'DATABASE OUTAGE'",
        "now public",
        "checklist 'Afterwards' added with 1 items",
        "checklist 'Recover' removed",
        "checklist 'Triage': 1 items added",
    ]


def test_importing_the_same_text_again_changes_nothing(db):
    import_playbook_yaml(alice, TEAM, GOOD)
    again = import_playbook_yaml(alice, TEAM, GOOD)
    assert again.changes == [] and again.playbook.version == 1


def test_reordering_items_is_reported(db):
    import_playbook_yaml(alice, TEAM, GOOD)
    swapped = GOOD.replace("      - Page the on-call DBA\n      - \"Check lag: replica\"\n",
                           "      - \"Check lag: replica\"\n      - Page the on-call DBA\n")
    assert import_playbook_yaml(alice, TEAM, swapped).changes == ["checklist 'Triage': items reordered"]


def test_someone_who_does_not_edit_the_existing_playbook_cannot_overwrite_it(db):
    import_playbook_yaml(alice, TEAM, GOOD)
    with pytest.raises(Conflict, match="already exists and you are not one of its editors"):
        import_playbook_yaml(bob, TEAM, GOOD)


@pytest.mark.parametrize(
    "text, message",
    [
        ("title: [unclosed", "could not be read at line 1"),
        ("title: x\n  bad: indent\n- item", "could not be read at line"),
        ("- just\n- a list", "must be a mapping with at least a `title:`"),
        ("", "must be a mapping"),
        ("description: no title", "needs a `title:` with some text"),
        ("title: '  '", "needs a `title:` with some text"),
        ("title: x\nowner: bob", "Unknown field 'owner' in the playbook; the fields are: title, description"),
        ("title: x\nchecklists:\n  - title: A\n    steps: [a]", "Unknown field 'steps' in checklist 1"),
        ("title: x\npublic: maybe", "'public' must be true or false, not 'maybe'"),
        ("title: x\nchecklists: nope", "`checklists` must be a list"),
        ("title: x\nchecklists: [nope]", "Checklist 1 must be a mapping"),
        ("title: x\nchecklists:\n  - items: [a]", "Checklist 1 needs a `title:`"),
        ("title: x\nchecklists:\n  - title: A\n    items: a", "`items` of checklist 1 must be a list"),
        ("title: x\nchecklists:\n  - title: A\n    items: [ok, yes]", "Item 2 of checklist 1 is True, not text; put it in quotes"),
        ("title: x\ndescription: [1]", "`description` must be text"),
        ("title: " + "t" * 65, "use at most 64"),
        ("title: x\nchecklists:\n  - title: A\n    items: [" + ", ".join(f"s{n}" for n in range(201)) + "]",
         "Checklist 1 (A) has 201 items; the most a checklist can hold is 200"),
        ("title: x\nchecklists:\n  - title: A\n    items: ['" + "x" * 501 + "']", "keep items to 500"),
        ("!!python/object/apply:os.system ['true']", "could not be read"),
    ],
)
def test_bad_yaml_is_refused_naming_the_problem(db, text, message):
    with pytest.raises(Invalid, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        import_playbook_yaml(alice, TEAM, text)
    assert pb.list_playbooks(alice, TEAM) == []


def test_huge_yaml_is_refused_before_parsing(db):
    with pytest.raises(Invalid, match="the limit is 200000"):
        import_playbook_yaml(alice, TEAM, "title: x\n" + "#" * 200_000)


def test_a_tiny_file_of_yaml_aliases_is_refused_before_it_can_expand():
    levels = ["&a [x,x,x,x,x,x,x,x,x,x]"] + [f"&{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]" for i in range(7)]
    bomb = f"title: T\npublic: [{', '.join(levels)}]\n"
    assert len(bomb) < 400
    with pytest.raises(Invalid, match="aliases"):
        parse_playbook_yaml(bomb)


def test_a_wrong_value_is_named_by_its_kind_not_printed():
    with pytest.raises(Invalid, match="not a list"):
        parse_playbook_yaml("title: T\npublic: [1, 2]\n")
