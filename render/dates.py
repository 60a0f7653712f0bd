"""Dates as a person reads them: in their Mattermost timezone (automatic or manual), UTC if unset."""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def user_zone(user: dict) -> tzinfo:
    """The timezone a Mattermost user reads times in (their profile), UTC if unknown."""
    zone = user.get("timezone") or {}
    automatic = str(zone.get("useAutomaticTimezone", "true")).lower() == "true"
    name = zone.get("automaticTimezone") if automatic else zone.get("manualTimezone")
    name = name or zone.get("manualTimezone") or zone.get("automaticTimezone") or ""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return timezone.utc


def when(ms: int | None, zone: tzinfo) -> str:
    if not ms:
        return "--"
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc).astimezone(zone)
    return moment.strftime("%Y-%m-%d %H:%M ") + (moment.tzname() or "")
