"""Builds what a station runs on: the engine, the schema at HEAD, the station's identity, and
units of work for each action. Nothing connects at import time."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from app.config import StationConfig
from app.services.views import OperatorView
from app.store.db import checkpoint, make_engine, session_factory
from app.store.migrate import upgrade_if_needed
from app.store.models import Station, Warehouse
from app.store.uow import Actor, UnitOfWork

log = logging.getLogger(__name__)


@dataclass
class StationContext:
    """One station's handle on its local database; passed to whoever needs it.

    ``config`` may be replaced while the station runs (the printer set-up saves new
    printers); everything reads it when it needs it rather than keeping a copy.
    """

    config: StationConfig  # .central set: the station syncs with a central database
    engine: Engine
    sessions: sessionmaker[Session]
    station_id: uuid.UUID
    station_name: str
    database_label: str

    def uow(self, operator: OperatorView | None = None) -> UnitOfWork:
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
    sessions = session_factory(engine)
    station_id = _ensure_station(sessions, config)
    label = engine.url.render_as_string(hide_password=True)
    if engine.url.get_backend_name() == "sqlite":
        label = f"local {Path(engine.url.database or '').name}"
    return StationContext(config, engine, sessions, station_id, config.station_name, label)


def _ensure_station(sessions: sessionmaker[Session], config: StationConfig) -> uuid.UUID:
    with sessions.begin() as s:
        station = s.scalar(select(Station).where(Station.name == config.station_name))
        if station is None:
            wh = s.scalar(select(Warehouse.id).where(Warehouse.code == config.warehouse_code))
            station = Station(name=config.station_name, warehouse_id=wh, next_seq=1)
            s.add(station)
            s.flush()
            log.info("registered station %s", config.station_name)
        return station.id
