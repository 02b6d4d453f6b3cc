"""A new station's first download: the central state it mirrors, read in one REPEATABLE READ
transaction together with the feed position that state stands at, into a fresh SQLite file.

Each table is read with ``COPY (SELECT ...) TO STDOUT`` in text, with the values already in the
form SQLite stores them (ids as 32 hex digits, UTC times as text, booleans as 0/1, JSON as
text). No value becomes a Python object: each chunk of rows is rewritten into one JSON array
with a few C-level replaces over the whole chunk, and SQLite takes the chunk apart itself in one
``INSERT ... SELECT ... FROM json_each(?)`` (the columns' affinity turns the integers' text into
integers, as it did Python's ints). That statement runs on a writer thread, which lets the
interpreter go while SQLite works, so on two cores the next chunk is read while this one goes
in. Secondary indexes are dropped before the load and each table's are built as soon as its rows
are in (one sort instead of a million random inserts), while the next tables are read. The
file is written under another name and renamed into place when complete, so a station that
stops half-way starts the download again from nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import re
import select
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, Boolean, Integer, Table
from sqlalchemy.types import JSON, Uuid

from app.config import StationConfig
from app.domain.errors import ConfigError, SyncError
from app.store.models import Base
from app.store.types import UTCDateTime

if TYPE_CHECKING:
    import psycopg
    from psycopg.pq.abc import PGconn

log = logging.getLogger(__name__)
Progress = Callable[[str, int], None]
CHUNK = 20_000
QUEUED = 3  # chunks read ahead of the writer
CACHE_KIB = 262_144  # SQLite page cache while loading: index pages stay in memory

# (table, which rows this warehouse's stations hold) — the same split as the feed makes
# (app/sync/feed.py: warehouses_of). {w} is the warehouse id.
_IN_WAREHOUSE = "t.warehouse_id = {w}"
_ORDERS_HERE = "t.order_id IN (SELECT id FROM sales_order WHERE warehouse_id = {w})"
ROWS: dict[str, str] = {
    "company": "",
    "warehouse": "",
    "sales_channel": "",
    "location": _IN_WAREHOUSE,
    "product": "",
    "barcode": "",
    "operator": "",
    "customer": "",
    "station": "t.warehouse_id = {w} OR t.warehouse_id IS NULL",
    "sales_order": _IN_WAREHOUSE,
    "order_line": _ORDERS_HERE,
    "package": _ORDERS_HERE,
    "package_item": (
        "t.package_id IN (SELECT p.id FROM package p JOIN sales_order o ON o.id = p.order_id "
        "WHERE o.warehouse_id = {w})"
    ),
    "packed_unit": _ORDERS_HERE,
    "tote": "",
    "stock_movement": (
        "t.location_id IS NULL "
        "OR t.location_id IN (SELECT id FROM location WHERE warehouse_id = {w})"
    ),
    "exception_task": "t.warehouse_id = {w} OR t.warehouse_id IS NULL",
    "store_credit_entry": "",
    "pick_list": _IN_WAREHOUSE,
    "allocation": "t.pick_list_id IN (SELECT id FROM pick_list WHERE warehouse_id = {w})",
    "return_policy": "",
    "rma": _IN_WAREHOUSE,
    "rma_line": _IN_WAREHOUSE,
    "return_unit": _IN_WAREHOUSE,
    "return_refund": _IN_WAREHOUSE,
}
# The station's own counters are its alone; a new station starts them at 1, one loaded again
# goes on after what central holds of it.
_LOCAL_COUNTERS = frozenset({"next_seq", "next_sscc", "next_receipt"})


@dataclass(frozen=True, slots=True)
class Snapshot:
    station_id: uuid.UUID
    warehouse_id: uuid.UUID
    cursor: int  # the feed position the snapshot stands at
    rows: dict[str, int]
    seconds: float


def download(
    central: psycopg.Connection[Any],
    dest: Path,
    *,
    station_name: str,
    warehouse_code: str,
    progress: Progress | None = None,
) -> Snapshot:
    """Write ``dest`` (which must not exist) from the central database; return what it holds."""
    start = time.perf_counter()
    if dest.exists():
        raise FileExistsError(dest)
    tmp = dest.with_name(dest.name + ".loading")
    _remove(tmp)
    _create_schema(tmp)
    db = sqlite3.connect(tmp, isolation_level=None, check_same_thread=False)
    try:
        for pragma in (
            "journal_mode=OFF",
            "synchronous=OFF",
            "foreign_keys=OFF",
            f"cache_size=-{CACHE_KIB}",
            "temp_store=MEMORY",
        ):
            db.execute(f"PRAGMA {pragma}")
        indexes = _drop_indexes(db)
        db.execute("BEGIN")
        counts: dict[str, int] = {}
        writer = _Writer(db)
        with writer, central.transaction():
            central.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            station_id, warehouse_id = _whoami(central, station_name, warehouse_code)
            row = central.execute(
                'SELECT "next" FROM feed_head WHERE warehouse_id = %s', (warehouse_id,)
            ).fetchone()
            cursor = int(row[0]) - 1 if row else 0
            last = central.execute(
                "SELECT coalesce(max(seq), 0) FROM op_result WHERE station_id = %s",
                (station_id,),
            ).fetchone()
            receipts = central.execute(
                "SELECT coalesce(max(substring(number from '([0-9]+)$')::bigint), 0) "
                "FROM counter_sale WHERE station_id = %s AND number IS NOT NULL",
                (station_id,),
            ).fetchone()
            for name, where in ROWS.items():
                table = Base.metadata.tables[name]
                counts[name] = _copy(central, writer, table, where.format(w=f"'{warehouse_id}'"))
                for sql in indexes.get(name, ()):
                    writer.put(sql)  # built while the next tables are read
                if progress:
                    progress(name, counts[name])
        loaded = time.perf_counter()
        # Operations and receipts this station made before (a station loaded again) keep their
        # numbers; its SSCC counter is found from the packages it holds at its first SSCC.
        db.execute(
            "UPDATE station SET next_seq = ?, next_sscc = 0, next_receipt = ? WHERE id = ?",
            (
                int(last[0] if last else 0) + 1,
                int(receipts[0] if receipts else 0) + 1,
                station_id.hex,
            ),
        )
        db.execute("COMMIT")
        db.execute("PRAGMA journal_mode=WAL")
    finally:
        db.close()
    _finish(tmp, dest, cursor)
    took = time.perf_counter() - start
    log.info(
        "station loaded from central in %.1f s (rows and indexes %.1f s, made durable %.1f s) "
        "at feed position %d: %s",
        took,
        loaded - start,
        took - (loaded - start),
        cursor,
        counts,
    )
    return Snapshot(station_id, warehouse_id, cursor, counts, took)


def local_path(config: StationConfig) -> Path:
    url = config.local_database_url()
    if not url.startswith("sqlite:///"):
        raise ConfigError(
            f"A station that syncs with a central database keeps its own data in SQLite, not in "
            f"{url.split(':', 1)[0]} — remove database_url from [station] or point it at a "
            "sqlite:/// file."
        )
    return Path(url.removeprefix("sqlite:///"))


def is_loaded(path: Path) -> bool:
    """True when the station's database was loaded from central (it has its sync state)."""
    if not path.exists():
        return False
    db = sqlite3.connect(path)
    try:
        if not db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sync_state'"
        ).fetchone():
            return False
        found = db.execute("SELECT 1 FROM sync_state WHERE bootstrapped_at IS NOT NULL")
        return found.fetchone() is not None
    finally:
        db.close()


def ensure_loaded(config: StationConfig, progress: Progress | None = None) -> Snapshot | None:
    """Load the station from central unless it already was. A standalone database found in its
    place is kept under another name (refused when it holds operations not yet sent)."""
    assert config.central is not None
    path = local_path(config)
    if is_loaded(path):
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        _set_aside(path)
    from app.sync.client import connect

    try:
        with connect(config.central) as central:
            return download(
                central,
                path,
                station_name=config.station_name,
                warehouse_code=config.central.warehouse,
                progress=progress,
            )
    except OSError as e:  # psycopg's errors are not OSError; a full disk is
        raise SyncError(
            f"The station's data could not be written to {path} ({e}). Free some disk space "
            "and start the station again."
        ) from e
    except Exception as e:
        import psycopg

        if not isinstance(e, psycopg.Error):
            raise
        raise SyncError(
            f"This station has not loaded its data from the central database "
            f"{config.central.describe()} yet, and the central database answered: "
            f"{_first_line(e)}. Check the network and the [central] settings, then start the "
            "station again."
        ) from e


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0].rstrip(".")


def _set_aside(path: Path) -> None:
    db = sqlite3.connect(path)
    try:
        has_outbox = db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outbox'"
        ).fetchone()
        unsent = (
            db.execute("SELECT count(*) FROM outbox WHERE status != 'done'").fetchone()[0]
            if has_outbox
            else 0
        )
    finally:
        db.close()
    if unsent:
        raise ConfigError(
            f"{path} holds {unsent} operation(s) made while the station ran standalone, and a "
            "central database is now configured. Those operations cannot be sent to it — "
            "remove [central] to keep working standalone, or move the file away to start this "
            "station from the central data."
        )
    aside = path.with_name(f"{path.name}.standalone-{time.strftime('%Y%m%d-%H%M%S')}")
    for suffix in ("", "-wal", "-shm"):
        src = Path(f"{path}{suffix}")
        if src.exists():
            os.replace(src, Path(f"{aside}{suffix}"))
    log.warning("a standalone database was kept as %s; loading this station from central", aside)


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _create_schema(path: Path) -> None:
    from app.store.db import make_engine
    from app.store.migrate import upgrade

    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def _drop_indexes(db: sqlite3.Connection) -> dict[str, list[str]]:
    """Drop the loaded tables' secondary indexes; return the statements that rebuild them, by
    table."""
    names = ", ".join(f"'{n}'" for n in ROWS)
    found = db.execute(
        "SELECT tbl_name, name, sql FROM sqlite_master "
        f"WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({names})"
    ).fetchall()
    rebuild: dict[str, list[str]] = {}
    for table, name, sql in found:
        db.execute(f'DROP INDEX "{name}"')
        rebuild.setdefault(table, []).append(sql)
    return rebuild


def _whoami(
    central: psycopg.Connection[Any], station_name: str, warehouse_code: str
) -> tuple[uuid.UUID, uuid.UUID]:
    """The station's id and warehouse: from its login role's account, or (a login that is not a
    station's, such as the database owner) from the station's name."""
    has_accounts = central.execute(
        "SELECT to_regprocedure('ws_session_station()') IS NOT NULL"
    ).fetchone()
    row = None
    if has_accounts and has_accounts[0]:
        row = central.execute(
            "SELECT s.id, s.name, w.id, w.code FROM station s "
            "LEFT JOIN warehouse w ON w.id = s.warehouse_id WHERE s.id = ws_session_station()"
        ).fetchone()
        if row is not None and row[1] != station_name:
            raise ConfigError(
                f"The central database knows this login as station {row[1]}, but the settings "
                f'name it {station_name} — set station_name = "{row[1]}" in [station].'
            )
    if row is None:
        row = central.execute(
            "SELECT s.id, s.name, w.id, w.code FROM station s "
            "LEFT JOIN warehouse w ON w.id = s.warehouse_id WHERE s.name = %s",
            (station_name,),
        ).fetchone()
    if row is None:
        raise ConfigError(
            f"The central database has no station {station_name} — add it with "
            f"`waystation-admin station add {station_name} --warehouse {warehouse_code}` "
            "and use the settings it prints."
        )
    if row[3] != warehouse_code:
        raise ConfigError(
            f"Station {station_name} belongs to warehouse {row[3] or '(none)'} centrally, but "
            f'the settings say {warehouse_code} — set warehouse = "{row[3]}" in [central].'
        )
    return row[0], row[2]


def _select(table: Table) -> tuple[str, list[str]]:
    """The SELECT list giving each column as SQLite stores it, and the COPY types."""
    exprs: list[str] = []
    types: list[str] = []
    for col in table.columns:
        q = f't."{col.name}"'
        kind = col.type
        if table.name == "station" and col.name in _LOCAL_COUNTERS:
            exprs.append("1::int8")
            types.append("int8")
        elif isinstance(kind, Uuid):  # a quarter of the server's time less than replace(::text)
            exprs.append(f"encode(uuid_send({q}), 'hex')")
            types.append("text")
        elif isinstance(kind, UTCDateTime):
            exprs.append(f"to_char({q} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')")
            types.append("text")
        elif isinstance(kind, Boolean):
            exprs.append(f"{q}::int4")
            types.append("int4")
        elif isinstance(kind, JSON):
            exprs.append(f"{q}::text")
            types.append("text")
        elif isinstance(kind, BigInteger):
            exprs.append(f"{q}::int8")
            types.append("int8")
        elif isinstance(kind, Integer):
            exprs.append(f"{q}::int4")
            types.append("int4")
        else:
            exprs.append(f"{q}::text")
            types.append("text")
    return ", ".join(exprs), types


def _copy(central: psycopg.Connection[Any], writer: _Writer, table: Table, where: str) -> int:
    """Hand one table's rows to the writer, CHUNK rows at a time, as JSON text.

    The rows are read straight from libpq: psycopg's ``Copy`` spends about 1.5 µs of Python on
    each row (a generator and a wait per row), as much as rewriting them costs."""
    from psycopg.pq import ExecStatus

    columns, _types = _select(table)
    query = f'SELECT {columns} FROM "{table.name}" t' + (f" WHERE {where}" if where else "")
    names = ", ".join(f'"{c.name}"' for c in table.columns)
    # MATERIALIZED: each row's array is parsed once, not once per column; a path given as text
    # (not as the number i) is not formatted again for every value.
    values = ", ".join(f"v ->> '$[{i}]'" for i in range(len(table.columns)))
    insert = (
        "WITH r(v) AS MATERIALIZED (SELECT value FROM json_each(?)) "
        f'INSERT INTO "{table.name}" ({names}) SELECT {values} FROM r'
    )
    pgconn = central.pgconn
    pgconn.send_query(f"COPY ({query}) TO STDOUT".encode())
    while pgconn.flush():
        select.select([], [pgconn.socket], [])
    _result(central, ExecStatus.COPY_OUT)
    n = 0
    parts: list[Any] = []
    get = pgconn.get_copy_data
    try:
        while True:
            size, line = get(1)
            if size > 0:
                parts.append(line)
                if len(parts) == CHUNK:
                    writer.put(insert, _json_rows(b"".join(parts)))
                    n += CHUNK
                    parts.clear()
            elif size == 0:
                _wait(pgconn)
            else:
                break
    except BaseException:
        _abandon(central)
        raise
    _result(central, ExecStatus.COMMAND_OK)
    if parts:
        writer.put(insert, _json_rows(b"".join(parts)))
        n += len(parts)
    return n


def _wait(pgconn: PGconn) -> None:
    select.select([pgconn.socket], [], [])
    pgconn.consume_input()


def _result(central: psycopg.Connection[Any], status: int) -> None:
    """Read a statement's results; raise the server's error unless the first has ``status``."""
    from psycopg import OperationalError
    from psycopg.errors import error_from_result
    from psycopg.pq import ExecStatus

    pgconn = central.pgconn
    results = []
    while True:
        while pgconn.is_busy():
            _wait(pgconn)
        if (res := pgconn.get_result()) is None:
            break
        results.append(res)
        if res.status == ExecStatus.COPY_OUT:
            break  # no end of results until the copy is read
    if not results or results[0].status != status:
        if results:
            raise error_from_result(results[0], encoding=central.info.encoding)
        raise OperationalError(f"central gave no result ({pgconn.get_error_message()})")


def _abandon(central: psycopg.Connection[Any]) -> None:
    """Stop a copy half-way (the writer failed, or this thread was interrupted) and read what
    is left of it, so that the transaction can be rolled back on this connection."""
    pgconn = central.pgconn
    with contextlib.suppress(Exception):
        central.cancel_safe(timeout=5)
    with contextlib.suppress(Exception):
        while (size := pgconn.get_copy_data(1)[0]) >= 0:
            if size == 0:
                _wait(pgconn)
        while True:
            while pgconn.is_busy():
                _wait(pgconn)
            if pgconn.get_result() is None:
                break


# COPY's text format escapes a backslash, tab, newline, carriage return, backspace, form feed and
# vertical tab in a value as \\, \t, \n, \r, \b, \f and \v, and writes NULL as \N; every other
# character comes as it is. All of those escapes but \v mean the same in JSON.
_CONTROL = bytes(range(0x09)) + bytes(range(0x0B, 0x20))
_CONTROL_RE = re.compile(b"[%s]" % re.escape(_CONTROL))
_PAIR = re.compile(rb"\\[\\v]")


def _json_rows(data: bytes) -> str:
    """COPY text rows (each ending in a newline) as a JSON array of arrays of strings and nulls.

    Only escapes are rewritten, with C-level replaces over the whole chunk: a tab (between
    values) becomes ``","``, a newline (between rows) ``"],["``, a double quote ``\\"``, a
    vertical tab and any raw control character ``\\u00XX``, and a value that is exactly ``\\N``
    (no value's text can be: its backslash would come doubled) ``null``."""
    if len(data.translate(None, _CONTROL)) != len(data):  # a C pass; a regex search is 15x slower
        data = _CONTROL_RE.sub(lambda m: b"\\u%04x" % m[0][0], data)
    if b"\\v" in data:  # pairs, so that an escaped backslash before a v stays one
        data = _PAIR.sub(lambda m: b"\\u000b" if m[0] == b"\\v" else m[0], data)
    data = data.replace(b'"', b'\\"').replace(b"\t", b'","').replace(b"\n", b'"],["')
    return ('[["' + data[:-3].decode() + "]").replace('"\\N"', "null")


class _Writer:
    """The station's file is written on a thread of its own: SQLite lets the interpreter go for
    a whole chunk (one statement), so on two cores the rows of the next chunk are read and
    rewritten while this one goes in. ``with writer:`` waits for every chunk on a normal exit,
    and on an error stops the thread without writing the rest."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._chunks: queue.Queue[tuple[str, tuple[str, ...]] | None] = queue.Queue(maxsize=QUEUED)
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="snapshot-writer", daemon=True)

    def __enter__(self) -> _Writer:
        self._thread.start()
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self._stop.set()
        self._put(None)
        self._thread.join()
        if exc_type is None and self._error is not None:
            raise self._error

    def put(self, sql: str, *params: str) -> None:
        """Run ``sql`` on the writer's thread, after what was put before."""
        if not self._put((sql, params)) or self._error is not None:
            assert self._error is not None
            raise self._error

    def _put(self, item: tuple[str, tuple[str, ...]] | None) -> bool:
        """Queue ``item``; False when the thread has ended (after an error)."""
        while self._thread.is_alive():
            try:
                self._chunks.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            while (item := self._chunks.get()) is not None:
                if not self._stop.is_set():
                    self._db.execute(*item)
        except BaseException as e:  # handed to the reader, which raises it
            self._error = e


def _finish(tmp: Path, dest: Path, cursor: int) -> None:
    """Record the sync state, make the file durable and put it in place."""
    from app.store.db import make_engine
    from app.sync.client import insert_state

    engine = make_engine(f"sqlite:///{tmp}")
    try:
        with engine.begin() as conn:
            insert_state(conn, cursor)
    finally:
        engine.dispose()  # the last connection checkpoints the log into the file
    for suffix in ("-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, dest)
    dir_fd = os.open(dest.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
