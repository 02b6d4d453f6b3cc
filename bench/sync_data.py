"""The central database the sync benchmarks run on: the demo company (its orders, bins,
operators) grown to the asked number of products with ``COPY FROM STDIN`` — products, their
barcodes (every 25th with a case GTIN, as the demo does) and an opening stock row each —
then ``central init`` and one login per station."""

from __future__ import annotations

import random
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import Engine, select, text

from app.ids import new_id
from app.scanning.gtin import gtin_check_digit
from app.services.demo import create_demo_data, gtin13
from app.store.db import make_engine
from app.store.migrate import upgrade
from app.store.models import Location
from app.sync import admin
from bench.sync_pg import BenchPostgres

DEMO_PRODUCTS = 5000
CHUNK = 50_000


def make_central(
    pg: BenchPostgres, name: str, products: int, orders: int = 2000
) -> tuple[str, Engine]:
    """A migrated, initialised central database with ``products`` products."""
    url = pg.create_database(name)
    engine = make_engine(url)
    upgrade(engine)
    start = time.perf_counter()
    create_demo_data(engine, products=min(products, DEMO_PRODUCTS), orders=orders, seed=1)
    if products > DEMO_PRODUCTS:
        _more_products(pg.conninfo(name), engine, DEMO_PRODUCTS, products)
    admin.central_init(engine)
    print(
        f"  central database: {products:,} products in {time.perf_counter() - start:.0f} s",
        file=sys.stderr,
    )
    return url, engine


def _tsv(values: list[object]) -> str:
    return "\t".join("\\N" if v is None else str(v) for v in values) + "\n"


def _more_products(conninfo: str, engine: Engine, first: int, total: int) -> None:
    import psycopg

    with engine.connect() as conn:
        bins = [b for (b,) in conn.execute(select(Location.id).order_by(Location.pick_seq))]
    rng = random.Random(2)
    now = datetime.now(UTC).isoformat()
    ids: list[uuid.UUID] = [new_id() for _ in range(first, total)]

    def products() -> Iterator[str]:
        for k, pid in enumerate(ids):
            i = first + k
            yield _tsv(
                [
                    pid,
                    f"NW-{i + 1:07d}",
                    f"Warehouse item {i + 1}",
                    "0" + gtin13(i),
                    rng.randint(40, 4000),
                    rng.randint(50, 600),
                    rng.randint(30, 400),
                    rng.randint(10, 300),
                    rng.randint(199, 24999),
                    "EUR",
                    "t" if i % 40 == 7 else "f",
                    "f",
                    "f",
                    bins[i % len(bins)],
                ]
            )

    def barcodes() -> Iterator[str]:
        for k, pid in enumerate(ids):
            i = first + k
            yield _tsv(["0" + gtin13(i), "product", pid, 1])
            if i % 25 == 3:
                body = "1" + gtin13(i)[:12]
                yield _tsv([body + str(gtin_check_digit(body)), "product", pid, 12])

    def opening() -> Iterator[str]:
        for k, pid in enumerate(ids):
            i = first + k
            yield _tsv(
                [
                    new_id(),
                    now,
                    pid,
                    bins[i % len(bins)],
                    rng.randint(0, 400),
                    "receipt",
                    "OPENING",
                    None,
                ]
            )

    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        for table, columns, rows in (
            (
                "product",
                "id, sku, name, gtin, weight_g, length_mm, width_mm, height_mm, "
                "price_minor, currency, track_lot, track_serial, track_expiry, home_location_id",
                products(),
            ),
            ("barcode", "code, kind, entity_id, units", barcodes()),
            (
                "stock_movement",
                "id, at, product_id, location_id, qty, reason, ref, station_id",
                opening(),
            ),
        ):
            with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                batch: list[str] = []
                for row in rows:
                    batch.append(row)
                    if len(batch) >= CHUNK:
                        copy.write("".join(batch))
                        batch = []
                copy.write("".join(batch))
        conn.commit()
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
