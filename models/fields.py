"""Column types shared by the tables."""
from __future__ import annotations

import json

import peewee


class JsonTextField(peewee.TextField):
    """JSON kept as TEXT, so the column is identical on SQLite and PostgreSQL."""

    def db_value(self, value):
        if value is None:
            return None
        return json.dumps(value, sort_keys=True, separators=(",", ":"))

    def python_value(self, value):
        if value is None:
            return None
        return json.loads(value)


# Mattermost ids are 26 characters; a little room for tests and future formats.
def IdField(**kwargs) -> peewee.CharField:  # noqa: N802 - reads like a field class
    return peewee.CharField(max_length=64, **kwargs)
