"""Sync figures (DESIGN §10), on a throwaway PostgreSQL with fsync on:

- a new station's first download from a central database of 1,000,000 products (≤ 30 s), beside
  its floor: the same ``COPY ... TO STDOUT`` read into bare SQLite tables with ``executemany``;
- push and apply of 10,000 operations a shop counter queued offline (≤ 3 s), with the hub in a
  process of its own as a company runs it (applying while the station still pushes), beside
  the same push then apply one after the other (the split: push alone, hub alone) and its
  floor: the same operations and ledger rows put into PostgreSQL with plain batched INSERTs;
- the hub's operations per second (alone);
- p99 time for a change made at one station to be in another's database with 20 stations
  online (≤ 500 ms) — :mod:`bench.sync_latency`.

``python -m bench.sync [--products N]`` runs them alone.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.figures import Figure
from bench.sync_data import make_central
from bench.sync_pg import BenchPostgres

ROOT = Path(__file__).resolve().parents[1]
QUEUED_OPS = 10_000
FLOOR_BATCH = 500


def _station(central_url: str, name: str, folder: Path) -> Any:
    """A station login on the central database and the station's settings."""
    from sqlalchemy.engine import make_url

    from app.config import CentralConfig, StationConfig
    from app.store.db import make_engine
    from app.sync import admin

    engine = make_engine(central_url)
    try:
        login = admin.add_station(engine, name, "WH1")
    finally:
        engine.dispose()
    url = make_url(central_url)
    central = CentralConfig(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        dbname=url.database or "",
        user=login.role,
        warehouse="WH1",
    )
    return StationConfig(
        station_name=name,
        database_url=f"sqlite:///{folder / f'{name}.db'}",
        sounds=False,
        central=central,
    )


# ----------------------------------------------------------------------------- first download


def bootstrap_figures(pg: BenchPostgres, products: int) -> list[Figure]:
    from app.sync import client, snapshot

    url, engine = make_central(pg, "central_big", products)
    engine.dispose()
    with tempfile.TemporaryDirectory(dir=ROOT / ".bench-cache") as d:
        config = _station(url, "BENCH-NEW", Path(d))
        assert config.central is not None
        with client.connect(config.central) as conn:
            t0 = time.perf_counter()
            snap = snapshot.download(
                conn, Path(d) / "BENCH-NEW.db", station_name="BENCH-NEW", warehouse_code="WH1"
            )
            took = time.perf_counter() - t0
        if snap.rows["product"] != products:
            raise RuntimeError(f"the station got {snap.rows['product']:,} of {products:,} products")
        floor = _download_floor(pg.conninfo("central_big"), Path(d) / "floor.db", snap.warehouse_id)
    rows = sum(snap.rows.values())
    return [
        Figure(
            f"station first download, {products:,} products",
            took,
            "s",
            30,
            note=f"{rows:,} rows in {len(snap.rows)} tables, REPEATABLE READ, COPY text as JSON",
        ),
        Figure("floor: the same COPY TO STDOUT + executemany, bare tables", floor, "s"),
        Figure("download floor / download", floor / took, "×", 0.5, higher_is_better=True),
    ]


def _download_floor(conninfo: str, path: Path, warehouse_id: Any) -> float:
    """The same rows, the same way, into tables with no index or constraint: what the disk,
    PostgreSQL, psycopg and sqlite3 cost with none of the station's work in the way."""
    import psycopg

    from app.store.models import Base
    from app.sync.snapshot import ROWS, _select

    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    t0 = time.perf_counter()
    with psycopg.connect(conninfo) as conn:
        db.execute("BEGIN")
        for name, where in ROWS.items():
            table = Base.metadata.tables[name]
            columns, types = _select(table)
            cols = ", ".join(f"c{i}" for i in range(len(types)))
            db.execute(f"CREATE TABLE {name} ({cols})")
            insert = f"INSERT INTO {name} VALUES ({', '.join('?' for _ in types)})"
            where = where.format(w=f"'{warehouse_id}'")
            query = f'SELECT {columns} FROM "{name}" t' + (f" WHERE {where}" if where else "")
            with conn.cursor() as cur, cur.copy(f"COPY ({query}) TO STDOUT (FORMAT BINARY)") as cp:
                cp.set_types(types)
                db.executemany(insert, cp.rows())
        db.execute("COMMIT")
    took = time.perf_counter() - t0
    db.close()
    return took


# ----------------------------------------------------------------------------- push and apply


def queue_sales(config: Any, n: int, seed: int = 4) -> Any:
    """A counter station that sold ``n`` times while offline (each sale one operation)."""
    from sqlalchemy import select

    from app.bootstrap import bootstrap
    from app.services import auth, stock
    from app.store.models import Product

    ctx = bootstrap(config)
    with ctx.uow() as uow:
        seller = auth.sign_in_badge(uow, "OP-1004")
    with ctx.engine.connect() as conn:
        products = list(
            conn.scalars(
                select(Product.id).where(Product.home_location_id.is_not(None)).limit(2000)
            )
        )
    rng = random.Random(seed)
    for _ in range(n):
        lines = [stock.Line(rng.choice(products), rng.randint(1, 3))]
        with ctx.uow(seller) as uow:
            stock.record_sale(uow, lines)
    return ctx


def push_apply_figures(pg: BenchPostgres, url: str, folder: Path) -> list[Figure]:
    """The same 10,000 queued sales pushed twice, to two copies of one central database: once
    as a company runs it (the hub its own process, applying while the station still pushes),
    once push first and then the hub, one after the other in this process (the split)."""
    config = _station(url, "COUNTER-1", folder)
    print(f"  queueing {QUEUED_OPS:,} counter sales offline...", file=sys.stderr)
    queue_sales(config, QUEUED_OPS).dispose()
    serial_url, serial_config = _copy(pg, config, folder / "serial")
    live = push_beside_hub(url, config, folder)
    split = push_then_drain(serial_url, serial_config)
    floor = _push_floor(pg.conninfo("central_small"), config)
    took = live.until_applied
    return [
        Figure(
            f"push + apply of {QUEUED_OPS:,} queued offline operations",
            took,
            "s",
            3,
            note=(
                "counter sales; the hub its own process (woken by NOTIFY inbox), from the "
                f"push's start until every result is stored centrally; the push took "
                f"{live.pushed:.2f} s of it"
            ),
        ),
        Figure(
            "push, then apply (one after the other, hub in-process)",
            split.until_applied,
            "s",
            note=(
                f"the same operations: push alone {split.pushed:.2f} s, "
                f"hub alone {split.until_applied - split.pushed:.2f} s"
            ),
        ),
        Figure("floor: the same rows, plain batched INSERTs into PostgreSQL", floor, "s"),
        Figure("push+apply floor / push+apply", floor / took, "×", higher_is_better=True),
        Figure(
            "hub operations per second (counter sales, hub alone)",
            QUEUED_OPS / (split.until_applied - split.pushed),
            "ops/s",
        ),
    ]


@dataclass(frozen=True, slots=True)
class Timed:
    pushed: float  # the push's start → its last batch is in the inbox
    until_applied: float  # the push's start → every operation has its result stored centrally


def _copy(pg: BenchPostgres, config: Any, folder: Path) -> tuple[str, Any]:
    """A second central database made from the first (CREATE DATABASE ... TEMPLATE) and a copy
    of the station's database that goes with it: the same operations, queued once."""
    from dataclasses import replace

    folder.mkdir()
    source = Path(config.database_url.removeprefix("sqlite:///"))
    target = folder / source.name
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    name = f"{config.central.dbname}_copy"
    import psycopg

    with psycopg.connect(pg.conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{config.central.dbname}"')
    copy = replace(
        config,
        database_url=f"sqlite:///{target}",
        central=replace(config.central, dbname=name),
    )
    return pg.url(name), copy


def push_beside_hub(url: str, config: Any, folder: Path) -> Timed:
    """Push with the hub running as its own process, as ``waystation-admin hub`` runs: the
    clock runs from the push's start until every pushed operation has its result stored
    centrally (seen by another session, after the hub's commit)."""
    import psycopg

    from app.bootstrap import bootstrap
    from app.sync import client
    from app.sync.feed import feed_channel
    from bench.sync_pg import hub_process

    ctx = bootstrap(config)
    who = client.identity(ctx.engine, config.station_name)
    watch = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
    try:
        with hub_process(url, folder / "push-hub.log"):
            watch.execute(f"LISTEN {feed_channel(who.warehouse_id)}")  # each commit of the hub

            def results() -> int:
                row = watch.execute(
                    "SELECT count(*) FROM op_result WHERE station_id = %s", (who.station_id,)
                ).fetchone()
                return int(row[0]) if row else 0

            with client.connect(config.central) as conn:
                t0 = time.perf_counter()
                sent = client.push(ctx.engine, conn)
                pushed = time.perf_counter() - t0
                deadline = t0 + 120
                while (done := results()) < sent and time.perf_counter() < deadline:
                    for _n in watch.notifies(timeout=0.2, stop_after=1):
                        pass
                took = time.perf_counter() - t0
    finally:
        watch.close()
        ctx.dispose()
    if (sent, done) != (QUEUED_OPS, QUEUED_OPS):
        raise RuntimeError(f"pushed {sent:,} and applied {done:,} of {QUEUED_OPS:,}")
    return Timed(pushed, took)


def push_then_drain(url: str, config: Any) -> Timed:
    """Push, then one in-process hub drain, one after the other: the split of the work."""
    from app.bootstrap import bootstrap
    from app.sync import client
    from app.sync.hub import Hub

    ctx = bootstrap(config)
    hub = Hub(url)
    try:
        hub.drain()  # nothing waits yet: connections and statements are warm
        with client.connect(config.central) as conn:
            t0 = time.perf_counter()
            sent = client.push(ctx.engine, conn)
            pushed = time.perf_counter() - t0
            applied = hub.drain()
            took = time.perf_counter() - t0
    finally:
        hub.close()
        ctx.dispose()
    if (sent, applied) != (QUEUED_OPS, QUEUED_OPS):
        raise RuntimeError(f"pushed {sent:,} and applied {applied:,} of {QUEUED_OPS:,}")
    return Timed(pushed, took)


def _push_floor(conninfo: str, config: Any) -> float:
    """The operations (as inbox rows) and their ledger rows, INSERTed in batches of 500, one
    transaction per batch, into plain tables with a primary key and nothing else."""
    import psycopg
    from psycopg.types.json import Jsonb
    from sqlalchemy import select

    from app.store.db import make_engine
    from app.store.models import OutboxOp

    local = make_engine(config.database_url)
    with local.connect() as conn:
        ops = conn.execute(
            select(
                OutboxOp.op_id, OutboxOp.seq, OutboxOp.kind, OutboxOp.payload, OutboxOp.created_at
            ).order_by(OutboxOp.seq)
        ).all()
    local.dispose()
    with psycopg.connect(conninfo) as conn:
        conn.execute(
            "CREATE TABLE floor_ops (op_id uuid PRIMARY KEY, seq bigint, kind text, "
            "payload jsonb, created_at timestamptz)"
        )
        conn.execute(
            "CREATE TABLE floor_ledger (id uuid PRIMARY KEY, product_id uuid, location_id uuid, "
            "qty int, reason text, ref text)"
        )
        conn.commit()
        t0 = time.perf_counter()
        for start in range(0, len(ops), FLOOR_BATCH):
            batch = ops[start : start + FLOOR_BATCH]
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO floor_ops VALUES (%s, %s, %s, %s, %s)",
                    [(o.op_id, o.seq, o.kind, Jsonb(o.payload), o.created_at) for o in batch],
                )
                cur.executemany(
                    "INSERT INTO floor_ledger VALUES (%s, %s, %s, %s, %s, %s)",
                    [
                        (
                            m["id"],
                            m["product_id"],
                            m["location_id"],
                            m["qty"],
                            m["reason"],
                            m["ref"],
                        )
                        for o in batch
                        for m in o.payload["movements"]
                    ],
                )
            conn.commit()
        return time.perf_counter() - t0


# ----------------------------------------------------------------------------- all


def run(products: int = 1_000_000) -> list[Figure]:
    from bench.sync_latency import latency_figures

    (ROOT / ".bench-cache").mkdir(exist_ok=True)
    figures: list[Figure] = []
    with BenchPostgres() as pg:
        settings = pg.settings()
        shown = ", ".join(f"{k}={v}" for k, v in settings.items())
        print(f"sync benchmarks: PostgreSQL {shown}", file=sys.stderr)
        figures += bootstrap_figures(pg, products)
        url, engine = make_central(pg, "central_small", 5000, orders=500)
        engine.dispose()
        with tempfile.TemporaryDirectory(dir=ROOT / ".bench-cache") as d:
            figures += push_apply_figures(pg, url, Path(d))
            figures += latency_figures(url, Path(d))
    note = (
        f"PostgreSQL {settings['server_version'].split()[0]}: fsync={settings['fsync']}, "
        f"synchronous_commit={settings['synchronous_commit']}, "
        f"wal_sync_method={settings['wal_sync_method']}"
    )
    figures.append(Figure("sync benchmarks ran on", 0, "", note=note))
    return figures


def main(argv: list[str] | None = None) -> int:
    from bench.__main__ import table

    p = argparse.ArgumentParser(prog="python -m bench.sync", description=__doc__)
    p.add_argument("--products", type=int, default=1_000_000)
    args = p.parse_args(argv)
    print(table(run(args.products)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
