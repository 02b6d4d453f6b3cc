"""A picking scene on top of the demo company, written straight into a database (SQLite or
PostgreSQL) the way an import would: items with stock in known bins, one lot-tracked item
with two lots (the earlier one further along the walk, so FEFO and the walk disagree), an item
whose first bin will turn out short, and four confirmed orders of three lines each.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select

from app.ids import new_id
from app.services.demo import gtin13
from app.store.models import (
    Barcode,
    Customer,
    Location,
    Order,
    OrderLine,
    Product,
    SalesChannel,
    StockMovement,
    Warehouse,
)

EARLY_LOT, EARLY_EXPIRY = "A2701", "2027-01-31"
LATE_LOT, LATE_EXPIRY = "B2706", "2027-06-30"


@dataclass
class Item:
    id: uuid.UUID
    sku: str
    gtin: str  # GTIN-14

    @property
    def ean(self) -> str:
        return self.gtin[1:]


@dataclass
class Bin:
    id: uuid.UUID
    code: str
    pick_seq: int


@dataclass
class Scene:
    items: dict[str, Item] = field(default_factory=dict)
    bins: dict[str, Bin] = field(default_factory=dict)  # role → bin
    orders: list[tuple[uuid.UUID, str]] = field(default_factory=list)
    warehouse_id: uuid.UUID | None = None

    @property
    def order_ids(self) -> tuple[uuid.UUID, ...]:
        return tuple(oid for oid, _n in self.orders)


def gs1(item: Item, lot: str, expiry: str) -> str:
    """The GS1 element string on a lot-tracked unit: GTIN, expiry (YYMMDD), lot (last)."""
    y, m, d = expiry.split("-")
    return f"01{item.gtin}17{y[2:]}{m}{d}10{lot}"


# (sku, lot-tracked, [(bin role, qty, lot, expiry)])
_STOCK: list[tuple[str, bool, list[tuple[str, int, str | None, str | None]]]] = [
    ("PK-1", False, [("b1", 10, None, None)]),
    ("PK-2", False, [("b2", 10, None, None)]),
    ("PK-3", False, [("b3", 10, None, None)]),
    ("PK-4", False, [("b4", 10, None, None)]),
    ("PK-5", False, [("b5", 10, None, None)]),
    ("PK-6", False, [("b6", 10, None, None)]),
    # The shelf says 5 in short_a, but the picker will find 1; 4 more wait in short_b.
    ("PK-7", False, [("short_a", 5, None, None), ("short_b", 4, None, None)]),
    ("PK-8", False, [("b8", 10, None, None)]),
    # Lot-tracked: the late lot sits early on the walk, the early lot late on it.
    (
        "PK-LOT",
        True,
        [("lot_late", 10, LATE_LOT, LATE_EXPIRY), ("lot_early", 3, EARLY_LOT, EARLY_EXPIRY)],
    ),
    # Stock nowhere else: a short here is marked short for the supervisor.
    ("PK-ONE", False, [("b9", 2, None, None)]),
]
_HOME = {sku: stock[0][0] for sku, _t, stock in _STOCK}
# Bin roles → the n-th bin of the demo walk (far enough apart to tell the path).
_BIN_AT = {
    "lot_late": 3,
    "b1": 6,
    "short_a": 9,
    "b2": 12,
    "b3": 15,
    "b4": 18,
    "b5": 21,
    "b6": 24,
    "b8": 30,
    "b9": 33,
    "lot_early": 36,
    "short_b": 40,
}
ORDERS = (
    ("SO-9001", [("PK-1", 2), ("PK-2", 1), ("PK-LOT", 1)]),
    ("SO-9002", [("PK-3", 1), ("PK-4", 2), ("PK-1", 1)]),
    ("SO-9003", [("PK-5", 1), ("PK-6", 1), ("PK-LOT", 2)]),
    ("SO-9004", [("PK-7", 3), ("PK-8", 1), ("PK-2", 1)]),
)


OrderSpec = tuple[tuple[str, list[tuple[str, int]]], ...]


def build(engine: Engine, orders: OrderSpec = ORDERS) -> Scene:
    scene = Scene()
    now = datetime.now(UTC)
    with engine.begin() as conn:
        wh = conn.scalar(select(Warehouse.id).where(Warehouse.code == "WH1"))
        scene.warehouse_id = wh
        walk = conn.execute(
            select(Location.id, Location.code, Location.pick_seq)
            .where(Location.warehouse_id == wh)
            .order_by(Location.pick_seq)
        ).all()
        for role, n in _BIN_AT.items():
            lid, code, seq = walk[n]
            scene.bins[role] = Bin(lid, code, seq)
        for k, (sku, tracked, _stock) in enumerate(_STOCK):
            gtin = "0" + gtin13(990_000 + k)
            item = Item(new_id(), sku, gtin)
            scene.items[sku] = item
            conn.execute(
                insert(Product),
                [
                    {
                        "id": item.id,
                        "sku": sku,
                        "name": f"Picking test item {sku}",
                        "gtin": gtin,
                        "weight_g": 250,
                        "price_minor": 999,
                        "currency": "EUR",
                        "track_lot": tracked,
                        "track_serial": False,
                        "track_expiry": tracked,
                        "home_location_id": None,
                    }
                ],
            )
            conn.execute(
                insert(Barcode),
                [{"code": gtin, "kind": "product", "entity_id": item.id, "units": 1}],
            )
        conn.execute(
            insert(StockMovement),
            [
                {
                    "id": new_id(),
                    "at": now - timedelta(days=3),
                    "product_id": scene.items[sku].id,
                    "location_id": scene.bins[role].id,
                    "qty": qty,
                    "reason": "receipt",
                    "ref": "PICK-TEST",
                    "station_id": None,
                    "lot": lot,
                    "expiry": expiry,
                }
                for sku, _tracked, stock in _STOCK
                for role, qty, lot, expiry in stock
            ],
        )
    add_orders(engine, scene, orders)
    return scene


def add_orders(engine: Engine, scene: Scene, orders: OrderSpec) -> list[tuple[uuid.UUID, str]]:
    """Confirmed orders of the scene's items (number, [(sku, qty)]), oldest first."""
    now = datetime.now(UTC)
    made: list[tuple[uuid.UUID, str]] = []
    wh = scene.warehouse_id
    with engine.begin() as conn:
        channel = conn.scalar(select(SalesChannel.id).where(SalesChannel.code == "WEB"))
        customer, address = conn.execute(select(Customer.id, Customer.address).limit(1)).one()
        for i, (number, lines) in enumerate(orders):
            oid = new_id()
            scene.orders.append((oid, number))
            made.append((oid, number))
            conn.execute(
                insert(Order),
                [
                    {
                        "id": oid,
                        "number": number,
                        "channel_id": channel,
                        "customer_id": customer,
                        "warehouse_id": wh,
                        "status": "confirmed",
                        "placed_at": now - timedelta(hours=10 - i),
                        "ship_to": address,
                        "hold_reason": "",
                        "version": 1,
                        "priority": 0,
                    }
                ],
            )
            conn.execute(
                insert(OrderLine),
                [
                    {
                        "id": new_id(),
                        "order_id": oid,
                        "line_no": n,
                        "product_id": scene.items[sku].id,
                        "qty_ordered": qty,
                        "qty_packed": 0,
                        "qty_missing": 0,
                        "location_id": scene.bins[_HOME[sku]].id,
                    }
                    for n, (sku, qty) in enumerate(lines, start=1)
                ],
            )
    return made


def code_for(scene: Scene, sku: str, lot: str | None, expiry: str | None) -> str:
    """What a picker scans for one unit of the item (the GS1 code when it carries a lot)."""
    item = scene.items[sku]
    return gs1(item, lot, expiry or "2099-12-31") if lot else item.ean


def one_stop(session: object, scene: Scene) -> None:
    """Pick the next stop whole, the way a picker does: bin, each unit, the slot's tote."""
    from app.services.picking.session import PickSession

    assert isinstance(session, PickSession)
    stop = session.stop
    assert stop is not None and session.view is not None
    assert session.scan(stop.bin).ok
    for _ in range(stop.remaining):
        assert session.scan(code_for(scene, stop.sku, stop.lot, stop.expiry)).ok
    assert session.scan(session.view.tote_of(stop.slot) or "").stop_recorded


def walk(session: object, scene: Scene, *, short_bin: str | None = None, found: int = 1) -> int:
    """Pick the open list to the end the way a picker does (bin, each unit, tote); at
    ``short_bin`` only ``found`` units are there and the rest is reported short. Returns
    the stops recorded."""
    from app.services.picking.session import PickSession, Step

    assert isinstance(session, PickSession)
    recorded = 0
    while session.stop is not None and session.step is not Step.DONE:
        stop = session.stop
        assert session.view is not None
        assert session.scan(stop.bin).ok
        code = code_for(scene, stop.sku, stop.lot, stop.expiry)
        if stop.bin == short_bin:
            for _ in range(found):
                assert session.scan(code).ok
            result = session.report_short()
            if found:
                result = session.scan(session.view.tote_of(stop.slot) or "")
            assert result.ok, result.message
            short_bin = None
        else:
            for _ in range(stop.remaining):
                r = session.scan(code)
                assert r.ok, r.message
            result = session.scan(session.view.tote_of(stop.slot) or "")
            assert result.ok, result.message
        recorded += 1
    return recorded


def overpromised(engine: Engine) -> list[str]:
    """Places where open allocations promise more than the ledger holds, in words (none is
    the rule: reservations never exceed stock)."""
    from sqlalchemy import func

    from app.store.models import Allocation

    out = []
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Allocation.product_id,
                Allocation.location_id,
                Allocation.lot,
                func.sum(Allocation.qty - Allocation.picked - Allocation.short),
            )
            .where(Allocation.status == "open")
            .group_by(Allocation.product_id, Allocation.location_id, Allocation.lot)
        ).all()
        for product_id, location_id, lot, promised in rows:
            held = conn.scalar(
                select(func.coalesce(func.sum(StockMovement.qty), 0)).where(
                    StockMovement.product_id == product_id,
                    StockMovement.location_id == location_id,
                    StockMovement.lot.is_(None) if lot is None else StockMovement.lot == lot,
                )
            )
            if promised > held:
                out.append(f"{promised} promised of {held} ({product_id} at {location_id}, {lot})")
    return out


def signed_in(ctx: object, badge: str) -> Any:
    """The operator of ``badge``, signed in at the station ``ctx``."""
    from app.bootstrap import StationContext
    from app.services import auth

    assert isinstance(ctx, StationContext)
    with ctx.uow() as uow:
        return auth.sign_in_badge(uow, badge)


def started(ctx: object, number: str) -> Any:
    """A picker's session on list ``number``, its totes T-0001… in the cart's slots."""
    from app.bootstrap import StationContext
    from app.services.picking.session import PickSession

    assert isinstance(ctx, StationContext)
    session = PickSession(ctx.uow, signed_in(ctx, "OP-1002"))
    assert session.scan(number).ok
    for slot in session.view.slots if session.view else ():
        assert session.scan(f"T-000{slot}").ok
    return session
