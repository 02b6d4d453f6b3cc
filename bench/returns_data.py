"""The returns benchmarks' database: the big station database with every one of its orders
delivered (a week ago, inside the return window), one package each with a tracking number,
every order line packed as one unit with its own serial number; and the codes its parcels
carry. Shared by bench/returns.py and the desk's GUI probe (bench/returns_probe.py)."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

STATION = "RETURNS-B"
CLERK_BADGE = "OP-1003"  # a returns clerk of the demo data

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


def config(db: Path) -> Any:
    """The returns desk station's configuration on ``db``."""
    from app.config import StationConfig

    return StationConfig(station_name=STATION, database_url=f"sqlite:///{db}", sounds=False)


def codes(db: Path, n: int, seed: int = 5) -> dict[str, list[str]]:
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


def item_codes(db: Path, tracking: str) -> list[str]:
    """The EAN-13 of every unit in the parcel that needs no serial, one per unit."""
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
