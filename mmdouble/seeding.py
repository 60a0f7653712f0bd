"""One way to seed a double: teams, users, tokens, channels, members and posts.

The `add_*` functions seed a double's rules directly; the `/_double/...` control endpoints
call them through `SEEDS`.  `Seeding` turns them into the `create_*` methods that
MattermostDouble (in this process) and RemoteDouble (over those endpoints) both offer, so
test worlds, the demo and the benchmark seed the same way wherever the double runs.
"""
from collections.abc import Callable
from dataclasses import dataclass


def add_team(rules, name, display_name, **fields) -> dict:
    """fields: id, type, email."""
    return rules.create_team(name, display_name, **fields)


def add_user(rules, username, **fields) -> dict:
    """fields: roles, is_bot, email, timezone, id, first_name, last_name, nickname, bot_description."""
    return rules.create_user(username, **fields)


def add_token(rules, user_id, **fields) -> dict:
    """fields: token (else a new one), description.  Returns the whole token record."""
    return rules.create_token(user_id, **fields)


def add_team_member(rules, team_id, user_id, admin=False) -> dict:
    return rules.add_team_member(team_id, user_id, admin=admin)


def add_channel(rules, team_id, name, display_name, **fields) -> dict:
    """fields: type, creator_id (who becomes its first member), id, header, purpose."""
    return rules.create_channel(team_id, name, display_name, **fields)


def add_channel_member(rules, channel_id, user_id, admin=False) -> dict:
    return rules.add_channel_member(channel_id, user_id, admin=admin)


def add_post(rules, channel_id, user_id, message, **fields) -> dict:
    """A post as if the user had sent it, without the API's checks; fields: root_id, props, file_ids."""
    return rules.add_post(channel_id, user_id, message, **fields)


@dataclass(frozen=True)
class Seed:
    """A seeding function as a JSON object names its arguments: `required` ones go in by position."""

    path: str
    add: Callable[..., dict]
    required: tuple[str, ...]

    def split(self, args: dict) -> tuple[list, dict]:
        """(positional, keyword) arguments for `add`; KeyError names a missing required one."""
        args = dict(args)
        return [args.pop(name) for name in self.required], args

    def apply(self, rules, args: dict) -> dict:
        positional, keywords = self.split(args)
        return self.add(rules, *positional, **keywords)


SEEDS = {seed.path: seed for seed in (
    Seed("teams", add_team, ("name", "display_name")),
    Seed("users", add_user, ("username",)),
    Seed("tokens", add_token, ("user_id",)),
    Seed("team_members", add_team_member, ("team_id", "user_id")),
    Seed("channels", add_channel, ("team_id", "name", "display_name")),
    Seed("channel_members", add_channel_member, ("channel_id", "user_id")),
    Seed("posts", add_post, ("channel_id", "user_id", "message")),
)}


class Seeding:
    """The seeding methods of a double; a subclass says where a seed goes in `_seed`."""

    def _seed(self, path: str, **args) -> dict:
        raise NotImplementedError

    def create_team(self, name, display_name, **fields) -> dict:
        return self._seed("teams", name=name, display_name=display_name, **fields)

    def create_user(self, username, **fields) -> dict:
        return self._seed("users", username=username, **fields)

    def create_token(self, user_id, **fields) -> str:
        return self._seed("tokens", user_id=user_id, **fields)["token"]

    def add_team_member(self, team_id, user_id, admin=False) -> dict:
        return self._seed("team_members", team_id=team_id, user_id=user_id, admin=admin)

    def create_channel(self, team_id, name, display_name, **fields) -> dict:
        return self._seed("channels", team_id=team_id, name=name, display_name=display_name, **fields)

    def add_channel_member(self, channel_id, user_id, admin=False) -> dict:
        return self._seed("channel_members", channel_id=channel_id, user_id=user_id, admin=admin)

    def create_post(self, channel_id, user_id, message, **fields) -> dict:
        """Store a post as if `user_id` had sent it (emits `posted`); handy for bulk history."""
        return self._seed("posts", channel_id=channel_id, user_id=user_id, message=message, **fields)


def add_person(double: Seeding, team_id, username, *, team_admin=False, channels=(), **fields) -> tuple[dict, str]:
    """A user with an access token, in the team and in `channels` (ids): what a test world is made of.
    fields go to create_user, except `token`, which fixes the access token."""
    token_fields = {"token": fields.pop("token")} if "token" in fields else {}
    user = double.create_user(username, **fields)
    token = double.create_token(user["id"], **token_fields)
    double.add_team_member(team_id, user["id"], admin=team_admin)
    for channel_id in channels:
        double.add_channel_member(channel_id, user["id"])
    return user, token


DEMO_TOKENS = {
    "admin": "demoadmintoken00000000000a",
    "alice": "demoalicetoken00000000000a",
    "bob": "demobobtoken0000000000000a",
    "incident": "demoincidenttoken000000000",
}


def seed_demo(double: Seeding) -> dict:
    """Team ops with town-square and off-topic, admin, alice, bob and the bot incident (DEMO_TOKENS)."""
    team = double.create_team("ops", "Ops")
    channels = [double.create_channel(team["id"], name, display)["id"]
                for name, display in (("town-square", "Town Square"), ("off-topic", "Off-Topic"))]
    people = {
        "admin": dict(roles="system_user system_admin", team_admin=True),
        "alice": {},
        "bob": {},
        "incident": dict(roles="system_user system_admin", is_bot=True, first_name="Incident Bot",
                         bot_description="incident response"),
    }
    users = {name: add_person(double, team["id"], name, channels=channels, token=DEMO_TOKENS[name], **spec)[0]
             for name, spec in people.items()}
    return {"team": team, "users": users}
