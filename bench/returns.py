"""The returns desk on the big database: every one of its 200,000 orders delivered, one package
each with a tracking number, every order line packed with a serial number.

- Candidate orders from a scanned code (tracking number, serial, product GTIN, order number),
  through the desk's own look-up in a unit of work, as the desk runs it (p99 ≤ 20 ms).
- Desk scan to feedback: ``ReturnDesk.scan`` plus the state the screen shows, for the parcel
  scan that opens an unannounced return and each item scan after it (p99 ≤ 10 ms). This is the
  desk's work on the database worker; the screen's repaint is not in it.
- Booking a parcel in (one transaction, stock movements, operations), for reference.

Beside the floor of one bare SQLite ``synchronous=FULL`` commit on the same disk.

``python -m bench.returns [--products N] [--orders N]`` runs it alone.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import tempfile
import time
from pathlib import Path

from app.bootstrap import bootstrap
from app.config import StationConfig
from app.domain.returns import Condition
from app.services import auth
from app.services.returns import lookup
from app.services.returns.desk import ReturnDesk
from bench.data import CACHE, fresh_copy
from bench.figures import Figure, percentile
from bench.floors import sqlite_commit_ms

# Every order delivered (a week ago, inside the window), one package and tracking number
# each, every line packed as one unit with its own serial number.
_DELIVER = (
    "UPDATE sales_order SET status = 'delivered', packed_at = "
    "strftime('%Y-%m-%d %H:%M:%f000', 'now', '-7 days')",
    "INSERT INTO package (id, order_id, seq, box_type, status, tracking_number, weight_g) "
    "SELECT lower(hex(randomblob(16))), id, 1, 'M', 'closed', "
    "'1ZBN' || substr(number, 4), 1000 FROM sales_order",
    "UPDATE order_line SET qty_packed = qty_ordered",
    "INSERT INTO packed_unit (id, order_id, order_line_id, package_id, qty, serial, undone, at) "
    "SELECT lower(hex(randomblob(16))), l.order_id, l.id, p.id, l.qty_ordered, "
    "'SN' || l.rowid, 0, o.placed_at FROM order_line l "
    "JOIN package p ON p.order_id = l.order_id JOIN sales_order o ON o.id = l.order_id",
)


def deliver(db: Path) -> None:
    conn = sqlite3.connect(db)
    try:
        for sql in _DELIVER:
            conn.execute(sql)
        conn.commit()
    finally:
        conn.close()


def _codes(db: Path, n: int, seed: int = 5) -> dict[str, list[str]]:
    """Codes a parcel carries, of random orders: their tracking numbers, serials, order
    numbers, and the EAN-13 of an item in them."""
    rng = random.Random(seed)
    conn = sqlite3.connect(db)
    try:
        orders = conn.execute("SELECT count(*) FROM sales_order").fetchone()[0]
        out: dict[str, list[str]] = {"tracking": [], "serial": [], "order": [], "product": []}
        for _ in range(n):
            number = f"SO-{100001 + rng.randrange(orders)}"
            row = conn.execute(
                "SELECT p.tracking_number, u.serial, pr.gtin FROM sales_order o "
                "JOIN package p ON p.order_id = o.id JOIN packed_unit u ON u.order_id = o.id "
                "JOIN order_line l ON l.id = u.order_line_id "
                "JOIN product pr ON pr.id = l.product_id WHERE o.number = ? LIMIT 1",
                (number,),
            ).fetchone()
            out["tracking"].append(row[0])
            out["serial"].append(row[1])
            out["order"].append(number)
            out["product"].append(row[2][1:])
        return out
    finally:
        conn.close()


def _item_codes(db: Path, tracking: str) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT pr.gtin, l.qty_ordered FROM package p JOIN order_line l "
            "ON l.order_id = p.order_id JOIN product pr ON pr.id = l.product_id "
            "WHERE p.tracking_number = ? AND pr.track_serial = 0",
            (tracking,),
        ).fetchall()
        return [g[1:] for g, qty in rows for _ in range(qty)]
    finally:
        conn.close()


def run(
    products: int = 1_000_000, orders: int = 200_000, lookups: int = 500, parcels: int = 120
) -> list[Figure]:
    with tempfile.TemporaryDirectory(dir=CACHE) as d:
        db = fresh_copy(products, orders, Path(d))
        deliver(db)
        codes = _codes(db, lookups)
        ctx = bootstrap(
            StationConfig(station_name="RETURNS-B", database_url=f"sqlite:///{db}", sounds=False)
        )
        with ctx.uow() as uow:
            clerk = auth.sign_in_badge(uow, "OP-1003")
        by_kind: dict[str, list[float]] = {}
        for kind, values in codes.items():
            for code in values:
                t0 = time.perf_counter()
                with ctx.uow(clerk) as uow:
                    found = lookup.find_candidates(uow, code)
                by_kind.setdefault(kind, []).append((time.perf_counter() - t0) * 1000)
                assert found, (kind, code)
        every = [ms for values in by_kind.values() for ms in values]

        desk = ReturnDesk(lambda: ctx.uow(clerk))
        scan_ms: list[float] = []
        parcel_ms: list[float] = []
        book_ms: list[float] = []
        for tracking in codes["tracking"][:parcels]:
            items = _item_codes(db, tracking)
            if not items:
                continue
            for code in [tracking, *items]:
                t0 = time.perf_counter()
                result = desk.scan(code)
                desk.state()
                took = (time.perf_counter() - t0) * 1000
                scan_ms.append(took)
                if code == tracking:
                    parcel_ms.append(took)
                assert result.ok, result.message
            for u in desk.units:
                desk.grade(u.key, Condition.NEW_SEALED)
            t0 = time.perf_counter()
            desk.complete()
            book_ms.append((time.perf_counter() - t0) * 1000)
        floor = sqlite_commit_ms(Path(d))
        ctx.dispose()
    f99 = percentile(floor, 99)
    figures = [
        Figure(
            "returns: candidate orders from a scan p50",
            percentile(every, 50),
            "ms",
            note=f"{len(every)} look-ups in {orders:,} delivered orders, in a unit of work",
        ),
        Figure("returns: candidate orders from a scan p99", percentile(every, 99), "ms", 20),
    ]
    figures += [
        Figure(f"  by {kind} p99", percentile(values, 99), "ms") for kind, values in by_kind.items()
    ]
    figures += [
        Figure(
            "returns desk: scan to feedback p50",
            percentile(scan_ms, 50),
            "ms",
            note=f"{len(scan_ms)} scans: parcel (opens the return) and items, desk + its state",
        ),
        Figure("returns desk: scan to feedback p99", percentile(scan_ms, 99), "ms", 10),
        Figure(
            "  of which: the parcel scan (find and open the order) p99",
            percentile(parcel_ms, 99),
            "ms",
        ),
        Figure(
            "returns desk: booking a parcel in p50",
            percentile(book_ms, 50),
            "ms",
            note=f"{len(book_ms)} parcels: RMA made, units, stock movements, operations, commit",
        ),
        Figure("floor: bare SQLite FULL commit p99 (returns run)", f99, "ms"),
    ]
    return figures


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.returns", description=__doc__)
    p.add_argument("--products", type=int, default=1_000_000)
    p.add_argument("--orders", type=int, default=200_000)
    args = p.parse_args()
    CACHE.mkdir(exist_ok=True)
    for figure in run(args.products, args.orders):
        print(f"{figure.name:60} {figure.value:9.2f} {figure.unit:3} {figure.target_text()}")


if __name__ == "__main__":
    main()
