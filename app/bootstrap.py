"""Builds what a station runs on: the engine, the schema at HEAD, the station's identity, and
units of work for each action. Nothing connects at import time.

Start-up stays on SQLAlchemy Core: the ORM and the mappings (about half a second to import
and configure) load with the first unit of work — for a station, on its database worker just
after the window is shown (:meth:`StationContext.warm_up`).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, Uuid, column, select, table
from sqlalchemy import String as SqlString

from app.config import StationConfig
from app.store.db import checkpoint, make_engine, session_factory
from app.store.migrate import upgrade_if_needed

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from app.services.views import OperatorView
    from app.store.uow import UnitOfWork

log = logging.getLogger(__name__)

# The station table as Core sees it: enough to find this station without the ORM.
_STATION = table("station", column("id", Uuid()), column("name", SqlString()))


@dataclass
class StationContext:
    """One station's handle on its local database; passed to whoever needs it.

    ``config`` may be replaced while the station runs (the printer set-up saves new
    printers); everything reads it when it needs it rather than keeping a copy.
    ``sessions`` is made on first use (it loads the ORM), from whichever thread asks first.
    """

    config: StationConfig  # .central set: the station syncs with a central database
    engine: Engine
    station_id: uuid.UUID
    station_name: str
    database_label: str
    _sessions: sessionmaker[Session] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def sessions(self) -> sessionmaker[Session]:
        with self._lock:
            if self._sessions is None:
                self._sessions = session_factory(self.engine)
            return self._sessions

    def warm_up(self) -> None:
        """Load the ORM and configure every mapping now, so the first scan does not pay for
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
        checkpoint(self.engine)

    def dispose(self) -> None:
        checkpoint(self.engine)
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
    engine = make_engine(url, autocheckpoint=False)
    if upgrade:
        upgrade_if_needed(engine)
    sessions = None
    station_id = _known_station(engine, config.station_name)
    if station_id is None:  # a new station: registered through the ORM, once
        sessions = session_factory(engine)
        station_id = _ensure_station(sessions, config)
    label = engine.url.render_as_string(hide_password=True)
    if engine.url.get_backend_name() == "sqlite":
        label = f"local {Path(engine.url.database or '').name}"
    return StationContext(
        config, engine, station_id, config.station_name, label, _sessions=sessions
    )


def _known_station(engine: Engine, name: str) -> uuid.UUID | None:
    """This station's id when it is registered already (one Core query, no ORM)."""
    with engine.connect() as conn:
        found: uuid.UUID | None = conn.scalar(select(_STATION.c.id).where(_STATION.c.name == name))
    return found


def _ensure_station(sessions: sessionmaker[Session], config: StationConfig) -> uuid.UUID:
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
