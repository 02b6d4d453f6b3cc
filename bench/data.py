"""The benchmark's station database: 1,000,000 products and 200,000 orders, built once and
kept in .bench-cache/ (keyed by schema revision and size), copied fresh for each run."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

from app.services.demo import create_demo_data
from app.store.db import make_engine
from app.store.migrate import HEAD, upgrade

CACHE = Path(__file__).resolve().parents[1] / ".bench-cache"


def template(products: int, orders: int) -> Path:
    path = CACHE / f"demo-{HEAD}-{products}-{orders}.db"
    if path.exists():
        return path
    CACHE.mkdir(exist_ok=True)
    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    start = time.perf_counter()
    print(
        f"building the benchmark database ({products:,} products, {orders:,} orders)...",
        file=sys.stderr,
    )
    engine = make_engine(f"sqlite:///{tmp}")
    upgrade(engine)
    create_demo_data(engine, products=products, orders=orders, seed=1)
    engine.dispose()
    tmp.rename(path)
    print(f"  built in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return path


def fresh_copy(products: int, orders: int, dest: Path) -> Path:
    """A private copy of the template, so every run starts from the same state."""
    src = template(products, orders)
    db = dest / "station.db"
    shutil.copyfile(src, db)
    # On disk before anything is measured: the kernel writing a gigabyte back meanwhile would
    # hold up the measured commits' fsyncs.
    with db.open("rb+") as f:
        os.fsync(f.fileno())
    return db
