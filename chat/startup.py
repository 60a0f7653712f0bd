"""What the bot checks and sets up on Mattermost before it starts listening.

Each problem an operator can cause (a wrong URL or token, a bot account without the role it
needs, custom slash commands switched off, a callback URL the server cannot reach) ends the
start with a `StartupError` whose message is one line saying what to change.
"""

from __future__ import annotations

import logging
import secrets
import threading
from typing import Any, Callable

from chat.gateway import Mattermost, MattermostError
from chat.web import COMMAND_PATH, CommandTokens
from chat.websocket import backoff

log = logging.getLogger("incident.startup")

TRIGGER = "incident"
EXIT_SETTINGS = 2
EXIT_UNAVAILABLE = 1


class StartupError(Exception):
    def __init__(self, message: str, exit_code: int = EXIT_SETTINGS):
        super().__init__(message)
        self.exit_code = exit_code


def login(mattermost: Mattermost, url: str, stopping: threading.Event, attempts: int) -> dict[str, Any]:
    """`GET /users/me`, retried with backoff while the server is unreachable or failing."""
    for attempt in range(attempts):
        try:
            return mattermost.me()
        except MattermostError as exc:
            if exc.status == 401:
                raise StartupError("MATTERMOST_TOKEN was refused by the server (401): create a new access token for the bot account and set it") from None
            if exc.status == 404:
                raise StartupError(f"MATTERMOST_URL {url} does not look like a Mattermost server (no /api/v4/users/me): check the URL") from None
            if exc.status not in (0, 429) and exc.status < 500:
                raise StartupError(f"Mattermost refused the bot's login ({exc.status} {exc.error_id}): check MATTERMOST_TOKEN") from None
            delay = backoff(attempt)
            log.warning("Mattermost at %s is not answering (%s); retrying in %.1f s", url, exc.message, delay)
            if stopping.wait(delay):
                raise StartupError("stopped while waiting for Mattermost", exit_code=0) from None
    raise StartupError(f"Mattermost at {url} did not answer after {attempts} attempts: check MATTERMOST_URL and that the server is up", EXIT_UNAVAILABLE)


def check_role(me: dict[str, Any]) -> None:
    if "system_admin" not in (me.get("roles") or "").split():
        raise StartupError(
            f"the bot account @{me.get('username')} lacks the system_admin role, which it needs to send ephemeral messages, "
            "register /incident, archive, restore and convert channels: System Console > User Management > Users > "
            f"@{me.get('username')} > Manage Roles > System Admin"
        )


def command_spec(team_id: str, callback_base_url: str) -> dict[str, Any]:
    return {
        "team_id": team_id,
        "trigger": TRIGGER,
        "method": "P",
        "url": callback_base_url + COMMAND_PATH,
        "auto_complete": True,
        "auto_complete_desc": "Start, run and end incidents; type /incident help",
        "auto_complete_hint": "[start|end|commander|check|list|info|playbook|help]",
        "display_name": "Incident",
        "description": "DevOps Command Center incident response",
        "username": "",
        "icon_url": "",
    }


def register_commands(mattermost: Mattermost, callback_base_url: str, tokens: CommandTokens,
                      remember: Callable[[str, str, str], None] = lambda team, command, token: None) -> list[str]:
    """Create or update `/incident` in every team the bot belongs to; returns the team ids."""
    teams = mattermost.my_teams()
    if not teams:
        raise StartupError("the bot account is in no team: add it to the teams that should have /incident (Main Menu > Add Members to Team)")
    for team in teams:
        register_in_team(mattermost, team, callback_base_url, tokens, remember)
    return [team["id"] for team in teams]


def register_in_team(mattermost: Mattermost, team: dict[str, Any], callback_base_url: str, tokens: CommandTokens,
                     remember: Callable[[str, str, str], None]) -> str:
    """Create or update `/incident` in one team, and keep its token (returned)."""
    wanted = command_spec(team["id"], callback_base_url)
    try:
        existing = next((c for c in mattermost.team_commands(team["id"]) if c.get("trigger") == TRIGGER and not c.get("delete_at")), None)
        if existing is None:
            command = mattermost.create_command(wanted)
            log.info("registered /%s in team %s", TRIGGER, team.get("name"))
        elif any(existing.get(key) != value for key, value in wanted.items()):
            command = mattermost.update_command({**existing, **wanted})
            log.info("updated /%s in team %s", TRIGGER, team.get("name"))
        else:
            command = existing
    except MattermostError as exc:
        if exc.status == 501:
            raise StartupError(
                "custom slash commands are disabled on the server: System Console > Integrations > Integration Management > "
                "Enable Custom Slash Commands = true (ServiceSettings.EnableCommands)"
            ) from None
        if exc.status == 403:
            raise StartupError(
                f"the server refused to register /{TRIGGER} in team {team.get('name')} (403): give the bot account the system_admin role"
            ) from None
        raise
    tokens.set(team["id"], command["token"])
    remember(team["id"], command["id"], command["token"])
    return str(command["token"])


def refresh_team(mattermost: Mattermost, team_id: str, callback_base_url: str, tokens: CommandTokens,
                 remember: Callable[[str, str, str], None]) -> str | None:
    """The team's /incident token as Mattermost has it now, after a request came with another.

    A team admin may have regenerated it, or deleted the command (it is registered again). The
    operator is told in the log that it changed; the token itself is never logged. None if
    Mattermost could not say (the request is refused, the known token kept).
    """
    before = tokens.get(team_id)
    try:
        team = mattermost.team(team_id)
        token = register_in_team(mattermost, team, callback_base_url, tokens, remember)
    except (MattermostError, StartupError) as exc:
        log.warning("a /%s request for team %s came with an unknown token, and Mattermost could not be asked for the current one: %s",
                    TRIGGER, team_id, exc)
        return None
    if token != before:
        log.warning("the /%s token of team %s was changed in Mattermost (regenerated, or the command made again); the new one "
                    "is in use", TRIGGER, team.get("name") or team_id)
    return token


def check_callbacks_reachable(mattermost: Mattermost, team_id: str, callback_base_url: str) -> None:
    """Have Mattermost run `/incident selfcheck` for the bot: proves the server reaches us."""
    nonce = secrets.token_hex(8)
    channel = mattermost.direct_channel(mattermost.bot_user_id)
    try:
        answer = mattermost.execute_command(channel["id"], team_id, f"/{TRIGGER} selfcheck {nonce}")
    except MattermostError as exc:
        raise StartupError(
            f"Mattermost could not reach the bot at {callback_base_url}{COMMAND_PATH} ({exc.error_id or exc.status}): set BOT_PUBLIC_URL to an "
            "address the server can reach, and if it is a private or loopback address add its host to "
            "ServiceSettings.AllowedUntrustedInternalConnections"
        ) from None
    if nonce not in str((answer or {}).get("text", "")):
        raise StartupError(
            f"something other than this bot answered at {callback_base_url}{COMMAND_PATH}: check BOT_PUBLIC_URL points at this bot"
        )
