"""The bot's settings: `settings.toml` first, then environment variables, then checks.

Every key lives in a `[section]` of the TOML file and can be overridden by the environment
variable `SECTION_KEY` in upper case (`[mattermost] url` -> `MATTERMOST_URL`), so the bot can be
deployed twelve-factor style with no file at all. Anything wrong stops the bot at start with a
`SettingsError` whose message is one line naming the setting and the fix; the bot turns it
into exit code 2. Secrets never appear in those messages or in `repr()`.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit


class SettingsError(Exception):
    """A setting is missing or wrong; the message names it and says how to fix it."""


def _secret(default: str = "") -> Any:
    return field(default=default, repr=False, metadata={"secret": True})


@dataclass(frozen=True)
class MattermostSettings:
    url: str = ""
    token: str = _secret()
    verify_tls: bool = True


@dataclass(frozen=True)
class BotSettings:
    listen_host: str = "127.0.0.1"
    listen_port: int = 8579
    # The address Mattermost uses to reach the bot's HTTP endpoints; it can differ from the
    # listen address behind a proxy or in a container.
    public_url: str = ""
    signing_secret: str = _secret()
    # When set, clicks are accepted only on URLs that carry it; Mattermost never shows those URLs to anyone.
    callback_secret: str = _secret()
    # Buttons and dialogs older than this are refused; a message gets fresh ones whenever it is re-rendered.
    callback_max_age_days: float = 30.0
    trigger_emoji: str = "rotating_light"
    # Reacting with it to a post in an incident channel puts the post on the incident's timeline.
    timeline_emoji: str = "pushpin"
    log_level: str = "INFO"
    # "text" for people, "json" for one JSON object per line (Loki, ELK).
    log_format: str = "text"
    # A separate port for /livez, /readyz and /metrics; 0 serves them on listen_port.
    metrics_port: int = 0
    # Seconds without any websocket traffic before the connection is declared dead.
    heartbeat_seconds: float = 30.0
    # Threads for callbacks, and as many again for websocket events; each keeps one
    # database connection, so a replica holds up to 2 x worker_threads PostgreSQL connections.
    worker_threads: int = 8
    # How many times to try reaching Mattermost at start before giving up (exit code 1).
    startup_attempts: int = 10


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = _secret()
    sqlite_path: str = "incidents.sqlite3"


@dataclass(frozen=True)
class TelemetrySettings:
    enabled: bool = True
    rudder_write_key: str = _secret()
    rudder_data_plane_url: str = ""


@dataclass(frozen=True)
class UpdateSettings:
    # Every cadence and snooze is multiplied by this: 0.01 makes an hour last 36 seconds, for
    # demos and tests. Leave it at 1 in production. Below 1 the weekly digest's week shrinks too
    # (7 days x time_scale, counted from a fixed Monday 09:00 instead of the team's Mondays).
    time_scale: float = 1.0
    # How often each replica looks for due reminders that another replica scheduled, or that
    # fell due while the bot was down.
    sweep_seconds: float = 10.0


@dataclass(frozen=True)
class Settings:
    mattermost: MattermostSettings = field(default_factory=MattermostSettings)
    bot: BotSettings = field(default_factory=BotSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    telemetry: TelemetrySettings = field(default_factory=TelemetrySettings)
    updates: UpdateSettings = field(default_factory=UpdateSettings)

    @property
    def callback_base_url(self) -> str:
        """Where Mattermost sends slash commands, clicks and dialogs (no trailing slash)."""
        if self.bot.public_url:
            return self.bot.public_url.rstrip("/")
        host = self.bot.listen_host
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        return f"http://{host}:{self.bot.listen_port}"


SECTIONS = {f.name: f.default_factory for f in fields(Settings)}  # type: ignore[misc]


def env_name(section: str, key: str) -> str:
    return f"{section}_{key}".upper()


def _coerce(section: str, key: str, kind: type, raw: Any, source: str) -> Any:
    name = env_name(section, key) if source == "env" else f"[{section}] {key}"
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if isinstance(raw, str) and raw.strip().lower() in ("0", "false", "no", "off", ""):
            return False
        raise SettingsError(f"{name} must be true or false, not {raw!r}")
    if kind in (int, float):
        if isinstance(raw, bool):
            raise SettingsError(f"{name} must be a number, not {raw!r}")
        try:
            return kind(raw)
        except (TypeError, ValueError):
            raise SettingsError(f"{name} must be a number, not {raw!r}") from None
    if not isinstance(raw, str):
        raise SettingsError(f"{name} must be text (in quotes), not {raw!r}")
    return raw.strip()


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except PermissionError:
        raise SettingsError(f"settings file {path} cannot be read: check its permissions") from None
    except IsADirectoryError:
        raise SettingsError(f"settings file {path} is a directory: point SETTINGS_FILE at a file") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"settings file {path} is not valid TOML ({exc}): compare it with settings.example.toml") from None


def load(path: str | os.PathLike | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read, merge and check the settings. Raises `SettingsError`."""
    environ = os.environ if environ is None else environ
    path = Path(path or environ.get("SETTINGS_FILE") or "settings.toml")
    document = _read_file(path)

    for section in document:
        if section not in SECTIONS:
            known = ", ".join(f"[{s}]" for s in SECTIONS)
            raise SettingsError(f"unknown section [{section}] in {path}: the sections are {known}")

    built = {}
    for section, factory in SECTIONS.items():
        table = document.get(section, {})
        if not isinstance(table, dict):
            raise SettingsError(f"{section} in {path} must be a [{section}] table")
        defaults = factory()
        known_keys = {f.name: f for f in fields(defaults)}
        for key in table:
            if key not in known_keys:
                raise SettingsError(
                    f"unknown setting [{section}] {key} in {path}: the keys are {', '.join(known_keys)}"
                )
        values = {}
        for key in known_keys:
            kind = type(getattr(defaults, key))
            if env_name(section, key) in environ:
                values[key] = _coerce(section, key, kind, environ[env_name(section, key)], "env")
            elif key in table:
                values[key] = _coerce(section, key, kind, table[key], "file")
        built[section] = type(defaults)(**values)
    settings = Settings(**built)
    _check(settings)
    return settings


def _check_http_url(value: str, name: str, what: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{name} must be an http:// or https:// URL of {what}, not {value!r}")
    try:
        _ = parts.port  # reading the port is what checks it
    except ValueError:
        raise SettingsError(f"{name} has an invalid port: {value!r}") from None


def _check(settings: Settings) -> None:
    mm = settings.mattermost
    if not mm.url:
        raise SettingsError(
            "MATTERMOST_URL is not set: put url = \"https://chat.example.com\" under [mattermost] in settings.toml or set MATTERMOST_URL"
        )
    _check_http_url(mm.url, "MATTERMOST_URL", "your Mattermost server")
    if not mm.token:
        raise SettingsError(
            "MATTERMOST_TOKEN is not set: create a bot account's access token (README, 'Connect to Mattermost') and set [mattermost] token or MATTERMOST_TOKEN"
        )
    if settings.bot.public_url:
        _check_http_url(settings.bot.public_url, "BOT_PUBLIC_URL", "the bot as Mattermost reaches it")
    if not 0 < settings.bot.listen_port < 65536:
        raise SettingsError(f"BOT_LISTEN_PORT must be between 1 and 65535, not {settings.bot.listen_port}")
    if settings.bot.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise SettingsError(f"BOT_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {settings.bot.log_level!r}")
    if settings.bot.log_format.lower() not in ("text", "json"):
        raise SettingsError(f"BOT_LOG_FORMAT must be text or json, not {settings.bot.log_format!r}")
    if not 0 <= settings.bot.metrics_port < 65536 or settings.bot.metrics_port == settings.bot.listen_port:
        raise SettingsError(f"BOT_METRICS_PORT must be 0 (the callback port) or another port up to 65535, not {settings.bot.metrics_port}")
    if settings.bot.heartbeat_seconds < 1:
        raise SettingsError("BOT_HEARTBEAT_SECONDS must be at least 1")
    if settings.bot.callback_secret and not re.fullmatch(r"[A-Za-z0-9_~.\-]{16,256}", settings.bot.callback_secret):
        raise SettingsError(
            "BOT_CALLBACK_SECRET must be 16 to 256 letters, digits or _ ~ . - (it goes into a URL); make one with "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    if not 0 < settings.bot.callback_max_age_days <= 3650:
        raise SettingsError(f"BOT_CALLBACK_MAX_AGE_DAYS must be more than 0 and at most 3650, not {settings.bot.callback_max_age_days}")
    if settings.bot.startup_attempts < 1:
        raise SettingsError("BOT_STARTUP_ATTEMPTS must be at least 1")
    if not 2 <= settings.bot.worker_threads <= 256:
        raise SettingsError("BOT_WORKER_THREADS must be between 2 and 256")
    if not re.fullmatch(r"[a-z0-9_+\-]{1,64}", settings.bot.timeline_emoji) or settings.bot.timeline_emoji == settings.bot.trigger_emoji:
        raise SettingsError(
            f"BOT_TIMELINE_EMOJI must be an emoji name such as pushpin (no colons), other than the trigger emoji, not {settings.bot.timeline_emoji!r}"
        )
    if not re.fullmatch(r"[a-z0-9_+\-]{1,64}", settings.bot.trigger_emoji):
        raise SettingsError(
            f"BOT_TRIGGER_EMOJI must be an emoji name such as rotating_light (no colons), not {settings.bot.trigger_emoji!r}"
        )
    if not 0 < settings.updates.time_scale <= 1:
        raise SettingsError(f"UPDATES_TIME_SCALE must be more than 0 and at most 1, not {settings.updates.time_scale}")
    if not 0.1 <= settings.updates.sweep_seconds <= 3600:
        raise SettingsError(f"UPDATES_SWEEP_SECONDS must be between 0.1 and 3600, not {settings.updates.sweep_seconds}")
    db_url = settings.database.url
    if db_url and urlsplit(db_url).scheme not in ("postgresql", "postgres", "sqlite"):
        raise SettingsError("DATABASE_URL must start with postgresql:// (or be empty for SQLite)")
    if settings.telemetry.rudder_write_key and settings.telemetry.rudder_data_plane_url:
        _check_http_url(settings.telemetry.rudder_data_plane_url, "TELEMETRY_RUDDER_DATA_PLANE_URL", "your RudderStack data plane")
