"""Playbooks end to end: people create, show, edit, delete, export and import them in chat,
start incidents from them, and meet the permission rules.

One double and one bot process serve the whole module (the fixtures below shadow the
per-test ones of conftest.py), so every test uses titles of its own.
"""

from __future__ import annotations

import os
import uuid

import pytest
import requests
import yaml

from tests.e2e.harness import build_world, running_bot, serving_double
from tests.e2e.steps import bot_posts, button, checklist_text, command, start

pytestmark = pytest.mark.e2e

PEOPLE = ("admin", "alice", "bob", "carol", "dave", "tess")


# ---- one world and one bot for the module ----------------------------------------------------
@pytest.fixture(scope="module")
def double():
    yield from serving_double()


@pytest.fixture(scope="module")
def world(double):
    world = build_world(double)
    # tess: a plain member of the team, the one people make an editor in the matrix
    tess = double.create_user("tess")
    world.users["tess"], world.tokens["tess"] = tess, double.create_token(tess["id"])
    double.add_team_member(world.team["id"], tess["id"])
    double.add_channel_member(world.town_square["id"], tess["id"])
    # dave: a member of another team only; the bot is in both teams
    other = double.create_team("elsewhere", "Elsewhere")
    square = double.create_channel(other["id"], "town-square", "Town Square", type="O")
    double.add_team_member(other["id"], world.bot_user["id"])
    double.add_channel_member(square["id"], world.bot_user["id"])
    dave = double.create_user("dave")
    world.users["dave"], world.tokens["dave"] = dave, double.create_token(dave["id"])
    double.add_team_member(other["id"], dave["id"])
    double.add_channel_member(square["id"], dave["id"])
    world.other_team, world.other_square = other, square
    return world


@pytest.fixture(scope="module")
def bot(world, tmp_path_factory):
    yield from running_bot(world, tmp_path_factory.mktemp("playbooks"))


@pytest.fixture(scope="module")
def people(world, bot):
    users = {name: world.person(name) for name in PEOPLE}
    yield users
    for user in users.values():
        user.close()


# ---- steps -------------------------------------------------------------------------------
def home(world, person) -> str:
    """The town square of the person's team."""
    return world.other_square["id"] if person.me["username"] == "dave" else world.town_square["id"]


def pb(world, person, args: str, channel_id: str | None = None) -> str:
    return command(person, world, f"/incident playbook {args}", channel_id or home(world, person))


def open_dialog(world, person, args: str) -> dict:
    person.run_command(home(world, person), f"/incident playbook {args}")
    return person.wait_event("open_dialog")


def fields(opened: dict) -> dict:
    return {e["name"]: e for e in opened["data"]["dialog"]["dialog"]["elements"]}


def submit(world, person, opened, title, checklists, *, public=True, public_incidents=False, description="") -> dict:
    status, answer = person.submit_dialog(opened, {
        "title": title, "description": description, "visibility": "public" if public else "private",
        "public_incidents": public_incidents, "checklists": checklists}, channel_id=home(world, person))
    assert status == 200, answer
    return answer


def create(world, person, title, checklists="Page the on-call\nOpen a bridge", **options) -> None:
    answer = submit(world, person, open_dialog(world, person, "create"), title, checklists, **options)
    assert answer == {}, answer


def dm_channel(world, person) -> str:
    return person.driver.channels.create_direct_message_channel([person.id, world.bot_user["id"]])["id"]


def bot_dm(world, person, predicate=lambda post: True) -> dict:
    dm = dm_channel(world, person)
    event = person.wait_event("posted", lambda ev: ev["data"]["post"]["user_id"] == world.bot_user["id"]
                              and ev["data"]["post"]["channel_id"] == dm and predicate(ev["data"]["post"]))
    return event["data"]["post"]


def send_file(world, person, text: str, content: bytes | None, name="playbook.yaml") -> str:
    """DM the bot `text` (with a file attached); return the bot's answer."""
    dm = dm_channel(world, person)
    file_ids = []
    if content is not None:
        uploaded = person.driver.files.upload_file(dm, files={"files": (name, content)})
        file_ids = [uploaded["file_infos"][0]["id"]]
    sent = person.post(dm, text, file_ids=file_ids)
    return bot_dm(world, person, lambda post: post["create_at"] >= sent["create_at"] and post["id"] != sent["id"])["message"]


def download(person, file_id: str) -> str:
    response = requests.get(f"{person.url}/api/v4/files/{file_id}", headers=person.driver.client.auth_header(), timeout=10)
    assert response.status_code == 200
    return response.content.decode("utf-8")


def export(world, person, title: str) -> str:
    assert "direct message" in pb(world, person, f'export "{title}"')
    post = bot_dm(world, person, lambda post: title in post["message"] and post.get("file_ids"))
    return download(person, post["file_ids"][0])


def confirm_delete(world, person, title: str) -> str:
    """Click *Yes, delete it* on the prompt `delete` gave; return the bot's answer."""
    prompt = person.wait_event("ephemeral_message", lambda ev: title in str(ev["data"]["post"].get("props")))
    action = button(prompt["data"]["post"], "Yes, delete it")
    status, _ = person.click(prompt["data"]["post"]["id"], action["id"], cookie=action.get("cookie"))
    assert status == 200
    answer = person.wait_event("ephemeral_message", lambda ev: title in ev["data"]["post"].get("message", "")
                               and "deleted" in ev["data"]["post"].get("message", ""))
    return answer["data"]["post"]["message"]


# ---- the stories ---------------------------------------------------------------------------
def test_help_and_the_playbook_command_list_the_subcommands(world, people):
    alice = people["alice"]
    assert "/incident playbook" in command(alice, world, "/incident help")
    overview = pb(world, alice, "")
    for word in ("list", "create", "show", "edit", "delete", "editors", "export", "checkadd", "settings", "import playbook"):
        assert word in overview
    assert "I don't know `playbook frob`" in pb(world, alice, "frob")


def test_create_with_the_dialog_then_list_and_show(world, people):
    alice, bob = people["alice"], people["bob"]
    opened = open_dialog(world, alice, "create")
    assert list(fields(opened)) == ["title", "description", "visibility", "public_incidents", "checklists"]
    answer = submit(world, alice, opened, "Database outage", "## Triage\nPage the DBA\nCheck replication lag\n## Fix\nFail over",
                    description="When the primary stops answering.")
    assert answer == {}
    note = alice.wait_event("ephemeral_message", lambda ev: "Database outage** created" in ev["data"]["post"]["message"])
    assert "created" in note["data"]["post"]["message"]
    create(world, alice, "Secret recipe", "Lock the vault", public=False)

    listing = pb(world, alice, "list")
    assert "| Database outage | public | 2 | 3 | @alice |" in listing
    assert "| Secret recipe | :lock: private | 1 | 1 | @alice |" in listing
    bobs = pb(world, bob, "list")
    assert "Database outage" in bobs and "Secret recipe" not in bobs

    shown = pb(world, bob, 'show "database outage"')
    assert "#### Database outage" in shown
    assert "> When the primary stops answering." in shown
    assert "**1. Triage**\n1.1 Page the DBA\n1.2 Check replication lag\n**2. Fix**\n2.1 Fail over" in shown
    assert "Incidents started from it: private" in shown and "Editors: @alice" in shown
    # unquoted titles work where the title is all there is
    assert "#### Database outage" in pb(world, bob, "show Database outage")


def test_edit_prefills_the_dialog_saves_a_version_and_leaves_running_incidents_alone(world, people):
    alice = people["alice"]
    create(world, alice, "Cache warmup", "Flush the cache\nWarm the hot keys", public_incidents=True)
    first = start(alice, world, 'Cold cache --playbook "Cache warmup"')
    assert "1.2 Warm the hot keys" in checklist_text(world, first["id"])

    opened = open_dialog(world, alice, 'edit "Cache warmup"')
    form = fields(opened)
    assert opened["data"]["dialog"]["dialog"]["title"] == "Edit playbook"
    assert form["title"]["default"] == "Cache warmup"
    assert form["checklists"]["default"] == "## Checklist\nFlush the cache\nWarm the hot keys"
    assert form["public_incidents"]["default"] == "true" and form["visibility"]["default"] == "public"
    answer = submit(world, alice, opened, "Cache warmup", "## Checklist\nFlush the cache\nCheck the hit rate", public_incidents=True)
    assert answer == {}
    assert "Version 2" in pb(world, alice, 'show "Cache warmup"')

    # the running incident keeps what it copied; a new one gets the new version
    text = checklist_text(world, first["id"])
    assert "Warm the hot keys" in text and "Check the hit rate" not in text
    second = start(alice, world, 'Cold cache again --playbook "Cache warmup"')
    assert "1.2 Check the hit rate" in checklist_text(world, second["id"])
    # each incident remembers the playbook and the version it came from
    assert "Started from playbook **Cache warmup** version 1" in command(alice, world, "/incident info", first["id"])
    assert "Started from playbook **Cache warmup** version 2" in command(alice, world, "/incident info", second["id"])

    # a dialog opened before someone else saved cannot overwrite their change
    stale = open_dialog(world, alice, 'edit "Cache warmup"')
    assert "now at version 3" in pb(world, alice, 'checkadd "Cache warmup" Tell support')
    answer = submit(world, alice, stale, "Cache warmup", "Only this", public_incidents=True)
    assert "changed or deleted by someone else" in answer.get("error", ""), answer
    assert "Tell support" in pb(world, alice, 'show "Cache warmup"')


def test_non_editors_get_no_edit_dialog(world, people):
    create(world, people["alice"], "Alice only")
    assert "Only editors" in pb(world, people["bob"], 'edit "Alice only"')


def test_delete_asks_to_confirm_and_spares_incidents(world, people):
    alice = people["alice"]
    create(world, alice, "Short lived", "Do the thing")
    incident = start(alice, world, 'Thing broke --playbook "Short lived"')

    assert pb(world, alice, 'delete "Short lived"') == ""
    assert "Short lived" in pb(world, alice, "list")  # nothing happens before the click
    assert "deleted" in confirm_delete(world, alice, "Short lived")
    assert "Short lived" not in pb(world, alice, "list")
    assert "no playbook titled" in pb(world, alice, 'show "Short lived"')
    assert "1.1 Do the thing" in checklist_text(world, incident["id"])
    assert "**Short lived** version 1, since deleted" in command(alice, world, "/incident info Thing broke")
    create(world, alice, "Short lived", "Again")  # the title is free again


def test_export_and_import_round_trip_by_direct_message(world, people):
    alice, bob = people["alice"], people["bob"]
    create(world, alice, "Round trip", "## Detect\nRead the alert\n## Respond\nRoll back", description="Both ways.")
    text = export(world, alice, "Round trip")
    document = yaml.safe_load(text)
    assert document == {"title": "Round trip", "description": "Both ways.", "public": True, "create_public_incidents": False,
                        "checklists": [{"title": "Detect", "items": ["Read the alert"]},
                                       {"title": "Respond", "items": ["Roll back"]}]}

    assert "already matches" in send_file(world, alice, "import playbook", text.encode())
    document["checklists"][1]["items"].append("Write the postmortem")
    document["create_public_incidents"] = True
    answer = send_file(world, alice, "import playbook", yaml.safe_dump(document).encode())
    assert "Updated the playbook **Round trip** to version 2" in answer
    assert "incidents now start public" in answer and "'Respond': 1 items added" in answer
    assert "2.2 Write the postmortem" in pb(world, alice, 'show "Round trip"')

    # a non-editor cannot overwrite it, but can import a copy under another title
    assert "not one of its editors" in send_file(world, bob, "import playbook", yaml.safe_dump(document).encode())
    document["title"] = "Round trip copy"
    answer = send_file(world, bob, "import playbook", yaml.safe_dump(document).encode(), name="copy.yml")
    assert "Created the playbook **Round trip copy**" in answer and "2 checklists and 3 items" in answer
    assert "Editors: @bob" in pb(world, bob, 'show "Round trip copy"')


def test_starting_incidents_from_public_and_private_playbooks(world, people):
    alice, bob = people["alice"], people["bob"]
    create(world, alice, "Open book", "## Comms\nPost a status update\nTell support", public_incidents=True)
    create(world, alice, "Closed book", "## Security\nRotate the keys", public=False, public_incidents=False)

    open_channel = start(alice, world, 'Status page down --playbook "Open book"')
    assert open_channel["type"] == "O"
    assert "1.1 Post a status update\n1.2 Tell support" in checklist_text(world, open_channel["id"])

    closed_channel = start(alice, world, 'Key leak --playbook "Closed book"')
    assert closed_channel["type"] == "P"
    world.double.add_channel_member(closed_channel["id"], bob.me["id"])
    assert "Started from a private playbook (version 1)" in command(bob, world, "/incident info", closed_channel["id"])
    assert "1.1 Rotate the keys" in checklist_text(world, closed_channel["id"])
    assert any("Security" in a.get("title", "") for p in bot_posts(world, closed_channel["id"])
               for a in (p.get("props") or {}).get("attachments") or [])

    # bob cannot see the private playbook, so he cannot start from it either
    assert "no playbook titled" in command(bob, world, '/incident start Leak 2 --playbook "Closed book"')
    # an explicit choice still wins over the playbook's setting
    assert start(alice, world, 'Status page slow --playbook "Open book" --private')["type"] == "P"


def test_checklist_edits_one_at_a_time(world, people):
    alice = people["alice"]
    create(world, alice, "Step by step", "## One\nalpha\nbeta\n## Two\ngamma")
    assert "Added item 1.3: delta" in pb(world, alice, 'checkadd "Step by step" delta')
    assert "Added item 2.2: don't panic" in pb(world, alice, 'checkadd "Step by step" 2 don\'t panic')
    assert "Item 1.2 is now: BETA" in pb(world, alice, 'checkrename "Step by step" 1.2 BETA')
    assert "Moved delta to position 1" in pb(world, alice, 'checkmove "Step by step" 3 1')
    assert "Removed item 2.1: gamma" in pb(world, alice, 'checkremove "Step by step" 2.1')
    assert "only item of checklist 2" in pb(world, alice, 'checkremove "Step by step" 2.1')
    shown = pb(world, alice, 'show "Step by step"')
    assert "1.1 delta\n1.2 alpha\n1.3 BETA\n**2. Two**\n2.1 don't panic" in shown
    assert "Version 6" in shown


@pytest.mark.parametrize("args, expected", [
    ('checkadd "Step two"', 'Usage: `/incident playbook checkadd "<title>" [<checklist>] <text>`'),
    ('checkremove "Step two"', 'Usage: `/incident playbook checkremove "<title>" <item>`'),
    ('checkmove "Step two" 1', 'Usage: `/incident playbook checkmove "<title>" <item> <position>`'),
    ('checkmove "Step two" 1 x', "not a position"),
    ('checkrename "Step two" 1', 'Usage: `/incident playbook checkrename "<title>" <item> <text>`'),
    ('checkremove "Step two" 9', "Item 9 does not exist"),
    ('checkadd "Step two" 3 more', "Checklist 3 does not exist"),
    ('editors "Step two" promote @bob', 'Usage: `/incident playbook editors "<title>" [add|remove @user]`'),
    ('editors "Step two" add @nobody', "no user called @\u2060nobody"),
    ('editors "Step two" add @dave', "@\u2060dave is not in this team"),
    ('editors "Step two" add @alice', "already an editor"),
    ("show", 'Usage: `/incident playbook show "<title>"`'),
    ('show "Step two', "A quote is not closed"),
    ("list everything", "Usage: `/incident playbook list`"),
    ("create now", "Usage: `/incident playbook create`"),
    ("settings members-can-delete maybe", "Say on or off"),
    ('show "No such thing"', "There is no playbook titled 'No such thing'"),
    ('show "Step"', "matches several playbooks"),
])
def test_bad_command_input(world, people, args, expected):
    alice = people["alice"]
    if "Step two" not in pb(world, alice, "list"):
        create(world, alice, "Step two", "one")
        create(world, alice, "Step three", "one")
    assert expected in pb(world, alice, args)


BAD_DIALOGS = [
    # (title, checklists, the field with the error, what it says)
    ("Dialog dup", "one", "title", "already exists"),
    ("DIALOG   DUP", "one", "title", "already exists"),
    ("   ", "one", "title", "needs a title"),
    ("x" * 65, "one", "title", "65 characters long; use at most 64"),
    ("No items", "", "checklists", "at least one checklist item"),
    ("Empty heading", "## First\n## Second\nitem", "checklists", "Checklist 1 (First) has no items"),
    ("Too many", "\n".join(f"item {n}" for n in range(201)), "checklists", "201 items"),
]


def test_bad_dialog_input_changes_nothing(world, people):
    alice = people["alice"]
    create(world, alice, "Dialog dup", "one")
    before = pb(world, alice, "list")
    for title, checklists, field, message in BAD_DIALOGS:
        answer = submit(world, alice, open_dialog(world, alice, "create"), title, checklists)
        assert message in answer.get("errors", {}).get(field, ""), (title, answer)
    assert pb(world, alice, "list") == before
    assert "Dialog dup" in before and "No items" not in before


PWNED = f"/tmp/playbook-import-{uuid.uuid4().hex}"  # what a file that could run code would create
BAD_IMPORTS = [
    # (message text, file content, what the answer says)
    ("import playbook", None, "Attach the playbook's YAML file"),
    ("import playbook", b"title: [unclosed\n", "could not be read at line"),
    ("import playbook", b"- just\n- a list\n", "must be a mapping"),
    ("import playbook", b"title: Bad fields\nowner: mallory\n", "Unknown field 'owner'"),
    ("import playbook", b"title: Bad fields\nchecklists:\n  - title: A\n    items: [x]\n    due: soon\n", "Unknown field 'due' in checklist 1"),
    ("import playbook", b"title: Bad fields\nchecklists: []\n", "at least one checklist item"),
    ("import playbook", b"title: Bad fields\nchecklists:\n  - title: A\n    items: []\n", "at least one checklist item"),
    ("import playbook", ("title: " + "y" * 65 + "\nchecklists:\n  - title: A\n    items: [x]\n").encode(), "use at most 64"),
    ("import playbook", ("title: Bad fields\nchecklists:\n  - title: A\n    items: [" + ", ".join(["x"] * 201) + "]\n").encode(), "201 items"),
    ("import playbook", f"title: !!python/object/apply:os.system ['touch {PWNED}']\n".encode(), "could not be read"),
    ("import playbook", b"\xff\xfe not text", "not UTF-8"),
    ("import playbook nowhere", b"title: Bad fields\n", "no team called 'nowhere'"),
]


def test_bad_imports_change_nothing(world, people):
    alice = people["alice"]
    create(world, alice, "Import dup", "one")
    before = pb(world, alice, "list")
    for text, content, message in BAD_IMPORTS:
        assert message in send_file(world, alice, text, content), (text, content)
    assert pb(world, alice, "list") == before
    assert not os.path.exists(PWNED)


def test_the_team_setting_needs_an_admin(world, people):
    assert "Only team and system admins" in pb(world, people["bob"], "settings members-can-delete on")
    assert "may not" in pb(world, people["bob"], "settings")
    assert "Only team and system admins" in pb(world, people["dave"], "settings members-can-delete on")


def test_editors_list_says_who_added_whom(world, people):
    alice, tess = people["alice"], people["tess"]
    create(world, alice, "Crew")
    assert "now an editor" in pb(world, tess, 'editors "Crew" add @tess')  # joins a public playbook herself
    assert "now an editor" in pb(world, alice, 'editors "Crew" add @bob')
    assert "Editors of **Crew**: @alice (joined), @tess (joined), @bob (added by @alice)" in pb(world, alice, 'editors "Crew"')
    assert "no longer an editor" in pb(world, tess, 'editors "Crew" remove @tess')


# ---- the permission matrix -------------------------------------------------------------------
ROLES = {"editor": "alice", "team member": "bob", "team admin": "carol", "system admin": "admin", "other team": "dave"}

# "delete*": delete while the team lets members delete public playbooks (members-can-delete on).
# "add editor": make tess an editor. "remove editor": remove tess, who joined the public
# playbook herself and was added to the private one by a system admin.
MATRIX = """
action         visibility  editor  team-member  team-admin  system-admin  other-team
view           public      yes     yes          yes         yes           no
view           private     yes     no           yes         yes           no
edit           public      yes     no           yes         yes           no
edit           private     yes     no           yes         yes           no
delete         public      yes     no           yes         yes           no
delete         private     yes     no           yes         yes           no
delete*        public      yes     yes          yes         yes           no
delete*        private     yes     no           yes         yes           no
add-editor     public      yes     no           yes         yes           no
add-editor     private     no      no           yes         yes           no
remove-editor  public      yes     no           yes         yes           no
remove-editor  private     no      no           yes         yes           no
"""


def _cells():
    lines = [line.split() for line in MATRIX.strip().splitlines()]
    roles = [name.replace("-", " ") for name in lines[0][2:]]
    visible = {(row[1], role): row[2 + i] == "yes" for row in lines[1:] if row[0] == "view" for i, role in enumerate(roles)}
    for row in lines[1:]:
        for i, role in enumerate(roles):
            yield pytest.param(row[0], row[1], role, row[2 + i] == "yes", visible[(row[1], role)],
                               id=f"{row[0]}-{row[1]}-{role.replace(' ', '_')}")


def _still_there(world, people, title) -> str:
    shown = pb(world, people["alice"], f'show "{title}"')
    assert f"#### {title}" in shown, shown
    return shown


@pytest.mark.parametrize("action, visibility, role, allowed, can_see", list(_cells()))
def test_permission_matrix(world, people, action, visibility, role, allowed, can_see):
    person = people[ROLES[role]]
    title = f"M {action} {visibility} {role}".replace("*", " open")
    create(world, people["alice"], title, "first step", public=visibility == "public")
    refusal = "Only" if can_see else "There is no playbook titled"

    if action == "view":
        answer = pb(world, person, f'show "{title}"')
        assert (f"#### {title}" in answer) is allowed, answer
        listed = pb(world, person, "list")
        assert (f"| {title} |" in listed) is allowed, listed
        if not allowed:
            assert refusal in answer

    elif action == "edit":
        answer = pb(world, person, f'checkadd "{title}" second step')
        assert ("Added item 1.2" in answer) is allowed, answer
        assert ("1.2 second step" in _still_there(world, people, title)) is allowed
        if not allowed:
            assert refusal in answer
            assert refusal in pb(world, person, f'edit "{title}"')  # no edit dialog for them either

    elif action in ("delete", "delete*"):
        admin = people["carol"]
        if action == "delete*":
            assert "may now" in pb(world, admin, "settings members-can-delete on")
        try:
            answer = pb(world, person, f'delete "{title}"')
            if allowed:
                assert answer == ""
                assert "deleted" in confirm_delete(world, person, title)
                assert "no playbook titled" in pb(world, people["alice"], f'show "{title}"')
            else:
                assert refusal in answer, answer
                _still_there(world, people, title)
        finally:
            if action == "delete*":
                assert "may no longer" in pb(world, admin, "settings members-can-delete off")

    elif action == "add-editor":
        answer = pb(world, person, f'editors "{title}" add @tess')
        assert ("@tess is now an editor" in answer) is allowed, answer
        assert ("@tess" in pb(world, people["alice"], f'editors "{title}"')) is allowed
        if not allowed:
            assert refusal in answer

    elif action == "remove-editor":
        if visibility == "public":
            assert "now an editor" in pb(world, people["tess"], f'editors "{title}" add @tess')
        else:
            assert "There is no playbook titled" in pb(world, people["tess"], f'editors "{title}" add @tess')
            assert "now an editor" in pb(world, people["admin"], f'editors "{title}" add @tess')
        answer = pb(world, person, f'editors "{title}" remove @tess')
        assert ("@tess is no longer an editor" in answer) is allowed, answer
        assert ("@tess" in pb(world, people["alice"], f'editors "{title}"')) is not allowed
        if not allowed:
            assert refusal.lower() in answer.lower()
    else:  # pragma: no cover
        raise AssertionError(action)
