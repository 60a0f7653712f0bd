"""Telemetry's place in the bot: decide at start whether it is on, subscribe, stop with the bot.

On only when all three agree: a RudderStack write key is configured, `[telemetry]
enabled` is true, and the Mattermost server reports diagnostics enabled (its client
config `DiagnosticsEnabled`). One log line at start says which, and why.
"""
from __future__ import annotations

import importlib.metadata
import logging
import tomllib
from pathlib import Path

from chat.context import ChatPlugin

from chat.gateway import MattermostError

from .sender import QUEUE_SIZE, Telemetry, rudder_client

log = logging.getLogger("incident.telemetry")

ROOT = Path(__file__).resolve().parents[1]


def bot_version() -> str:
    try:
        with (ROOT / "pyproject.toml").open("rb") as handle:
            return tomllib.load(handle)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        pass
    try:
        return importlib.metadata.version("devops-command-center")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def decide(settings, client_config: dict | None) -> tuple[bool, str]:
    """(on?, why) from the telemetry settings and the server's client config."""
    if not settings.enabled:
        return False, "turned off in the settings ([telemetry] enabled = false)"
    if not settings.rudder_write_key:
        return False, "no RudderStack write key is configured"
    if client_config is None:
        return False, "the Mattermost server's diagnostics setting could not be read"
    if str(client_config.get("DiagnosticsEnabled", "false")).lower() != "true":
        return False, "the Mattermost server has diagnostics (telemetry) disabled"
    return True, "on"


def metadata(client_config: dict) -> dict[str, str]:
    return {"diagnosticID": client_config.get("DiagnosticId") or client_config.get("TelemetryId") or "",
            "serverVersion": client_config.get("Version") or "", "botVersion": bot_version()}


class TelemetryPlugin(ChatPlugin):
    telemetry: Telemetry | None = None

    def attach(self, chat) -> None:
        super().attach(chat)
        settings = chat.settings.telemetry
        config = None
        if settings.enabled and settings.rudder_write_key:
            try:
                config = chat.mm.client_config()
            except MattermostError as exc:
                log.warning("telemetry: cannot read the server's client config: %s", exc)
        on, why = decide(settings, config)
        if not on:
            log.info("telemetry: off, %s", why)
            return
        client = rudder_client(settings.rudder_write_key, settings.rudder_data_plane_url, QUEUE_SIZE)
        self.telemetry = Telemetry(client, metadata(config)).start()
        log.info("telemetry: on, sending ids and counts only to %s", settings.rudder_data_plane_url or "RudderStack")

    def on_stop(self):
        if self.telemetry is not None:
            self.telemetry.stop()
        return super().on_stop()
