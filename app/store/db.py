"""Engines for the station's local SQLite database and for PostgreSQL.

SQLite runs in WAL mode with ``synchronous=FULL`` (a committed scan survives a power cut) and
takes its write lock at the start of a transaction (``BEGIN IMMEDIATE``) so two writers queue
instead of failing half-way. A transaction begun with the execution option :data:`READ_ONLY`
takes no write lock (``BEGIN``): it reads a snapshot and never waits for a writer, in this
process or another (the station's helper processes write the same file); a write in it fails.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

READ_ONLY = "waystation_read_only"


def make_engine(url: str, *, autocheckpoint: bool = True, **kwargs: Any) -> Engine:
    """An engine for ``url``. ``autocheckpoint=False`` (the station) leaves WAL checkpoints to
    :func:`checkpoint`, run when the bench is idle, so no scan's commit pays for one."""
    if url.startswith("sqlite"):
        engine = create_engine(url, **kwargs)
        _tune_sqlite(engine, autocheckpoint)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _tune_sqlite(engine: Engine, autocheckpoint: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        # Let SQLAlchemy's "begin" event below decide how a transaction starts.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA cache_size=-32000")
        if not autocheckpoint:
            cur.execute("PRAGMA wal_autocheckpoint=0")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        reading = bool(conn.get_execution_options().get(READ_ONLY, False))
        info = conn.info  # lives as long as the SQLite connection
        if info.get("query_only", False) != reading:
            conn.exec_driver_sql(f"PRAGMA query_only={int(reading)}")
            info["query_only"] = reading
        conn.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    from sqlalchemy.orm import sessionmaker  # the ORM loads with the first session, not here

    return sessionmaker(engine, expire_on_commit=False)


def checkpoint(engine: Engine) -> tuple[int, int] | None:
    """Copy committed WAL pages into the database file (SQLite only; never blocks writers).

    Returns (WAL pages, pages checkpointed), or None for other databases.
    """
    if engine.dialect.name != "sqlite":
        return None
    with engine.connect() as conn:
        raw: Any = conn.connection.driver_connection  # outside any transaction, on purpose
        _busy, log_pages, done = raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(log_pages), int(done)
