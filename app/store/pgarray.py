"""Lists sent to PostgreSQL as binary arrays, for statements that take many ids at once.

psycopg sends a plain list as a text array, quoting each element (about 7 µs an id); a
:class:`BinaryArray` goes in binary once :func:`register` has run (the hub calls it), which is
a few times faster. Without it a :class:`BinaryArray` is still a list and goes as text: slower,
never wrong. psycopg is imported only when this is used, so the station's start pays nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import ColumnElement, Connection, Executable, any_, bindparam
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.types import UserDefinedType

_registered = False


class BinaryArray(list[Any]):
    """A list psycopg sends as a binary array (after :func:`register`)."""


def register() -> None:
    """Make connections opened from now on send :class:`BinaryArray` in binary."""
    global _registered
    if _registered:
        return
    import psycopg
    from psycopg.types.array import ListBinaryDumper

    psycopg.adapters.register_dumper(BinaryArray, ListBinaryDumper)
    _registered = True


def binary_array(values: Iterable[Any]) -> BinaryArray:
    return BinaryArray(values)


class UuidArray(UserDefinedType[list[Any]]):
    """A ``uuid[]`` parameter (``column == any_(bindparam("ids", type_=UuidArray()))``): one
    parameter however many ids, so the statement's text, and its plan, stay the same."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "UUID[]"

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        return binary_array


Condition = Callable[[Any], ColumnElement[bool]]


class ByIds:
    """A statement over a list of ids (the parameter ``ids``), built twice: with
    ``column = ANY(:ids)`` (one array parameter) for PostgreSQL, with an expanding
    ``column IN (...)`` for SQLite, which has no arrays. ``build`` gets the condition to use."""

    def __init__(self, build: Callable[[Condition], Executable]) -> None:
        self.postgres = build(lambda column: column == any_(bindparam("ids", type_=UuidArray())))
        self.other = build(lambda column: column.in_(bindparam("ids", expanding=True)))

    def on(self, conn: Connection) -> Executable:
        return self.postgres if conn.dialect.name == "postgresql" else self.other


def ids_in(conn: Connection, column: Any, ids: Iterable[Any]) -> ColumnElement[bool]:
    """``column`` is one of ``ids``, as :class:`ByIds` writes it for ``conn``'s database."""
    condition: ColumnElement[bool]
    if conn.dialect.name == "postgresql":
        param = bindparam("ids", binary_array(ids), type_=UuidArray(), unique=True)
        condition = column == any_(param)
    else:
        condition = column.in_(list(ids))
    return condition
