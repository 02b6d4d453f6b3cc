"""Building a small company for the sync tests: a central database and stations around it.

In-process helpers (no hub, no station process) for tests of one piece:
:func:`migrated_engine`, :func:`copy_rows` (a station's database filled from central's rows,
the way a bootstrap would), :func:`station_on` and :func:`apply_outbox` (a station's pending
operations applied centrally with the registered appliers, as the hub does one by one).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.store.db import make_engine, session_factory
from app.store.migrate import upgrade
from app.store.models import Base, OutboxOp, Station, Warehouse


def reference() -> tuple[str, ...]:
    """The tables a station holds of central's data: what its first download copies."""
    from app.sync.snapshot import ROWS

    return tuple(ROWS)


def create_database(server_url: str, name: str, template: str | None = None) -> str:
    """A new database on the server at ``server_url`` (optionally a copy of ``template``,
    which no one may be connected to); returns its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        copy = f' TEMPLATE "{template}"' if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def migrated_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    upgrade(engine)
    return engine


def copy_rows(src: Engine, dst: Engine, tables: Iterable[str] | None = None) -> None:
    """Copy every row of ``tables`` (parents first) from ``src`` into ``dst``."""
    wanted = set(reference() if tables is None else tables)
    with src.connect() as read, dst.begin() as write:
        for table in Base.metadata.sorted_tables:
            if table.name not in wanted:
                continue
            result = read.execute(select(table)).mappings()
            while chunk := result.fetchmany(5000):
                write.execute(table.insert(), [dict(r) for r in chunk])


def station_on(central: Engine, path: Path, name: str) -> uuid.UUID:
    """A station database at ``path`` with central's reference rows and a station ``name``
    in central's first warehouse, registered at both ends; returns its id."""
    local = migrated_engine(f"sqlite:///{path}")
    with central.begin() as conn:
        wh = conn.scalar(select(Warehouse.id).order_by(Warehouse.code).limit(1))
        station_id = uuid.uuid4()
        conn.execute(Station.__table__.insert().values(id=station_id, name=name, warehouse_id=wh))
    copy_rows(central, local)
    local.dispose()
    return station_id


def pending_ops(local: Engine) -> list[OutboxOp]:
    with session_factory(local)() as s:
        return list(
            s.scalars(select(OutboxOp).where(OutboxOp.status == "pending").order_by(OutboxOp.seq))
        )


def apply_outbox(central: Engine, local: Engine, station_id: uuid.UUID) -> list[str]:
    """Apply the station's pending operations centrally, each in a savepoint as the hub does;
    mark them done locally. Returns each one's result ("applied" or the rejection's words)."""
    from app.domain.errors import WaystationError
    from app.sync.appliers import ApplyContext, apply
    from app.sync.ops import Op

    results: list[str] = []
    ops = pending_ops(local)
    with Session(central) as s, s.begin():
        wh = s.scalar(select(Station.warehouse_id).where(Station.id == station_id))
        for row in ops:
            op = Op.from_row(row)
            try:
                with s.begin_nested():
                    apply(ApplyContext(s, op, station_id, wh), op)
                results.append("applied")
            except WaystationError as e:
                results.append(e.message)
    with local.begin() as conn:
        conn.execute(
            OutboxOp.__table__.update()
            .where(OutboxOp.op_id.in_([o.op_id for o in ops]))
            .values(status="done")
        )
    return results
