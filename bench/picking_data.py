"""The picking benchmarks' station database: the demo company with 200,000 products, each
held in five places (its home bin and four more, lot-tracked items in lots with expiry dates):
1,000,000 stock rows; and 10,000 open orders. Built once into .bench-cache/ (keyed by schema
revision and size) and copied fresh for each run."""

from __future__ import annotations

import random
import shutil
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from app.ids import new_id
from app.services.demo import create_demo_data
from app.store.db import make_engine
from app.store.migrate import HEAD, upgrade
from app.store.models import Location, Product, StockMovement
from bench.data import CACHE

PRODUCTS = 200_000
PLACES = 5  # stock rows per product
ORDERS = 10_000


def template(products: int = PRODUCTS, orders: int = ORDERS) -> Path:
    path = CACHE / f"picking-{HEAD}-{products}-{orders}.db"
    if path.exists():
        return path
    CACHE.mkdir(exist_ok=True)
    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    start = time.perf_counter()
    print(
        f"building the picking database ({products:,} products × {PLACES} places, "
        f"{orders:,} orders)...",
        file=sys.stderr,
    )
    engine = make_engine(f"sqlite:///{tmp}")
    upgrade(engine)
    create_demo_data(engine, products=products, orders=orders, seed=3)
    _more_places(engine)
    engine.dispose()
    tmp.rename(path)
    print(f"  built in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return path


def _more_places(engine: Any) -> None:
    """Four more places per product; lot-tracked items get a lot and an expiry in each."""
    rng = random.Random(5)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        bins = list(conn.scalars(select(Location.id)))
        rows = conn.execute(select(Product.id, Product.track_lot)).all()
        batch: list[dict[str, Any]] = []
        for pid, tracked in rows:
            for k in range(PLACES - 1):
                expiry = date(2027, 1, 1) + timedelta(days=rng.randint(0, 700)) if tracked else None
                batch.append(
                    {
                        "id": new_id(),
                        "at": now - timedelta(days=20),
                        "product_id": pid,
                        "location_id": rng.choice(bins),
                        "qty": rng.randint(5, 120),
                        "reason": "receipt",
                        "ref": "BENCH",
                        "station_id": None,
                        "lot": f"L{k}{rng.randint(100, 999)}" if tracked else None,
                        "expiry": expiry.isoformat() if expiry else None,
                    }
                )
            if len(batch) >= 20_000:
                conn.execute(insert(StockMovement), batch)
                batch = []
        if batch:
            conn.execute(insert(StockMovement), batch)


def fresh_copy(dest: Path, products: int = PRODUCTS, orders: int = ORDERS) -> Path:
    db = dest / "station.db"
    shutil.copyfile(template(products, orders), db)
    return db
