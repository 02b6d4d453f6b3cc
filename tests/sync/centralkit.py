"""A central PostgreSQL database for the hub, feed and security tests: migrated, with the demo
company, set up by ``central init`` with role names of its own; stations added with
``station add`` and pushing through their own login roles, as real stations do.

Fixtures (import them into a test module): ``central``.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url

from app.store.db import make_engine
from app.store.models import OpResult, OutboxOp
from app.sync import admin
from app.sync.admin import StationLogin
from app.sync.ops import Op

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


def station_db(c: Central, login: StationLogin, path: Path) -> Engine:
    """A station's SQLite database holding central's state (loaded through the feed's
    serialisers and loaders, as a bootstrap would) and the station's own identity."""
    from app.store.migrate import upgrade
    from app.sync import feed

    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    order_table = feed.ORDER
    with c.engine.connect() as src, engine.begin() as dst:
        for entity in (
            "company",
            "warehouse",
            "sales_channel",
            "location",
            "product",
            "barcode",
            "operator",
            "customer",
            "station",
            "stock_movement",
        ):
            table = feed.TABLES[entity]
            pk = next(iter(table.primary_key.columns))
            for key in src.scalars(select(pk)):
                feed.load(dst, entity, key, feed.serialise(src, entity, key))
        for oid in src.scalars(select(order_table.c.id)):
            feed.load(dst, "order", oid, feed.serialise(src, "order", oid))
        for tid in src.scalars(select(feed.TABLES["tote"].c.id)):
            feed.load(dst, "tote", tid, feed.serialise(src, "tote", tid))
    return engine


def copy_station(src: Path, dst: Path) -> None:
    shutil.copyfile(src, dst)


def inbox_total(c: Central) -> int:
    with c.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(text("inbox"))) or 0)
