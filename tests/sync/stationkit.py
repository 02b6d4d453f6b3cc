"""Stations on a test's central database, as a company runs them: added with ``station add``,
loaded from central with their own login, pushing and pulling through it.

Used with ``tests.sync.centralkit.central`` (import both into a test module); the
``hub_running`` fixture runs a hub on it for the test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from app.bootstrap import StationContext, bootstrap
from app.config import PrinterConfig, StationConfig
from app.services import auth
from app.services.views import OperatorView
from app.store.models import Barcode, OrderLine
from app.sync import client
from app.sync.admin import StationLogin
from tests.sync.centralkit import Central, running


@dataclass
class Bench:
    """One station: its context (local database), its central login, and a connection."""

    ctx: StationContext
    login: StationLogin
    conn: Any  # psycopg.Connection as the station's own role

    @property
    def who(self) -> client.Identity:
        return client.identity(self.ctx.engine, self.ctx.station_name)

    def push(self) -> int:
        return client.push(self.ctx.engine, self.conn)

    def pull(self) -> client.Pulled:
        return client.pull(self.ctx.engine, self.conn, self.who)

    def sync(self) -> client.Pulled:
        self.push()
        while True:
            pulled = self.pull()
            if not pulled.more:
                return pulled

    def sign_in(self, badge: str = "OP-1001") -> OperatorView:
        with self.ctx.uow() as uow:
            return auth.sign_in_badge(uow, badge)

    def close(self) -> None:
        self.conn.close()
        self.ctx.dispose()


def station_config(c: Central, login: StationLogin, folder: Path) -> StationConfig:
    return StationConfig(
        database_url=f"sqlite:///{folder / f'{login.station_name}.db'}",
        station_name=login.station_name,
        warehouse_code=login.warehouse_code,
        sounds=False,
        printers={
            "packing_slip": PrinterConfig(
                kind="folder", folder=str(folder / f"{login.station_name}-printed")
            )
        },
        central=login.central,
        print_process=False,  # as in tests/ui/counter_station.py
    )


def add_bench(c: Central, name: str, folder: Path, warehouse: str = "WH1") -> Bench:
    """A new station, loaded from central through its own login (the test cluster trusts
    local logins, so no keyring is needed)."""
    login = c.stations.get(name) or c.add_station(name, warehouse)
    ctx = bootstrap(station_config(c, login, folder))
    assert ctx.station_id == login.station_id
    return Bench(ctx, login, client.connect(login.central, login.password))


def load_again(c: Central, b: Bench, folder: Path) -> Bench:
    """Everything ``b`` did reaches central; then its disk is replaced and it is loaded again
    from central under the same name."""
    b.push()
    c.hub().drain()
    b.sync()
    database = Path(b.ctx.config.database_url.removeprefix("sqlite:///"))
    b.close()
    for leftover in database.parent.glob(database.name + "*"):
        leftover.unlink()
    return add_bench(c, b.ctx.config.station_name, folder)


def unit_codes(ctx: StationContext, order_id: uuid.UUID) -> list[str]:
    """One single-unit barcode per unit still to pack, line by line."""
    with ctx.sessions() as s:
        lines = s.scalars(select(OrderLine).where(OrderLine.order_id == order_id)).all()
        codes: list[str] = []
        for ln in sorted(lines, key=lambda x: x.line_no):
            code = s.scalar(
                select(Barcode.code).where(Barcode.entity_id == ln.product_id, Barcode.units == 1)
            )
            codes += [str(code)] * (ln.qty_ordered - ln.qty_packed - ln.qty_missing)
        return codes


def confirmed_orders(ctx: StationContext, n: int) -> list[str]:
    """Numbers of ``n`` confirmed orders without lot-tracked items."""
    with ctx.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT o.number FROM sales_order o WHERE o.status = 'confirmed' AND NOT EXISTS "
                "(SELECT 1 FROM order_line l JOIN product p ON p.id = l.product_id "
                " WHERE l.order_id = o.id AND (p.track_lot OR p.track_serial OR p.track_expiry))"
                " ORDER BY o.number LIMIT :n"
            ),
            {"n": n},
        ).all()
    assert len(rows) == n, f"the demo company has fewer than {n} plain confirmed orders"
    return [r[0] for r in rows]


@pytest.fixture
def hub_running(central: Central) -> Iterator[None]:
    """A hub applying the test's central inbox in a thread (woken by NOTIFY, polling 0.5 s)."""
    with running(central.hub(poll_interval=0.5)) as errors:
        yield
    assert not errors, errors
