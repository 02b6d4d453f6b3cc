"""Opening a station's database at start: made and migrated when new, upgraded when behind, the
station registered once and found again; a station already registered on a current database
starts without loading SQLAlchemy (it loads with the first use of the engine)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import func, select

from app.bootstrap import bootstrap
from app.config import StationConfig
from app.store.db import make_engine
from app.store.migrate import HEAD, current_revision, upgrade
from app.store.models import Station

ROOT = Path(__file__).resolve().parents[2]


def config(db: Path, name: str = "PACK-07") -> StationConfig:
    return StationConfig(database_url=f"sqlite:///{db}", station_name=name)


def test_a_new_station_is_registered_once_and_found_again(tmp_path: Path) -> None:
    first = bootstrap(config(tmp_path / "station.db"))
    assert current_revision(first.engine) == HEAD
    station_id = first.station_id
    first.dispose()

    again = bootstrap(config(tmp_path / "station.db"))
    assert again.station_id == station_id
    assert again.database_label == "local station.db"
    with again.uow() as u:  # the ORM loads with the first unit of work
        rows = u.session.scalar(
            select(func.count()).select_from(Station).where(Station.name == "PACK-07")
        )
        assert rows == 1
        assert u.session.get(Station, station_id) is not None
    again.dispose()


def test_a_database_behind_head_is_upgraded_at_start(tmp_path: Path) -> None:
    db = tmp_path / "station.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine, "0008")
    engine.dispose()
    ctx = bootstrap(config(db))
    assert current_revision(ctx.engine) == HEAD
    ctx.dispose()


def test_a_known_station_on_a_current_database_starts_without_sqlalchemy(tmp_path: Path) -> None:
    db = tmp_path / "station.db"
    bootstrap(config(db)).dispose()  # made, migrated and registered
    script = textwrap.dedent(
        f"""
        import sys
        from app.bootstrap import bootstrap
        from app.config import StationConfig

        ctx = bootstrap(StationConfig(database_url="sqlite:///{db}", station_name="PACK-07"))
        print(sorted(m for m in ("sqlalchemy", "sqlalchemy.orm", "app.store.models", "alembic")
                     if m in sys.modules))
        ctx.warm_up()
        print(sorted(m for m in ("sqlalchemy.orm", "app.store.models") if m in sys.modules))
        ctx.dispose()
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == ["[]", "['app.store.models', 'sqlalchemy.orm']"]
