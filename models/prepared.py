"""Hot reads whose shape never changes, turned into SQL once per kind of database.

Peewee builds a query's SQL from its expression tree every time the query runs. For the reads
every click makes (the incident row, its checklists and their items) building costs several
times what the database takes to answer: a select by id of the incident table is ~0.7 ms of CPU
to build and ~0.1 ms to run and read into a model (bench/incident_bench.py, issue 14).
`select()` builds its query once, with stand-in values for the arguments, and afterwards sends
only that SQL with the real values. Only for queries whose arguments are integers or text
(ids, states) and whose shape does not depend on them (no `in_` over a list of varying length,
no None: a query that sets a column to NULL is a shape of its own, with None written in it).
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

import peewee

from .db import db

M = TypeVar("M", bound=peewee.Model)

# stand-ins no id or text reaches; each parameter of the built query that equals one is that argument
_STAND_IN = -7_340_000_000_000
_compiled: dict[tuple[str, type], tuple[str, list[tuple[bool, Any]]]] = {}


def _stand_in(index: int, example: Any) -> int | str:
    return f"\x00stand-in {index}" if isinstance(example, str) else _STAND_IN - index


def _sql(key: str, build: Callable[..., peewee.Query], args: tuple[Any, ...]) -> tuple[str, list[tuple[bool, Any]]]:
    kind = (key, type(db.obj))  # SQLite and PostgreSQL differ in placeholders and locking clauses
    found = _compiled.get(kind)
    if found is None:
        stand_ins = {_stand_in(index, arg): index for index, arg in enumerate(args)}
        sql, params = build(*stand_ins).sql()
        # each parameter: (True, argument index) or (False, a constant of the query)
        found = (sql, [(True, stand_ins[p]) if isinstance(p, (int, str)) and p in stand_ins else (False, p) for p in params])
        _compiled[kind] = found
    return found


def _params(slots: list[tuple[bool, Any]], args: tuple[Any, ...]) -> list[Any]:
    return [args[value] if is_argument else value for is_argument, value in slots]


def select(model: type[M], key: str, build: Callable[..., peewee.Query], *args: int | str) -> list[M]:
    """The rows of `build(*args)` as `model` instances; `key` names the query's shape."""
    sql, slots = _sql(key, build, args)
    cursor = db.execute_sql(sql, _params(slots, args))
    reader = _readers.get((key, model))
    if reader is None:
        reader = _readers[(key, model)] = _reader(model, cursor.description)
    return [_instance(model, reader, row) for row in cursor.fetchall()]


# Peewee's cursor wrapper works out, for every query it runs, which field each column is and how
# to convert it, then builds each row through the model's attribute setters: for the checklist a
# click renders, that was a tenth of the click's CPU (issue 14). A query of one shape returns the
# same columns each time, so that is worked out once, and a row becomes the model's data directly.
_readers: dict[tuple[str, type], list[tuple[str, Callable[[Any], Any]]]] = {}


def _reader(model: type[peewee.Model], description: Any) -> list[tuple[str, Callable[[Any], Any]]]:
    """Per column: the field name the model keeps it under, and the field's conversion."""
    fields = model._meta.combined  # column names and field names -> fields
    reader = []
    for column in description:
        field = fields.get(column[0])
        if field is None:
            raise ValueError(f"{model.__name__} has no field for the column {column[0]!r}: select model columns only")
        reader.append((field.name, field.python_value))
    return reader


def _instance(model: type[M], reader: list[tuple[str, Callable[[Any], Any]]], row: tuple[Any, ...]) -> M:
    """What peewee's Model(__no_default__=1, **row) makes, minus its setters: nothing dirty, no relations."""
    instance = model.__new__(model)
    instance.__data__ = {name: convert(value) for (name, convert), value in zip(reader, row)}
    instance._dirty = set()
    instance.__rel__ = {}
    return instance


def rows(key: str, build: Callable[..., peewee.Query], *args: int | str) -> list[tuple[Any, ...]]:
    """The rows of `build(*args)` as the database gives them (for counts and single columns)."""
    sql, slots = _sql(key, build, args)
    return list(db.execute_sql(sql, _params(slots, args)).fetchall())


def get(model: type[M], key: str, build: Callable[..., peewee.Query], *args: int | str) -> M:
    """The one row of `build(*args)`; `model.DoesNotExist`, as peewee's `get()` raises, if none."""
    found = select(model, key, build, *args)
    if not found:
        raise model.DoesNotExist(f"{model.__name__} {args}")
    return found[0]


def execute(key: str, build: Callable[..., peewee.Query], *args: int | str) -> int:
    """Run the UPDATE (or DELETE) `build(*args)`; the number of rows it changed."""
    sql, slots = _sql(key, build, args)
    return int(db.rows_affected(db.execute_sql(sql, _params(slots, args))))


# An INSERT's SQL depends only on the table and its columns, so it is written once from the model
# (peewee spends more building `Model.create` than the database takes to run it: issue 14); the
# values go through each field's own conversion, as peewee's would.
_inserts: dict[tuple[type, tuple[str, ...], type], tuple[str, list[Callable[[Any], Any]]]] = {}


def insert(model: type[peewee.Model], **values: Any) -> int:
    """Insert one row of `model` with these field values (every other column takes its
    database default); its new id."""
    kind = (model, tuple(values), type(db.obj))
    found = _inserts.get(kind)
    if found is None:
        fields = [model._meta.fields[name] for name in values]
        columns = ", ".join(_quoted(field.column_name) for field in fields)
        marks = ", ".join(db.param for _ in fields)
        sql = f"INSERT INTO {_quoted(model._meta.table_name)} ({columns}) VALUES ({marks})"
        if db.returning_clause:
            sql += f" RETURNING {_quoted(model._meta.primary_key.column_name)}"
        found = _inserts[kind] = (sql, [field.db_value for field in fields])
    sql, converts = found
    cursor = db.execute_sql(sql, [convert(value) for convert, value in zip(converts, values.values())])
    return int(cursor.fetchone()[0] if db.returning_clause else cursor.lastrowid)


def _quoted(name: str) -> str:
    opening, closing = db.quote  # the database's quote characters, as peewee keeps them
    return f"{opening}{name}{closing}"
