"""Start the incident bot: `python bot.py`, or `incident-bot` once installed (settings from
settings.toml and the environment). `--check` runs the start-up checks and exits; `migrate`
migrates the database and exits; `--version`.

Exit codes: 0 stopped on request (or the check passed); 1 Mattermost stayed unreachable, or the
database cannot be opened; 2 a setting is wrong, or the server refused (one line on stderr names
it and the fix).
"""

from __future__ import annotations

import logging
import signal
import sys
from urllib.parse import urlsplit

import click

from chat.bot import IncidentBot
from chat.alert_hooks import HideAlertSecrets
from chat.logs import QuietProbes, Redact, formatter, redact_also
from chat.signing import Signer
from chat.startup import StartupError
from config.settings import Settings, SettingsError, load
from models import bot as records
from models.db import connect
from models.migrations import migrate
from plugins.alerts import Alerts
from plugins.assignments import Assignments
from plugins.backstage import Backstage
from plugins.checklist import Checklists
from plugins.help import Help
from plugins.incidents import Incidents
from plugins.insights import Insights
from plugins.playbooks import Playbooks
from plugins.record import Record
from plugins.slash import SlashCommand
from plugins.updates import Updates
from telemetry.plugin import TelemetryPlugin

log = logging.getLogger("incident")


def plugins() -> list:
    return [SlashCommand(), Help(), Incidents(), Checklists(), Updates(), Assignments(), Record(), Playbooks(), Backstage(), Alerts(),
            Insights(), TelemetryPlugin()]


def secrets_of(settings: Settings) -> list[str]:
    """What must never reach a log line."""
    database_password = urlsplit(settings.database.url).password if settings.database.url else None
    return [settings.mattermost.token, settings.bot.signing_secret, settings.bot.callback_secret, settings.telemetry.rudder_write_key,
            database_password or ""]


def configure_logging(level: str, log_format: str = "text", secrets: list[str] | None = None) -> logging.Handler:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter(log_format.lower()))
    handler.addFilter(Redact(secrets or []))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    # the drivers log every failed request at ERROR, including ones we expect and handle
    logging.getLogger("mattermostautodriver").setLevel(logging.CRITICAL)
    for noisy in ("httpx", "httpcore", "asyncio", "apscheduler"):  # apscheduler: two lines per sweep, every few seconds
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("peewee").setLevel(logging.INFO)
    # a line per click costs a twentieth of the click's CPU (issue 14); /metrics counts requests
    logging.getLogger("aiohttp.access").setLevel(logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING)
    logging.getLogger("aiohttp.access").addFilter(QuietProbes())
    logging.getLogger("aiohttp.access").addFilter(HideAlertSecrets())  # an alert URL carries its secret
    return handler


def open_database(settings: Settings):
    connection = connect(settings.database.url or None, settings.database.sqlite_path)
    migrate()
    return connection


def leave_quietly(signum, frame) -> None:
    """Until the bot takes over signals, a stop request simply ends the process."""
    raise SystemExit(0)


def settings_and_database() -> Settings | int:
    """The settings, logging configured and the database open and migrated; or the exit code."""
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, leave_quietly)
    try:
        settings = load()
    except SettingsError as exc:
        print(f"settings: {exc}", file=sys.stderr)
        if str(exc).startswith("MATTERMOST_URL is not set"):  # nothing configured at all: perhaps only trying it
            print("No Mattermost server at hand? `make demo` (in the source folder) runs the bot against a built-in test double.")
        return 2
    configure_logging(settings.bot.log_level, settings.bot.log_format, secrets_of(settings))
    try:
        open_database(settings)
    except Exception as exc:  # the driver's own message names what failed
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"database: cannot open it ({exc.__class__.__name__}: {first_line}); check DATABASE_URL", file=sys.stderr)
        return 1
    return settings


def main(check: bool = False) -> int:
    """Run the bot until it is stopped; with `check`, run the start-up checks and exit."""
    settings = settings_and_database()
    if isinstance(settings, int):
        return settings
    secret = settings.bot.signing_secret or records.signing_secret()
    redact_also(secret)
    signer = Signer(secret)
    bot = IncidentBot(settings, plugins(), signer, remember_command=records.remember_command,
                      stored_command_token=records.command_token, claim_event=records.claim_event,
                      contexts_timed_since=records.contexts_timed_since())
    try:
        if check:
            bot.check()
            print(f"check: OK: logged in to {settings.mattermost.url}, /incident registered, "
                  f"callbacks reachable at {settings.callback_base_url}")
        else:
            bot.run()
    except StartupError as exc:
        if exc.exit_code:
            print(f"startup: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        print(f"startup: cannot listen on {settings.bot.listen_host}:{settings.bot.listen_port} ({exc.strerror}); "
              "change BOT_LISTEN_PORT or BOT_LISTEN_HOST", file=sys.stderr)
        return 2
    return 0


def migrate_only() -> int:
    settings = settings_and_database()
    if isinstance(settings, int):
        return settings
    print("migrate: the database schema is up to date")
    return 0


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="devops-command-center", prog_name="incident-bot")
@click.option("--check", is_flag=True, help="Run the start-up checks (settings, database, login, role, /incident in "
              "every team, callbacks reachable), then exit: 0 passed, 1 unreachable, 2 wrong setting or refused.")
@click.pass_context
def cli(ctx: click.Context, check: bool) -> None:
    """The DevOps Command Center incident bot for Mattermost. Settings: settings.toml and the environment (README)."""
    if ctx.invoked_subcommand is None:
        ctx.exit(main(check=check))


@cli.command("migrate")
def migrate_command() -> None:
    """Create or migrate the database schema, then exit (a start does it too)."""
    sys.exit(migrate_only())


if __name__ == "__main__":
    cli()
