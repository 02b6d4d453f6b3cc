"""A central PostgreSQL database for the hub, feed and security tests: migrated, with the demo
company, set up by ``central init`` with role names of its own; stations added with
``station add`` and pushing through their own login roles, as real stations do.

Fixtures (import them into a test module): ``central``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url

from app.bootstrap import StationContext, bootstrap
from app.config import PrinterConfig, StationConfig
from app.services import auth, packages, packing
from app.services.views import OperatorView
from app.store.db import make_engine
from app.store.models import Barcode, OpResult, OrderLine, OutboxOp
from app.sync import admin
from app.sync.admin import StationLogin
from app.sync.ops import Op

ROOT = Path(__file__).resolve().parents[2]
_TEMPLATE: dict[str, str] = {}


def _admin_engine(server: str) -> Engine:
    return create_engine(server, isolation_level="AUTOCOMMIT")


def _template(server: str) -> str:
    """A migrated database with the demo company, made once per session (copied per test)."""
    if server in _TEMPLATE:
        return _TEMPLATE[server]
    from app.services.demo import create_demo_data
    from app.store.migrate import upgrade

    name = f"ws_central_tpl_{uuid.uuid4().hex[:8]}"
    eng = _admin_engine(server)
    with eng.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    eng.dispose()
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    create_demo_data(engine, products=120, orders=40, seed=11)
    engine.dispose()
    _TEMPLATE[server] = name
    return name


@dataclass
class Central:
    server: str  # the cluster's admin URL
    name: str  # this test's database
    url: str  # admin URL of this database
    engine: Engine
    stations: dict[str, StationLogin] = field(default_factory=dict)
    hubs: list[Any] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return self.name

    def add_station(self, name: str, warehouse: str = "WH1") -> StationLogin:
        login = admin.add_station(self.engine, name, warehouse)
        self.stations[name] = login
        return login

    def url_as(self, login: StationLogin) -> str:
        return (
            make_url(self.url)
            .set(username=login.role, password=login.password)
            .render_as_string(hide_password=False)
        )

    def connect_as(self, login: StationLogin) -> Any:
        """A raw psycopg connection with the station's own credentials."""
        import psycopg

        c = login.central
        return psycopg.connect(
            host=c.host, port=c.port, dbname=c.dbname, user=login.role, password=login.password
        )

    def push(self, login: StationLogin, ops: Iterable[Op]) -> int:
        """Insert operations into the inbox as the station does (never sending its id)."""
        from psycopg.types.json import Jsonb

        rows = [op.inbox_row() for op in ops]
        if not rows:
            return 0
        with self.connect_as(login) as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO inbox (op_id, seq, kind, payload, entity, entity_id, created_at) "
                "VALUES (%(op_id)s, %(seq)s, %(kind)s, %(payload)s, %(entity)s, %(entity_id)s, "
                "%(created_at)s) ON CONFLICT DO NOTHING",
                [{**r, "payload": Jsonb(r["payload"])} for r in rows],
            )
        return len(rows)

    def push_outbox(self, login: StationLogin, local: Engine) -> list[Op]:
        with local.connect() as conn:
            rows = conn.execute(
                select(OutboxOp).where(OutboxOp.status != "done").order_by(OutboxOp.seq)
            ).all()
        ops = [Op.from_row(r) for r in rows]
        self.push(login, ops)
        return ops

    def results(self, station_id: uuid.UUID | None = None) -> list[Any]:
        with self.engine.connect() as conn:
            q = select(OpResult).order_by(OpResult.station_id, OpResult.seq)
            if station_id is not None:
                q = q.where(OpResult.station_id == station_id)
            return list(conn.execute(q).all())

    def count(self, table: str) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(text(f"SELECT count(*) FROM {table}")) or 0)

    def hub(self, **kwargs: Any) -> Any:
        """A hub on this database, closed with the fixture (or by ``with``)."""
        from app.sync.hub import Hub

        hub = Hub(self.url, **kwargs)
        self.hubs.append(hub)
        return hub


@contextmanager
def running(*hubs: Any) -> Iterator[list[BaseException]]:
    """Hubs running in threads for the block; yields the errors they raised (asserted empty
    by the caller), stops and joins them after."""
    import threading

    errors: list[BaseException] = []

    def run(hub: Any) -> None:
        try:
            hub.run()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=run, args=(h,)) for h in hubs]
    for t in threads:
        t.start()
    try:
        yield errors
    finally:
        for h in hubs:
            h.stop()
        for t in threads:
            t.join(timeout=30)


def wait_for_results(c: Central, total: int, timeout: float = 120) -> None:
    import time

    deadline = time.monotonic() + timeout
    while c.count("op_result") < total:
        assert time.monotonic() < deadline, f"only {c.count('op_result')} of {total} applied"
        time.sleep(0.1)


def make_op(
    station_id: uuid.UUID,
    seq: int,
    kind: str,
    payload: dict[str, Any],
    entity: str = "order",
    entity_id: uuid.UUID | None = None,
) -> Op:
    from app.clock import utcnow
    from app.ids import new_id

    return Op(new_id(), station_id, seq, kind, payload, entity, entity_id, utcnow())


@pytest.fixture
def central(postgres_server: str) -> Iterator[Central]:
    template = _template(postgres_server)
    name = f"wsc_{uuid.uuid4().hex[:10]}"
    eng = _admin_engine(postgres_server)
    with eng.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    admin.central_init(engine, prefix=name)
    c = Central(postgres_server, name, url, engine)
    try:
        yield c
    finally:
        for hub in c.hubs:
            hub.close()
        engine.dispose()
        with eng.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            roles = conn.scalars(
                text("SELECT rolname FROM pg_roles WHERE rolname LIKE :p ORDER BY oid DESC"),
                {"p": f"{name}\\_%"},
            ).all()
            for role in roles:
                conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        eng.dispose()


def _migrated_sqlite(path: Path) -> Engine:
    """A migrated, empty station database (the migration runs once per session)."""
    import shutil
    import tempfile

    from app.store.migrate import upgrade

    if "sqlite" not in _TEMPLATE:
        blank = Path(tempfile.mkdtemp(prefix="ws-blank-")) / "blank.db"
        engine = make_engine(f"sqlite:///{blank}")
        upgrade(engine)
        engine.dispose()
        _TEMPLATE["sqlite"] = str(blank)
    shutil.copyfile(_TEMPLATE["sqlite"], path)
    return make_engine(f"sqlite:///{path}")


def station_db(c: Central, login: StationLogin, path: Path) -> Engine:
    """A station's SQLite database holding central's state, each row carried through the
    feed's codec as a bootstrap would, and the station's own identity."""
    from app.sync import feed

    engine = _migrated_sqlite(path)
    with c.engine.connect() as src, engine.begin() as dst:
        for entity in feed.LOAD_ORDER:
            if entity in ("order", "tote", "exception_task"):
                continue  # aggregates and rows that point at orders: below
            table = feed.TABLES[entity]
            rows = [feed.decode(table, feed.encode(table, r)) for r in src.execute(select(table))]
            if rows:
                dst.execute(table.insert(), rows)
        for oid in src.scalars(select(feed.ORDER.c.id)):
            feed.load(dst, "order", oid, feed.serialise(src, "order", oid))
        for tid in src.scalars(select(feed.TABLES["tote"].c.id)):
            feed.load(dst, "tote", tid, feed.serialise(src, "tote", tid))
    return engine


def station_ctx(c: Central, name: str, tmp_path: Path) -> StationContext:
    login = c.stations.get(name) or c.add_station(name)
    path = tmp_path / f"{name}.db"
    station_db(c, login, path).dispose()
    config = StationConfig(
        database_url=f"sqlite:///{path}",
        station_name=name,
        sounds=False,
        printers={"packing_slip": PrinterConfig(kind="folder", folder=str(tmp_path / name))},
    )
    ctx = bootstrap(config)
    assert ctx.station_id == login.station_id, "the station runs under its central identity"
    return ctx


def sign_in(ctx: StationContext, badge: str = "OP-1001") -> OperatorView:
    with ctx.uow() as uow:
        return auth.sign_in_badge(uow, badge)


def unit_codes(ctx: StationContext, order_id: uuid.UUID) -> list[str]:
    """One unit barcode per unit still to pack, line by line."""
    with ctx.sessions() as s:
        lines = s.scalars(select(OrderLine).where(OrderLine.order_id == order_id)).all()
        codes = []
        for ln in sorted(lines, key=lambda x: x.line_no):
            code = s.scalar(
                select(Barcode.code).where(Barcode.entity_id == ln.product_id, Barcode.units == 1)
            )
            codes += [str(code)] * (ln.qty_ordered - ln.qty_packed)
        return codes


def pack_whole_order(ctx: StationContext, who: OperatorView, number: str) -> uuid.UUID:
    with ctx.uow(who) as uow:
        order_id = packing.open_order(uow, number).id
    for code in unit_codes(ctx, order_id):
        with ctx.uow(who) as uow:
            packing.scan_item(uow, packing.ItemScan(order_id, code))
    with ctx.uow(who) as uow:
        packages.close_package(uow, order_id, 1, 1250, packages.BOX_TYPES[0])
    with ctx.uow(who) as uow:
        packing.complete_order(uow, order_id)
    return order_id
