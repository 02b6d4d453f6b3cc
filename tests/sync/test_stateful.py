"""Hypothesis drives three stations and the central database through sales, picks, returns and
adjustments, pushes, pulls and hub rounds in any order, with the network between each station
and PostgreSQL cut (a TCP proxy refusing and dropping connections) or losing the answer to a
COMMIT after the server committed.

After every step: each station's ledger is central's ledger at the station's feed position
plus its own operations — nothing hidden, nothing lost. At the end, everyone back online and
synced: central's ledger is the opening stock plus everything anyone did, every station's
ledger equals central's, and replaying the operations in the order central applied them, the
ones that took a place below zero are exactly those with an oversell task, one each.

Each example gets a fresh copy of a central database with three stations already loaded (a
template database and template station files).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import Engine, select, text

from app.config import CentralConfig
from app.store.db import make_engine
from app.store.models import StockMovement
from app.sync import admin, client
from app.sync.admin import StationLogin
from app.sync.schema import SETTING
from tests.sync.harness.checks import assert_oversells_in
from tests.sync.harness.company import template
from tests.sync.harness.proxy import PgProxy
from tests.sync.harness.stockplay import Action, Ledger, intended, perform, read_ledger
from tests.sync.harness.world import create_database, drop_database

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

STATIONS = 3
PLACES = 4  # (product, bin) pairs the people work on, each with a little stock
EXAMPLES = int(os.environ.get("WAYSTATION_STATEFUL_EXAMPLES", "10"))
STEPS = int(os.environ.get("WAYSTATION_STATEFUL_STEPS", "30"))


@dataclass
class World:
    """The template every example copies: a central database and three loaded stations."""

    server: str
    name: str
    logins: list[StationLogin]
    files: list[Path]
    places: list[tuple[uuid.UUID, uuid.UUID]]
    totes: list[str]
    port: int


@pytest.fixture(scope="module")
def world(postgres_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from sqlalchemy.engine import make_url

    from app.ids import new_id
    from app.store.models import Product, Tote
    from app.sync.snapshot import download

    name = f"ws_stateful_{uuid.uuid4().hex[:8]}"
    url = create_database(postgres_server, name, template=template(postgres_server, 40, 4))
    port = int(make_url(postgres_server).port or 5432)
    engine = make_engine(url)
    admin.central_init(engine, prefix=name)
    with engine.begin() as conn:
        rows = conn.execute(
            select(Product.id, Product.home_location_id)
            .where(Product.home_location_id.is_not(None))
            .order_by(Product.sku)
            .limit(PLACES)
        ).all()
        places = [(p, loc) for p, loc in rows]
        totes = list(conn.scalars(select(Tote.code).order_by(Tote.code).limit(2)))
        # A little stock at each place (1 to 4 units), so sales soon run short.
        have = read_ledger_conn(conn)
        for i, place in enumerate(places):
            conn.execute(
                StockMovement.__table__.insert().values(
                    id=new_id(),
                    product_id=place[0],
                    location_id=place[1],
                    qty=(i + 1) - have[place],
                    reason="count",
                    ref="OPENING",
                )
            )
    folder = tmp_path_factory.mktemp("stateful")
    logins, files = [], []
    for i in range(STATIONS):
        login = admin.add_station(engine, f"ST{i}", "WH1", host="127.0.0.1", port=port)
        path = folder / f"st{i}.db"
        with client.connect(_direct(login, name, port), login.password) as central:
            download(central, path, station_name=login.station_name, warehouse_code="WH1")
        logins.append(login)
        files.append(path)
    engine.dispose()
    yield World(postgres_server, name, logins, files, places, totes, port)
    drop_database(postgres_server, name)
    admin_engine = make_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        for role in conn.scalars(
            text("SELECT rolname FROM pg_roles WHERE rolname LIKE :p ORDER BY oid DESC"),
            {"p": f"{name}\\_%"},
        ).all():
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
    admin_engine.dispose()


def read_ledger_conn(conn: Any) -> Ledger:
    from sqlalchemy import func

    q = select(
        StockMovement.product_id, StockMovement.location_id, func.sum(StockMovement.qty)
    ).group_by(StockMovement.product_id, StockMovement.location_id)
    return Ledger({(p, loc): int(n) for p, loc, n in conn.execute(q)})


def _direct(login: StationLogin, dbname: str, port: int) -> CentralConfig:
    return dataclasses.replace(login.central, dbname=dbname, port=port, sslmode="disable")


class Station:
    """One station of an example: its database, its proxy, its operations so far."""

    def __init__(self, world: World, i: int, dbname: str, folder: Path) -> None:
        from app.bootstrap import bootstrap
        from app.config import StationConfig
        from tests.sync.harness.stockplay import supervisor

        self.login = world.logins[i]
        path = folder / f"st{i}.db"
        shutil.copyfile(world.files[i], path)
        self.proxy = PgProxy(world.port, seed=i)
        self.proxy.start()
        self.central = dataclasses.replace(
            _direct(self.login, dbname, world.port), port=self.proxy.port
        )
        self.ctx = bootstrap(
            StationConfig(station_name=self.login.station_name, database_url=f"sqlite:///{path}"),
            upgrade=False,
        )
        self.who = supervisor(self.ctx)
        self.ident = client.identity(self.ctx.engine, self.login.station_name)
        self.ops: list[tuple[uuid.UUID, Action]] = []
        self.movements: set[uuid.UUID] = set()
        self.at_start = self.movement_ids()

    @property
    def online(self) -> bool:
        return not self.proxy.offline

    def movement_ids(self) -> set[uuid.UUID]:
        with self.ctx.engine.connect() as conn:
            return set(conn.scalars(select(StockMovement.id)))

    def cursor(self) -> int:
        with self.ctx.engine.connect() as conn:
            return int(conn.scalar(text("SELECT cursor FROM sync_state WHERE id = 1")) or 0)

    def sync(self, *, push: bool = True, pull: bool = True) -> None:
        with client.connect(self.central, self.login.password) as central:
            if push:
                client.push(self.ctx.engine, central)
            while pull and client.pull(self.ctx.engine, central, self.ident).more:
                pass

    def close(self) -> None:
        self.ctx.dispose()
        self.proxy.close()


class StockAcrossStations(RuleBasedStateMachine):
    world: World
    folder: Path

    def __init__(self) -> None:
        super().__init__()
        from app.sync.hub import Hub

        w = self.world
        self.dbname = f"{w.name}_{uuid.uuid4().hex[:6]}"
        self.url = create_database(w.server, self.dbname, template=w.name)
        self.central: Engine = make_engine(self.url)
        # A copy has the template's schema, grants and policies; the role prefix is a
        # database setting, which a copy does not take over.
        with self.central.begin() as conn:
            conn.execute(text(f"ALTER DATABASE \"{self.dbname}\" SET {SETTING} = '{w.name}'"))
        self.start = read_ledger(self.central)
        folder = self.folder / self.dbname
        folder.mkdir()
        self.stations = [Station(w, i, self.dbname, folder) for i in range(STATIONS)]
        self.hub = Hub(self.url, engine=self.central)

    # ------------------------------------------------------------------ people at stations

    @rule(
        s=st.integers(0, STATIONS - 1),
        actions=st.lists(
            st.tuples(
                st.sampled_from(["sale", "pick", "return", "adjust"]),
                st.integers(0, PLACES - 1),
                st.integers(-4, 4).filter(bool),
                st.booleans(),
            ),
            min_size=1,
            max_size=4,
        ),
    )
    def act(self, s: int, actions: list[tuple[str, int, int, bool]]) -> None:
        """People at station ``s`` sell, pick (into a tote or out), receive returns and adjust
        (a negative quantity counts only for adjustments)."""
        station = self.stations[s]
        for kind, place, qty, into_tote in actions:
            product, bin_ = self.world.places[place]
            tote = self.world.totes[0] if kind == "pick" and into_tote else None
            units = qty if kind == "adjust" else abs(qty)
            action = Action(kind, product, bin_, units, tote, ref=f"{kind}-{len(station.ops)}")
            change = perform(station.ctx, station.who, action)
            station.ops.append((change.op_id, action))
            station.movements |= {m.id for m in change.movements}

    # ------------------------------------------------------------------ the network

    @rule(s=st.integers(0, STATIONS - 1))
    def disconnect(self, s: int) -> None:
        proxy = self.stations[s].proxy
        proxy.offline = True
        proxy.drop_all()

    @rule(s=st.integers(0, STATIONS - 1))
    def reconnect(self, s: int) -> None:
        self.stations[s].proxy.calm()

    # ------------------------------------------------------------------ syncing

    @rule(s=st.integers(0, STATIONS - 1), push=st.booleans(), pull=st.booleans())
    def sync(self, s: int, push: bool, pull: bool) -> None:
        station = self.stations[s]
        try:
            station.sync(push=push, pull=pull)
        except psycopg.OperationalError:
            assert not station.online, "a sync failed with the network up"
            event("a sync failed: offline")

    @rule(s=st.integers(0, STATIONS - 1))
    def push_losing_the_commit_answer(self, s: int) -> None:
        """The push's COMMIT reaches the server; its answer never reaches the station."""
        station = self.stations[s]
        if not station.online:
            return
        station.proxy.commit_drop = 1.0
        try:
            station.sync(pull=False)
        except psycopg.OperationalError:
            event("a push lost its COMMIT answer")
        finally:
            station.proxy.commit_drop = 0.0

    @rule()
    def hub_round(self) -> None:
        self.hub.drain()

    # ------------------------------------------------------------------ what always holds

    @invariant()
    def station_view_is_central_at_cursor_plus_own_operations(self) -> None:
        """Pulls never hide or lose a station's own rows, and show exactly what the feed
        carried up to the station's position."""
        for station in self.stations:
            cursor = station.cursor()
            with self.central.connect() as conn:
                fed = set(
                    conn.scalars(
                        text(
                            "SELECT entity_id FROM change_log WHERE entity = 'stock_movement' "
                            "AND warehouse_id = :w AND pos <= :c"
                        ),
                        {"w": station.ident.warehouse_id, "c": cursor},
                    )
                )
            expected = station.at_start | fed | station.movements
            assert station.movement_ids() == expected, station.login.station_name

    def teardown(self) -> None:
        try:
            self._heal_and_check()
        finally:
            for station in self.stations:
                station.close()
            self.central.dispose()
            drop_database(self.world.server, self.dbname)

    def _heal_and_check(self) -> None:
        for station in self.stations:
            station.proxy.calm()
        for _ in range(2):  # push everything, apply it, pull every result and row
            for station in self.stations:
                station.sync()
            self.hub.drain()
        for station in self.stations:
            station.sync()
        everything = Ledger(self.start)
        for station in self.stations:
            for place, qty in intended([a for _, a in station.ops]).items():
                everything[place] += qty
        central = read_ledger(self.central)
        assert central.nonzero() == everything.nonzero()
        for station in self.stations:
            with station.ctx.engine.connect() as conn:
                pending = conn.scalar(text("SELECT count(*) FROM outbox WHERE status != 'done'"))
            assert pending == 0, station.login.station_name
            assert read_ledger(station.ctx.engine).nonzero() == central.nonzero()
        with self.central.connect() as conn:
            oversells = conn.scalar(text("SELECT count(*) FROM exception_task"))
        event(f"oversell tasks: {'none' if not oversells else 'some'}")
        assert_oversells_in(
            self.central,
            {s.login.station_name: s.ops for s in self.stations},
            self.start,
        )


def test_stock_across_three_stations(world: World, tmp_path: Path) -> None:
    StockAcrossStations.world = world
    StockAcrossStations.folder = tmp_path
    run_state_machine_as_test(
        StockAcrossStations,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            derandomize=bool(os.environ.get("CI")),
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
