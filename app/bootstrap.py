"""Builds what a station runs on: the engine, the schema at HEAD, the station's identity, and
units of work for each action. Nothing connects at import time.

Start-up is quick when there is nothing to do: a local SQLite database already at HEAD, with
this station registered, is checked with two plain ``sqlite3`` queries, and SQLAlchemy — the
engine, the ORM and the mappings, about a second to import here — loads with the first use of
``engine``, ``sessions`` or a unit of work; for a station, on its database worker once the
window is shown (:meth:`StationContext.warm_up`). Anything else (a new or older database, a new
station, another database) goes through SQLAlchemy and Alembic at once, as before.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from app.config import StationConfig
from app.store.migrate import HEAD

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from app.services.views import OperatorView
    from app.store.uow import UnitOfWork

log = logging.getLogger(__name__)


@dataclass
class StationContext:
    """One station's handle on its local database; passed to whoever needs it.

    ``config`` may be replaced while the station runs (the printer set-up saves new
    printers); everything reads it when it needs it rather than keeping a copy.
    ``engine`` and ``sessions`` are made on first use (they load SQLAlchemy), from whichever
    thread asks first.
    """

    config: StationConfig  # .central set: the station syncs with a central database
    url: str
    station_id: uuid.UUID
    station_name: str
    database_label: str
    _engine: Engine | None = field(default=None, repr=False)
    _sessions: sessionmaker[Session] | None = field(default=None, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    @property
    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                from app.store.db import make_engine

                self._engine = make_engine(self.url, autocheckpoint=False)
            return self._engine

    @property
    def sessions(self) -> sessionmaker[Session]:
        with self._lock:
            if self._sessions is None:
                from app.store.db import session_factory

                self._sessions = session_factory(self.engine)
            return self._sessions

    def warm_up(self) -> None:
        """Load SQLAlchemy, the ORM and every mapping now, so the first scan does not pay for
        it (a station calls this on its database worker once its window is shown)."""
        from sqlalchemy.orm import configure_mappers

        import app.store.uow  # noqa: F401  # the mappings, and the unit of work over them

        configure_mappers()
        self.sessions  # noqa: B018  # made here, off the GUI thread

    def uow(self, operator: OperatorView | None = None) -> UnitOfWork:
        from app.store.uow import Actor, UnitOfWork

        actor = Actor(
            station_id=self.station_id,
            operator_id=operator.id if operator else None,
            operator_name=operator.name if operator else "",
            roles=operator.roles if operator else frozenset(),
        )
        return UnitOfWork(self.sessions, actor)

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the database file; call when the bench is idle."""
        from app.store.db import checkpoint

        checkpoint(self.engine)

    def dispose(self) -> None:
        with self._lock:
            if self._engine is None:
                return  # never opened through SQLAlchemy: nothing written, nothing to close
        self.checkpoint()
        self.engine.dispose()


def bootstrap(
    config: StationConfig,
    *,
    upgrade: bool = True,
    progress: Callable[[str, int], None] | None = None,
) -> StationContext:
    """Open the station's database (made and migrated if new). A station with a central
    database is loaded from it the first time (``progress(table, rows)`` while it loads)."""
    url = config.local_database_url()
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if config.central is not None:
        from app.sync.snapshot import ensure_loaded

        ensure_loaded(config, progress)
    quick = _known_and_current(url, config.station_name)
    if quick is not None:
        station_id, label = quick
        return StationContext(config, url, station_id, config.station_name, label)
    from app.store.db import make_engine, session_factory
    from app.store.migrate import upgrade_if_needed

    engine = make_engine(url, autocheckpoint=False)
    if upgrade:
        upgrade_if_needed(engine)
    sessions = session_factory(engine)
    station_id = _ensure_station(sessions, config)
    label = engine.url.render_as_string(hide_password=True)
    if engine.url.get_backend_name() == "sqlite":
        label = f"local {Path(engine.url.database or '').name}"
    return StationContext(
        config, url, station_id, config.station_name, label, _engine=engine, _sessions=sessions
    )


def _known_and_current(url: str, name: str) -> tuple[uuid.UUID, str] | None:
    """(this station's id, the database's label) when ``url`` is a local SQLite file already at
    HEAD with this station registered — read with plain sqlite3; None when SQLAlchemy has
    anything to do (make, upgrade, register) or the database is not such a file."""
    path = url.removeprefix("sqlite:///")
    if not url.startswith("sqlite:///") or "?" in path or path in ("", ":memory:"):
        return None
    if not Path(path).is_file():
        return None
    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        if revision != [(HEAD,)]:
            return None
        # SQLAlchemy's Uuid keeps an id in SQLite as its 32 hex digits (app/store/fastexec.py).
        found = conn.execute("SELECT id FROM station WHERE name = ?", (name,)).fetchall()
    except sqlite3.Error:
        return None  # no such table yet: a new database
    finally:
        conn.close()
    if len(found) != 1 or not isinstance(found[0][0], str):
        return None
    return uuid.UUID(hex=found[0][0]), f"local {Path(path).name}"


def _ensure_station(sessions: sessionmaker[Session], config: StationConfig) -> uuid.UUID:
    from sqlalchemy import select

    from app.store.models import Station, Warehouse

    with sessions.begin() as s:
        station = s.scalar(select(Station).where(Station.name == config.station_name))
        if station is None:
            wh = s.scalar(select(Warehouse.id).where(Warehouse.code == config.warehouse_code))
            station = Station(name=config.station_name, warehouse_id=wh, next_seq=1)
            s.add(station)
            s.flush()
            log.info("registered station %s", config.station_name)
        return station.id
