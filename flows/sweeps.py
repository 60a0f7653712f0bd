"""What the timers' sweep does: everything durable that falls due, each part on its own."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from models.db import UNAVAILABLE_ERRORS

from . import assignments, insights, recovery, retention, updates
from .context import FlowContext

log = logging.getLogger("incident.flows.sweeps")


@dataclass(frozen=True)
class Swept:
    update_reminders: int = 0
    item_reminders: int = 0
    repaired: int = 0  # half-done starts, ends and restarts (flows/recovery.py)
    digests: int = 0  # weekly digests posted (flows/insights.py)
    pruned: int = 0  # rows past their use deleted (flows/retention.py)


def run(ctx: FlowContext) -> Swept:
    """Status-update reminders, item deadlines, what a dead process left half done (it may wait for a
    change another replica is making), the digests, then rows past their use; one failing does not
    hold the others back."""
    counts = []
    for name, sweep in (("update reminders", updates.send_due_reminders), ("item deadlines", assignments.send_due_reminders),
                        ("half-done changes", lambda ctx: recovery.run(ctx).repaired),
                        ("weekly digests", insights.send_due_digests), ("old rows", retention.prune_old_rows)):
        try:
            counts.append(sweep(ctx))
        except UNAVAILABLE_ERRORS as exc:  # an outage, not a bug: one line, and the next sweep tries again
            log.warning("the sweep of %s waits for the database, which is unavailable (%s: %s)", name,
                        type(exc).__name__, str(exc).strip().partition("\n")[0])
            counts.append(0)
        except Exception:
            log.exception("the sweep of %s failed; it runs again soon", name)
            counts.append(0)
    return Swept(*counts)
