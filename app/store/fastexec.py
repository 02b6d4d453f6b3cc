"""Running the scan path's statements with less overhead on the station's SQLite.

The statements stay SQLAlchemy Core statements (the mappings define them); on SQLite each is
compiled once and run straight on the sqlite3 connection of the current transaction, with the
same value conversions SQLAlchemy applies (UUID as 32 hex digits, UTC times as text, JSON as
text, booleans as 0/1). That takes a statement from ~70 µs of Python to ~6 µs, which is most of
a scan's budget. Any other database runs the statements through SQLAlchemy as usual.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, Connection, Enum, String, Table, Uuid, insert
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import Compiled
from sqlalchemy.types import TypeEngine

from app.store.types import UTCDateTime

if TYPE_CHECKING:
    from app.store.pipeline import Ahead

Params = Mapping[str, Any]
Row = tuple[Any, ...]
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"
_MAX_PREPARED = 256


def _bind_converter(type_: TypeEngine[Any]) -> Callable[[Any], Any] | None:
    if isinstance(type_, Uuid):
        return lambda v: v.hex if isinstance(v, uuid.UUID) else v
    if isinstance(type_, UTCDateTime):
        return lambda v: None if v is None else v.astimezone(UTC).strftime(_SQLITE_TIME)
    if isinstance(type_, JSON):
        return lambda v: None if v is None else json.dumps(v)
    if isinstance(type_, Boolean):
        return lambda v: None if v is None else int(v)
    return None


def _result_converter(type_: TypeEngine[Any]) -> Callable[[Any], Any] | None:
    if isinstance(type_, Uuid):
        return lambda v: None if v is None else uuid.UUID(hex=v)
    if isinstance(type_, UTCDateTime):
        return lambda v: None if v is None else datetime.fromisoformat(v).replace(tzinfo=UTC)
    if isinstance(type_, JSON):
        return lambda v: None if v is None else json.loads(v)
    if isinstance(type_, Boolean):
        return lambda v: None if v is None else bool(v)
    return None


class _Prepared:
    """One statement compiled for SQLite: its SQL, its binds in order, its converters."""

    def __init__(self, compiled: Compiled) -> None:
        self.sql = str(compiled)
        names: Sequence[str] = getattr(compiled, "positiontup", None) or ()
        binds = getattr(compiled, "binds", {})
        self.names = list(names)
        self.bind = [_bind_converter(binds[n].type) if n in binds else None for n in names]
        # Literals written into the statement (``qty > 0``) are anonymous binds with a value.
        self.defaults = {n: binds[n].effective_value for n in names if n in binds}
        stmt: Any = compiled.statement
        columns = getattr(stmt, "selected_columns", None)
        if columns is None:
            columns = getattr(stmt, "_returning", ()) or ()
        self.result = [_result_converter(c.type) for c in columns]

    def args(self, params: Params) -> list[Any]:
        out = []
        for name, convert in zip(self.names, self.bind, strict=True):
            value = params[name] if name in params else self.defaults[name]
            out.append(convert(value) if convert is not None else value)
        return out

    def row(self, raw: Row) -> Row:
        return tuple(
            convert(v) if convert is not None else v
            for v, convert in zip(raw, self.result, strict=False)
        )


# (statement id, parameter names) → the statement (kept alive) and its prepared form.
_PREPARED: dict[tuple[int, tuple[str, ...]], tuple[ClauseElement, _Prepared]] = {}


class FastExecutor:
    """Runs Core statements in ``conn``'s transaction; fast on SQLite, plain elsewhere."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._raw: Any = None
        if conn.dialect.name == "sqlite":
            self._raw = conn.connection.driver_connection

    def _prepare(self, stmt: ClauseElement, params: Params) -> _Prepared:
        keys = tuple(sorted(params))
        key = (id(stmt), keys)
        hit = _PREPARED.get(key)
        if hit is not None and hit[0] is stmt:
            return hit[1]
        compiled = stmt.compile(dialect=self.conn.dialect, column_keys=list(keys))
        prepared = _Prepared(compiled)
        if len(_PREPARED) > _MAX_PREPARED:  # statements are module constants; this is a guard
            _PREPARED.clear()
        # The statement is kept in the entry so its id cannot be reused by another object.
        _PREPARED[key] = (stmt, prepared)
        return prepared

    def rows(self, stmt: ClauseElement, params: Params) -> list[Row]:
        if self._raw is None:
            return [tuple(r) for r in self.conn.execute(stmt, dict(params))]  # type: ignore[call-overload]
        p = self._prepare(stmt, params)
        return [p.row(r) for r in self._raw.execute(p.sql, p.args(params)).fetchall()]

    def first(self, stmt: ClauseElement, params: Params) -> Row | None:
        rows = self.rows(stmt, params)
        return rows[0] if rows else None

    def scalar(self, stmt: ClauseElement, params: Params) -> Any:
        row = self.first(stmt, params)
        return None if row is None else row[0]

    def run(self, stmt: ClauseElement, params: Params) -> int:
        """Execute a statement with no rows back; return the number of rows an UPDATE or
        DELETE changed (drivers differ on what an INSERT reports)."""
        if self._raw is None:
            return int(self.conn.execute(stmt, dict(params)).rowcount)  # type: ignore[call-overload]
        p = self._prepare(stmt, params)
        return int(self._raw.execute(p.sql, p.args(params)).rowcount)


def bulk_insert(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    ahead: Ahead | None = None,
) -> None:
    """Insert many rows of one shape in the connection's transaction.

    On PostgreSQL it is one ``INSERT ... SELECT FROM unnest(...)`` with one binary array per
    column (one value for a column that has the same in every row): a single statement,
    whatever the number of rows. The hub's ledger, feed and result rows went in about twice as
    fast that way as with ``executemany`` (a pipelined statement per row, with the foreign
    keys checked per statement), and a text-format array of JSON documents costs more to send
    than the rows themselves, hence binary. COPY, faster still, is refused on the tables with
    row-level security the hub writes. Elsewhere, ``executemany``. With ``ahead`` the statement
    is sent without waiting for it (:mod:`app.store.pipeline`).
    """
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), list(rows))
        return
    names = tuple(rows[0])
    columns = _unnest_columns(conn, table, names)
    params: dict[str, Any] = {}
    same: list[bool] = []
    for i, (name, convert) in enumerate(zip(names, columns.convert, strict=True)):
        values = [r[name] for r in rows]
        if convert is not None:
            values = [convert(v) for v in values]
        # JSON is never sent once for all: equal dicts may still be written differently.
        once = convert is None and len(values) > 1 and values.count(values[0]) == len(values)
        same.append(once)
        params[f"c{i}"] = values[0] if once else values
    if all(same):
        same[0] = False
        params["c0"] = [params["c0"]] * len(rows)
    for i, fill in enumerate(columns.fill):
        params[f"d{i}"] = [fill() for _ in rows]
    if ahead is not None:
        ahead.send(columns.sql(tuple(same)), params)
    else:
        conn.exec_driver_sql(columns.sql(tuple(same)), params)


class _UnnestColumns:
    """The columns of an INSERT of ``names`` (and those with a Python default the rows leave
    out), with what turns each value into what the driver sends; :meth:`sql` writes the
    statement for the columns that have one value for all rows."""

    def __init__(self, conn: Connection, table: Table, names: tuple[str, ...]) -> None:
        dialect = conn.dialect
        self.given = [table.c[n] for n in names]
        defaults = [(c, _python_default(c)) for c in table.columns if c.name not in names]
        self.defaulted = [c for c, fill in defaults if fill is not None]
        self.convert = [_pg_converter(c, dialect) for c in self.given]
        self.fill = [fill for _c, fill in defaults if fill is not None]
        self.types = [_pg_type(c, dialect) for c in [*self.given, *self.defaulted]]
        # JSON goes as text (see _pg_converter), never as one value for all rows.
        self.arrays = [
            "text[]::jsonb[]" if isinstance(c.type, JSON) else f"{t}[]"
            for c, t in zip([*self.given, *self.defaulted], self.types, strict=True)
        ]
        preparer = dialect.identifier_preparer
        self.head = (
            f"INSERT INTO {preparer.format_table(table)} "
            f"({', '.join(preparer.quote(c.name) for c in [*self.given, *self.defaulted])}) "
        )
        self._sql: dict[tuple[bool, ...], str] = {}

    def sql(self, same: tuple[bool, ...]) -> str:
        text = self._sql.get(same)
        if text is None:
            names = [f"c{i}" for i in range(len(self.given))]
            names += [f"d{i}" for i in range(len(self.defaulted))]
            once = [*same, *(False for _ in self.defaulted)]
            arrays = [
                f"%({n})b::{t}" for n, t, o in zip(names, self.arrays, once, strict=True) if not o
            ]
            values = [
                f"%({n})b::{t}" if o else n for n, t, o in zip(names, self.types, once, strict=True)
            ]
            columns = ", ".join(n for n, o in zip(names, once, strict=True) if not o)
            text = self._sql[same] = (
                f"{self.head}SELECT {', '.join(values)} "
                f"FROM unnest({', '.join(arrays)}) AS t({columns})"
            )
        return text


_COLUMNS: dict[tuple[Table, tuple[str, ...]], _UnnestColumns] = {}


def _unnest_columns(conn: Connection, table: Table, names: tuple[str, ...]) -> _UnnestColumns:
    columns = _COLUMNS.get((table, names))
    if columns is None:
        columns = _COLUMNS[(table, names)] = _UnnestColumns(conn, table, names)
    return columns


def _python_default(column: Any) -> Callable[[], Any] | None:
    """A column default SQLAlchemy computes in Python for each row, as a function (one that
    reads SQLAlchemy's execution context gets None: there is none here). A server default, or
    none, is left to the database."""
    default = column.default
    if default is None or not (default.is_scalar or default.is_callable):
        return None
    if default.is_scalar:
        value = default.arg
        return lambda: value
    fn = default.arg  # SQLAlchemy's wrapper of the function, taking the execution context
    return lambda: fn(None)


def _pg_type(column: Any, dialect: Any) -> str:
    """The type a column's values are sent as. Text goes as ``text``: a cast to ``varchar(n)``
    would cut a long value short, where the INSERT itself refuses it."""
    if isinstance(column.type, String) and not isinstance(column.type, Enum):
        return "text"
    return str(column.type.compile(dialect=dialect))


def _pg_converter(column: Any, dialect: Any) -> Callable[[Any], Any] | None:
    """What SQLAlchemy's own bind processing does to a value of this column; JSON is written
    as text here (psycopg's per-value JSON dumper is the slow part of sending it)."""
    type_ = column.type
    if isinstance(type_, JSON):
        none_as_null = type_.none_as_null

        def to_json(value: Any) -> str | None:
            if value is None:
                return None if none_as_null else "null"
            return json.dumps(value)

        return to_json
    impl = type_.dialect_impl(dialect)
    convert: Callable[[Any], Any] | None = impl.bind_processor(dialect)
    return convert
