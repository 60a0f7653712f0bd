"""The sweep's part that deletes rows past their use (`services/retention.py` says which, and why
each may go)."""

from __future__ import annotations

import logging
import weakref

from services import retention

from .context import FlowContext

log = logging.getLogger("incident.flows.retention")

PRUNE_EVERY_MS = 60 * 60 * 1000  # the sweep runs every few seconds; the rows it deletes age by days

_last_pruned: weakref.WeakKeyDictionary[FlowContext, int] = weakref.WeakKeyDictionary()  # per bot process


def prune_old_rows(ctx: FlowContext) -> int:
    """At most once an hour: delete what is done and past the retention; how many rows went."""
    now = ctx.now()
    if now - _last_pruned.get(ctx, now - PRUNE_EVERY_MS) < PRUNE_EVERY_MS:
        return 0
    pruned = retention.prune(now)
    _last_pruned[ctx] = now  # after the delete: a database that was away is tried again at the next sweep
    if pruned.total:
        log.info("deleted %d alert deliveries, %d incident starts and %d digest claims older than %d days",
                 pruned.deliveries, pruned.starts, pruned.digests, retention.RETENTION_MS // (24 * 60 * 60 * 1000))
    return pruned.total
