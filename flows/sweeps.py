"""What the timers' sweep does: everything durable that falls due, each part on its own."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from . import assignments, updates
from .context import FlowContext

log = logging.getLogger("incident.flows.sweeps")


@dataclass(frozen=True)
class Swept:
    update_reminders: int = 0
    item_reminders: int = 0


def run(ctx: FlowContext) -> Swept:
    """Status-update reminders, then item deadlines; one failing does not hold the other back."""
    counts = []
    for name, sweep in (("update reminders", updates.send_due_reminders), ("item deadlines", assignments.send_due_reminders)):
        try:
            counts.append(sweep(ctx))
        except Exception:
            log.exception("the sweep of %s failed; it runs again soon", name)
            counts.append(0)
    return Swept(*counts)
