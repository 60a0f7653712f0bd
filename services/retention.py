"""Rows that are kept only while they can still matter, then deleted.

Three tables grow with use and are read only while their rows are young: processed alert
deliveries, finished incident starts and the weekly digests' claims. Each row is deleted once it
is done and older than `RETENTION_MS`, and only when nothing could still need it:

- an alert delivery that is done or failed for good. A pending one is work still to do. Its
  `body_hash` makes a sender's retry of the same body a no-op; senders retry for minutes or hours,
  not a month, so past the retention an identical body is a new notification (an alert still
  firing unchanged a month later), and acting on it is right;
- an incident start that started or was recovered: its incident's row now names the channel, so
  the start's row is no longer what keeps another start from adopting it, and a retry of the same
  start is answered only within `incidents.RETRY_WINDOW_MS`. A rolled-back start is deleted only
  if it never had a channel: one with a channel (which may still be open, if the archive was
  refused) is what stops recovery from adopting that channel for a later start of the same name;
- a digest claim (team, due time) whose due time is over the retention ago. A claim for a due time
  is only tried while it is the latest due at or before now, that is for one week (an hour more
  across a DST change; less with a shortened week), so a month later no replica can claim it again
  unless its clock is weeks behind. The row's `post_id` or `problem` is then only history.
"""
from __future__ import annotations

from dataclasses import dataclass

from models.alerts import DONE, FAILED, AlertDelivery
from models.incidents import START_RECOVERED, START_ROLLED_BACK, START_STARTED, IncidentStart
from models.insights import DigestPost

from .metrics import DAY_MS

RETENTION_MS = 30 * DAY_MS


@dataclass(frozen=True)
class Pruned:
    deliveries: int = 0
    starts: int = 0
    digests: int = 0

    @property
    def total(self) -> int:
        return self.deliveries + self.starts + self.digests


def prune(now: int, retention_ms: int = RETENTION_MS) -> Pruned:
    """Delete what is done and older than the retention (see the module's notes); how many rows of each."""
    cutoff = now - retention_ms
    return Pruned(_deliveries(cutoff), _starts(cutoff), _digests(cutoff))


def _deliveries(cutoff: int) -> int:
    return int(AlertDelivery.delete().where(AlertDelivery.state.in_((DONE, FAILED))
                                            & (AlertDelivery.processed_at < cutoff)).execute())


def _starts(cutoff: int) -> int:
    finished = (IncidentStart.state.in_((START_STARTED, START_RECOVERED))
                | ((IncidentStart.state == START_ROLLED_BACK) & IncidentStart.channel_id.is_null()))
    return int(IncidentStart.delete().where(finished & (IncidentStart.finished_at < cutoff)).execute())


def _digests(cutoff: int) -> int:
    return int(DigestPost.delete().where(DigestPost.due_at < cutoff).execute())
