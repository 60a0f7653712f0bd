"""Webhook bodies as the senders write them, for the alert tests.

Alertmanager: the webhook receiver's JSON, version "4" (Prometheus docs, Alertmanager
configuration, `<webhook_config>`: https://prometheus.io/docs/alerting/latest/configuration/#webhook_config):
`version`, `groupKey`, `truncatedAlerts`, `status`, `receiver`, `groupLabels`, `commonLabels`,
`commonAnnotations`, `externalURL`, and `alerts[]` with `status`, `labels`, `annotations`, `startsAt`,
`endsAt`, `generatorURL`, `fingerprint`.

Grafana: the unified alerting webhook contact point, version "1", the same fields plus `orgId`,
`title`, `state`, `message` and per alert `silenceURL`, `dashboardURL`, `panelURL`, `values`
(Grafana docs, "Configure the webhook notifier for Alerting":
https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/).
"""

from __future__ import annotations

import json
from typing import Any

NOT_ENDED = "0001-01-01T00:00:00Z"  # what both senders write as `endsAt` of an alert still firing


def alert(name: str, fingerprint: str, status: str = "firing", **labels: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": name, **labels},
        "annotations": {"summary": f"{name} on {labels.get('instance', 'db-1')}", "runbook_url": "https://runbooks.example/db"},
        "startsAt": "2026-03-02T10:00:00Z",
        "endsAt": NOT_ENDED if status == "firing" else "2026-03-02T10:30:00Z",
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1",
        "fingerprint": fingerprint,
    }


def alertmanager(*alerts: dict[str, Any], status: str | None = None, group_key: str = '{}:{alertname="DatabaseDown"}',
                 common_labels: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    firing = any(not isinstance(a, dict) or a.get("status") == "firing" for a in alerts)
    return {
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": 0,
        "status": status or ("firing" if firing else "resolved"),
        "receiver": "incident-bot",
        "groupLabels": {"alertname": alerts[0]["labels"]["alertname"]} if alerts and isinstance(alerts[0], dict)
        and "alertname" in alerts[0].get("labels", {}) else {},
        "commonLabels": common_labels if common_labels is not None else
        (dict(alerts[0]["labels"]) if len(alerts) == 1 and isinstance(alerts[0], dict) else {}),
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": list(alerts),
        **extra,
    }


def grafana(*alerts: dict[str, Any], group_key: str = "{}:{}") -> dict[str, Any]:
    body = alertmanager(*alerts, group_key=group_key, common_labels={"team": "blue"})
    body.update({"version": "1", "orgId": 1, "title": "[FIRING:1] (blue)", "state": "alerting",
                 "message": "**Firing**\n\nLabels:\n - alertname = High memory usage"})
    for each in body["alerts"]:
        each.update({"silenceURL": "https://grafana.example/alerting/silence/new", "dashboardURL": "", "panelURL": "",
                     "values": {"B": 44.2, "C": 1}})
    return body


def encoded(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()
