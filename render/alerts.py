"""What alerts look like in an incident channel, and the answers of `/incident alerts`.

Everything an alert says (labels, annotations, links) comes from outside: it is shown inert
(`render.text.safe`: no markdown, no live @mentions), and a link is offered only for an http(s)
URL, percent-encoded so it cannot close the markdown link or mention anyone.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import quote, urlsplit

from render.callbacks import AskEnd
from render.text import inert, safe
from services.text import one_line

MAX_ALERTS_SHOWN = 10
MAX_PAIRS_SHOWN = 20  # labels or annotations per alert
VALUE_MAX = 300
URL_MAX = 2000
RED, GREEN = "#D24B4E", "#3DB887"
# what may stay as it is in a link target; everything else (spaces, parentheses, "@", "<") is percent-encoded
_URL_SAFE = ":/?#&=+%,;!$*'-._~"


def link(url: str) -> str | None:
    """A markdown link target for an alert's URL, or None if it is not a plain http(s) URL."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > URL_MAX or "@" in parts.netloc:
        return None
    return quote(url, safe=_URL_SAFE)


def _value(text: str) -> str:
    text = safe(one_line(text))
    return text if len(text) <= VALUE_MAX else text[: VALUE_MAX - 1] + "…"


def _pairs(title: str, pairs: Mapping[str, str]) -> list[str]:
    if not pairs:
        return []
    shown = sorted(pairs.items())[:MAX_PAIRS_SHOWN]
    lines = [f"{title}: " + ", ".join(f"{_value(key)}=`{_code(value)}`" for key, value in shown)]
    if len(pairs) > MAX_PAIRS_SHOWN:
        lines[-1] += f" and {len(pairs) - MAX_PAIRS_SHOWN} more"
    return lines


def _code(text: str) -> str:
    """Inline code: markdown is not read there; only a backquote could end it (and mentions stay inert)."""
    text = inert(one_line(text).replace("`", "'"))
    return text if len(text) <= VALUE_MAX else text[: VALUE_MAX - 1] + "…"


def alert_lines(alert: Any) -> list[str]:
    """One alert (`services.alerts.Alert`): its name, labels, annotations and link."""
    lines = [f"- **{_value(alert.name)}** ({'firing' if alert.firing else 'resolved'}"
             + (f" since {_value(alert.starts_at)}" if alert.firing and alert.starts_at else "") + ")"]
    labels = {k: v for k, v in alert.labels.items() if k != "alertname"}
    lines += ["  " + line for line in _pairs("Labels", labels)]
    for key, value in sorted(alert.annotations.items())[:MAX_PAIRS_SHOWN]:
        lines.append(f"  {_value(key)}: {_value(value)}")
    target = link(alert.generator_url)
    if target:
        lines.append(f"  [Open the source of this alert]({target})")
    return lines


def _alerts(alerts: Sequence[Any]) -> list[str]:
    lines: list[str] = []
    for alert in alerts[:MAX_ALERTS_SHOWN]:
        lines += alert_lines(alert)
    if len(alerts) > MAX_ALERTS_SHOWN:
        lines.append(f"- and {len(alerts) - MAX_ALERTS_SHOWN} more")
    return lines


def opened(note: Any, source_name: str) -> str:
    """The first post of an incident an alert group opened."""
    firing = [a for a in note.alerts if a.firing]
    sender = "Grafana" if note.sender == "grafana" else "Alertmanager"
    lines = [f"#### :rotating_light: Opened by alert source **{safe(source_name)}** ({sender}): "
             f"{len(firing)} alert{'' if len(firing) == 1 else 's'} firing"]
    lines += _pairs("Group", note.group_labels)
    lines += _alerts(firing)
    if note.truncated:
        lines.append(f"_{note.truncated} more alerts were left out by the sender._")
    target = link(note.external_url)
    if target:
        lines.append(f"[Open {sender}]({target})")
    return "\n".join(lines)


def changed(newly_firing: Sequence[Any], newly_resolved: Sequence[str], still_firing: int) -> str:
    """A repeat of the group: what is new since the channel was last told."""
    lines = ["#### Alerts changed"]
    if newly_firing:
        lines.append(f"**Now firing** ({len(newly_firing)}):")
        lines += _alerts(newly_firing)
    if newly_resolved:
        names = ", ".join(f"**{_value(name)}**" for name in newly_resolved[:MAX_ALERTS_SHOWN])
        more = f" and {len(newly_resolved) - MAX_ALERTS_SHOWN} more" if len(newly_resolved) > MAX_ALERTS_SHOWN else ""
        lines.append(f"**Resolved**: {names}{more}")
    lines.append(f"{still_firing} alert{'' if still_firing == 1 else 's'} of the group still firing.")
    return "\n".join(lines)


def resolved(at_ms: int, incident_id: int, sign: Callable[[dict[str, Any]], dict[str, Any]],
             action_url: str) -> dict[str, Any]:
    """The group stopped firing: `{"message", "props"}` with the checklist message's *End incident* button."""
    when = datetime.fromtimestamp(at_ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    context = sign(AskEnd(incident_id=incident_id).payload())
    return {
        "message": f"#### :white_check_mark: All alerts of this group resolved at {when}",
        "props": {"attachments": [{
            "color": GREEN,
            "text": "The incident stays open until someone ends it.",
            "actions": [{"id": "endincident", "name": "End incident", "type": "button", "style": "danger",
                         "integration": {"url": action_url, "context": context}}],
        }]},
    }


# ---- /incident alerts -------------------------------------------------------------------------------
def connected(source: Any, url: str, playbook_title: str | None, commander: str, rotated: bool = False) -> str:
    what = (f"New URL for alert source **{safe(source.name)}**; the old one stops working now."
            if rotated else f"Alert source **{safe(source.name)}** connected.")
    severity = f"SEV{source.severity}" if source.severity else "from the alerts' `severity` label (else the playbook's)"
    return "\n".join([
        what,
        f"URL (keep it secret: whoever has it can open incidents): `{url}`",
        "- Alertmanager: under a receiver's `webhook_configs`, set `url` to it (keep `send_resolved: true`).",
        "- Grafana: add a contact point with the integration *Webhook* and this URL.",
        f"A firing alert group opens an incident commanded by @{commander}"
        + (f", with the playbook **{safe(playbook_title)}**" if playbook_title else "")
        + f", severity {severity}" + (", private" if source.is_private else "") + ".",
    ])


def source_list(sources: Sequence[Any], playbook_titles: Mapping[int, str], usernames: Callable[[str], str]) -> str:
    if not sources:
        return "This team has no alert sources; connect one with `/incident alerts connect <name>`."
    rows = ["| Source | Playbook | Severity | Private | Commander | Last problem |", "| --- | --- | --- | --- | --- | --- |"]
    for source in sources:
        title = playbook_titles.get(source.playbook_id or 0)
        rows.append(f"| {safe(source.name)} | {safe(title) if title else '—'} | "
                    f"{f'SEV{source.severity}' if source.severity else 'from the alerts'} | {'yes' if source.is_private else 'no'} | "
                    f"@{usernames(source.owner_id)} | {safe(source.last_problem) if source.last_problem else '—'} |")
    return "\n".join(["URLs are not shown: `/incident alerts rotate <name>` gives a source a new one.", "", *rows])
