"""Fixtures every tier shares: station databases on SQLite, and a real PostgreSQL.

PostgreSQL comes from DATABASE_URL when it is set (scripts/test.sh starts a throwaway server),
otherwise a session fixture starts one with scripts/services/postgres.sh.
"""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from app.bootstrap import StationContext
    from app.services.views import OperatorView

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    import shutil
    import tempfile

    # Not under pytest's private tmp folder: the postgres system user must reach it.
    services = Path(tempfile.mkdtemp(prefix="waystation-pg-"))
    os.chmod(services, 0o755)
    script = ROOT / "scripts/services/postgres.sh"
    # A free port of its own: two test runs on one machine must not share (or stop) a server.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "WAYSTATION_PG_PORT": str(port)}
    out = subprocess.run(
        ["bash", str(script), "start", str(services)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    url = next(
        line.split("=", 1)[1] for line in out.splitlines() if line.startswith("DATABASE_URL=")
    )
    try:
        yield url
    finally:
        subprocess.run(["bash", str(script), "stop", str(services)], check=False)
        shutil.rmtree(services, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"ws_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'station.db'}"


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated station database with a small demo company, made once and copied per test."""
    from app.services.demo import create_demo_data
    from app.store.db import make_engine
    from app.store.migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "demo.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    create_demo_data(engine, products=300, orders=60, seed=7)
    engine.dispose()  # the last connection to close checkpoints the WAL into the file
    return path


@pytest.fixture
def station(tmp_path: Path, demo_template: Path) -> Iterator[StationContext]:
    """A station on its own copy of the demo database; slips go to tmp_path/printed."""
    import shutil

    from app.bootstrap import bootstrap
    from app.config import PrinterConfig, StationConfig

    db = tmp_path / "station.db"
    shutil.copyfile(demo_template, db)
    config = StationConfig(
        database_url=f"sqlite:///{db}",
        sounds=False,
        printers={"packing_slip": PrinterConfig(kind="folder", folder=str(tmp_path / "printed"))},
    )
    ctx = bootstrap(config)
    yield ctx
    ctx.dispose()


@pytest.fixture
def packer(station: StationContext) -> OperatorView:
    from app.services import auth

    with station.uow() as uow:
        return auth.sign_in_badge(uow, "OP-1001")


def find_order(ctx: StationContext, *, lines: int, units: int) -> str:
    """The number of a confirmed demo order with that many lines and units."""
    from sqlalchemy import select

    from app.store.models import Order

    with ctx.sessions() as s:
        for order in s.scalars(select(Order).where(Order.status == "confirmed")):
            if (
                len(order.lines) == lines
                and sum(ln.qty_ordered for ln in order.lines) == units
                and not any(ln.product.track_lot for ln in order.lines)
            ):
                return order.number
    raise LookupError(f"no demo order with {lines} lines and {units} units")
