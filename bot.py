"""Start the incident bot: `python bot.py` (settings from settings.toml and the environment).

Exit codes: 0 stopped on request; 1 Mattermost stayed unreachable, or the database cannot be opened;
2 a setting is wrong (one line on stderr names it and the fix).
"""

from __future__ import annotations

import logging
import signal
import sys

from chat.bot import IncidentBot
from chat.signing import Signer
from chat.startup import StartupError
from config.settings import Settings, SettingsError, load
from models import bot as records
from models.db import connect
from models.migrations import migrate
from plugins.backstage import Backstage
from plugins.checklist import Checklists
from plugins.help import Help
from plugins.incidents import Incidents
from plugins.playbooks import Playbooks
from plugins.slash import SlashCommand
from plugins.updates import Updates
from telemetry.plugin import TelemetryPlugin

log = logging.getLogger("incident")


def plugins() -> list:
    return [SlashCommand(), Help(), Incidents(), Checklists(), Updates(), Playbooks(), Backstage(), TelemetryPlugin()]


def configure_logging(level: str) -> None:
    logging.basicConfig(stream=sys.stdout, level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # the drivers log every failed request at ERROR, including ones we expect and handle
    logging.getLogger("mattermostautodriver").setLevel(logging.CRITICAL)
    for noisy in ("httpx", "httpcore", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("peewee").setLevel(logging.INFO)


def open_database(settings: Settings):
    connection = connect(settings.database.url or None, settings.database.sqlite_path)
    migrate()
    return connection


def leave_quietly(signum, frame) -> None:
    """Until the bot takes over signals, a stop request simply ends the process."""
    raise SystemExit(0)


def main() -> int:
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, leave_quietly)
    try:
        settings = load()
    except SettingsError as exc:
        print(f"settings: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.bot.log_level)
    try:
        open_database(settings)
    except Exception as exc:  # the driver's own message names what failed
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"database: cannot open it ({exc.__class__.__name__}: {first_line}); check DATABASE_URL", file=sys.stderr)
        return 1
    signer = Signer(settings.bot.signing_secret or records.signing_secret())
    bot = IncidentBot(settings, plugins(), signer, remember_command=records.remember_command,
                      stored_command_token=records.command_token, claim_event=records.claim_event)
    try:
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


if __name__ == "__main__":
    sys.exit(main())
