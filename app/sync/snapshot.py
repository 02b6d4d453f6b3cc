"""A new station's first download: the central state it mirrors, read in one REPEATABLE READ
transaction together with the feed position that state stands at, into a fresh SQLite file.

Each table is read with ``COPY (SELECT ...) TO STDOUT`` in binary, with the values already in
the form SQLite stores them (ids as 32 hex digits, UTC times as text, booleans as 0/1, JSON as
text), so no value is converted in Python; the rows go in with ``executemany``. Secondary
indexes are dropped before the load and built after it (one sort instead of a million random
inserts). The file is written under another name and renamed into place when complete, so a
station that stops half-way starts the download again from nothing.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
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

log = logging.getLogger(__name__)
Progress = Callable[[str, int], None]
CHUNK = 20_000
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
        with central.transaction():
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
                counts[name] = _copy(central, db, table, where.format(w=f"'{warehouse_id}'"))
                if progress:
                    progress(name, counts[name])
        for sql in indexes:
            db.execute(sql)
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
    log.info("station loaded from central in %.1f s at feed position %d: %s", took, cursor, counts)
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


def _drop_indexes(db: sqlite3.Connection) -> list[str]:
    """Drop the loaded tables' secondary indexes; return the statements that rebuild them."""
    names = ", ".join(f"'{n}'" for n in ROWS)
    found = db.execute(
        "SELECT name, sql FROM sqlite_master "
        f"WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({names})"
    ).fetchall()
    for name, _sql in found:
        db.execute(f'DROP INDEX "{name}"')
    return [sql for _name, sql in found]


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
        elif isinstance(kind, Uuid):
            exprs.append(f"replace({q}::text, '-', '')")
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


def _copy(
    central: psycopg.Connection[Any], db: sqlite3.Connection, table: Table, where: str
) -> int:
    columns, types = _select(table)
    query = f'SELECT {columns} FROM "{table.name}" t' + (f" WHERE {where}" if where else "")
    names = ", ".join(f'"{c.name}"' for c in table.columns)
    marks = ", ".join("?" for _ in table.columns)
    insert = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'
    n = 0
    with central.cursor() as cur, cur.copy(f"COPY ({query}) TO STDOUT (FORMAT BINARY)") as copy:
        copy.set_types(types)
        rows = copy.rows()
        while chunk := list(islice(rows, CHUNK)):
            db.executemany(insert, chunk)
            n += len(chunk)
    return n


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
