"""The figures the metrics read, kept on the incident row by the services as things happen.

`/incident metrics` reads the incident table alone (`services/insights.py`): the first status update
(`services/updates.py`), the first checklist tick (`services/checklists.py`) and the time spent ended
between runs (`services/incidents.py`, at a restart) are written in the same UPDATE that records the
change, so they cost no query of their own. Migration 11 filled them in for older incidents.
"""
from __future__ import annotations

from typing import Any

import peewee
from peewee import Case


def earliest(column: peewee.Field, at: int) -> Any:
    """`column` becomes `at` if it is unset or later (two replicas' clocks may disagree a little), so
    it always holds the MIN of the times written to it."""
    return Case(None, [((column.is_null()) | (column > at), at)], column)
