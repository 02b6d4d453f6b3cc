"""Picking figures: allocating 10,000 open orders against 1,000,000 stock rows, building one
50-order batch with its pick path, and scan-to-feedback on the picker screen.

Floors, measured in the same run on the same file: reading what any allocation must read
(the open orders' lines and the ledger of their products, grouped by place) with bare
sqlite3; one bare SQLite ``synchronous=FULL`` commit on the same disk.

    python -m bench.picking [--lists N]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.data import CACHE
from bench.figures import Figure, percentile
from bench.picking_data import fresh_copy

ROOT = Path(__file__).resolve().parents[1]
BATCHES = 20


def _station(db: Path):  # type: ignore[no-untyped-def]
    from app.bootstrap import bootstrap
    from app.config import StationConfig

    return bootstrap(StationConfig(database_url=f"sqlite:///{db}", sounds=False))


def _supervisor(ctx):  # type: ignore[no-untyped-def]
    from app.services import auth

    with ctx.uow() as uow:
        return auth.sign_in_badge(uow, "OP-9001")


def allocation(folder: Path) -> list[Figure]:
    from app.domain.pick_docs import PickKind
    from app.domain.picking import Limits
    from app.services.picking.work import PickWorkRequest, create_pick_work

    db = fresh_copy(folder)
    floor = _floor_read_s(db)
    ctx = _station(db)
    try:
        who = _supervisor(ctx)
        req = PickWorkRequest(kind=PickKind.BATCH, limits=Limits(max_orders=50), max_lists=200)
        t0 = time.perf_counter()
        with ctx.uow(who) as uow:
            work = create_pick_work(uow, req)
        took = time.perf_counter() - t0
    finally:
        ctx.dispose()
    stops = sum(x.stops for x in work.lists)
    return [
        Figure(
            "allocate open orders into batches",
            took,
            "s",
            note=f"{work.orders:,} orders allocated ({len(work.skipped):,} short of stock), "
            f"{len(work.lists)} lists, {stops:,} stops, committed; 1,000,000 stock rows",
        ),
        Figure("floor: bare read of the orders' lines and their stock", floor, "s"),
        Figure("allocation / floor", took / floor, "×", 10),
    ]


def _floor_read_s(db: Path) -> float:
    """Read the open orders' lines and group their products' ledger by place: the input of
    any allocation, with no Python logic on top."""
    conn = sqlite3.connect(db)
    try:
        t0 = time.perf_counter()
        lines = conn.execute(
            "SELECT l.order_id, l.product_id, l.qty_ordered FROM order_line l "
            "JOIN sales_order o ON o.id = l.order_id WHERE o.status = 'confirmed'"
        ).fetchall()
        products = sorted({r[1] for r in lines})
        for i in range(0, len(products), 500):
            chunk = products[i : i + 500]
            conn.execute(
                "SELECT m.product_id, m.location_id, m.lot, sum(m.qty), max(m.expiry) "
                "FROM stock_movement m JOIN location l ON l.id = m.location_id "
                f"WHERE m.product_id IN ({','.join('?' * len(chunk))}) "
                "GROUP BY m.product_id, m.location_id, m.lot",
                chunk,
            ).fetchall()
        return time.perf_counter() - t0
    finally:
        conn.close()


def batch_build(folder: Path) -> list[Figure]:
    from app.domain.pick_docs import PickKind
    from app.domain.picking import Limits
    from app.services.picking.work import PickWorkRequest, create_pick_work

    db = fresh_copy(folder)
    ctx = _station(db)
    times: list[float] = []
    try:
        who = _supervisor(ctx)
        req = PickWorkRequest(kind=PickKind.BATCH, limits=Limits(max_orders=50))
        for _ in range(BATCHES):
            t0 = time.perf_counter()
            with ctx.uow(who) as uow:
                work = create_pick_work(uow, req)
            times.append((time.perf_counter() - t0) * 1000)
            assert work.orders == 50, work
    finally:
        ctx.dispose()
    return [
        Figure(
            "build a 50-order batch with its pick path (median)",
            statistics.median(times),
            "ms",
            1000,
            note=f"{BATCHES} batches in a row: choose, allocate, order the stops, commit",
        ),
        Figure("build a 50-order batch (slowest)", max(times), "ms", 1000),
    ]


def gui_scans(folder: Path, lists: int) -> list[Figure]:
    from bench.floors import commit_floors

    db = fresh_copy(folder)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(
        [sys.executable, "-m", "bench.picking_probe", str(db), str(lists)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        raise RuntimeError(f"the picking probe failed: {proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    paced99, floors = commit_floors(folder)
    scans = [ms for ms, _step, _rec in result["scans"]]
    reads = [ms for ms, _step, rec in result["scans"] if not rec]
    commits = [ms for ms, _step, rec in result["scans"] if rec]
    hops = result["worker_hop_ms"]
    return [
        Figure(
            "picker scan to feedback p50 (GUI)",
            percentile(scans, 50),
            "ms",
            note=f"{len(scans)} scans over {lists} cluster lists of 8 orders",
        ),
        Figure("picker scan to feedback p99 (GUI)", percentile(scans, 99), "ms", 10),
        Figure("  bin and item scans p99 (no commit)", percentile(reads, 99), "ms", 10),
        Figure(
            "  tote scans p99 (stop recorded and committed)",
            percentile(commits, 99),
            "ms",
            note=f"{len(commits)} stops",
        ),
        Figure(
            "floor: a no-op job through the database worker p99",
            percentile(hops, 99),
            "ms",
            note=f"p50 {percentile(hops, 50):.2f} ms: the thread hand-offs every scan pays",
        ),
        *floors,
        Figure(
            "tote scan p99 / commit floor p99 at the scans' pace",
            percentile(commits, 99) / paced99,
            "×",
            20,
        ),
    ]


def run(lists: int = 6) -> list[Figure]:
    CACHE.mkdir(exist_ok=True)
    figures: list[Figure] = []
    for step in (allocation, batch_build):
        with tempfile.TemporaryDirectory(dir=CACHE) as d:
            figures += step(Path(d))
    with tempfile.TemporaryDirectory(dir=CACHE) as d:
        figures += gui_scans(Path(d), lists)
    return figures


def main(argv: list[str] | None = None) -> int:
    from bench.__main__ import table

    p = argparse.ArgumentParser(prog="python -m bench.picking", description=__doc__)
    p.add_argument("--lists", type=int, default=6, help="cluster lists walked in the GUI run")
    args = p.parse_args(argv)
    print(table(run(args.lists)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
