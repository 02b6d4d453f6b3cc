"""Picking items kept by expiry only or by serial number, a write the database refuses in the
middle of a stop, and a short reported at the bin: the ledger, the walk and the words stay
true."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.bootstrap import StationContext
from app.domain.pick_docs import PickKind
from app.domain.picking import Limits
from app.ids import new_id
from app.services.demo import gtin13
from app.services.picking import ledger
from app.services.picking.session import PickSession, Step
from app.services.picking.work import PickWorkRequest, create_pick_work
from app.store.models import Allocation, Barcode, Location, Product, StockMovement
from tests import picking_kit
from tests.picking_kit import Item, Scene, add_orders, build, signed_in


@pytest.fixture
def scene(station: StationContext) -> Scene:
    return build(station.engine)


def add_item(
    station: StationContext,
    scene: Scene,
    sku: str,
    stock: list[tuple[str, int, str | None, int]],
    *,
    expiry: bool = False,
    serial: bool = False,
) -> Item:
    """A product with its stock: (bin role, units, expiry, days ago) movements into bins."""
    item = Item(new_id(), sku, "0" + gtin13(880_000 + len(scene.items)))
    scene.items[sku] = item
    now = datetime.now(UTC)
    with station.engine.begin() as conn:
        conn.execute(
            insert(Product),
            [
                {
                    "id": item.id,
                    "sku": sku,
                    "name": f"Tracked item {sku}",
                    "gtin": item.gtin,
                    "weight_g": 100,
                    "price_minor": 500,
                    "currency": "EUR",
                    "track_lot": False,
                    "track_serial": serial,
                    "track_expiry": expiry,
                    "home_location_id": None,
                }
            ],
        )
        conn.execute(
            insert(Barcode),
            [{"code": item.gtin, "kind": "product", "entity_id": item.id, "units": 1}],
        )
        conn.execute(
            insert(StockMovement),
            [
                {
                    "id": new_id(),
                    "at": now - timedelta(days=days),
                    "product_id": item.id,
                    "location_id": scene.bins[role].id,
                    "qty": qty,
                    "reason": "receipt" if qty > 0 else "sale",
                    "ref": "TRACKED",
                    "station_id": None,
                    "lot": None,
                    "expiry": date,
                }
                for role, qty, date, days in stock
            ],
        )
    return item


def walking(
    station: StationContext, scene: Scene, monkeypatch: pytest.MonkeyPatch, sku: str, qty: int
) -> PickSession:
    """A single-order list of ``qty`` × ``sku`` released and started, at its bin scan."""
    monkeypatch.setitem(picking_kit._HOME, sku, "b1")
    [(order_id, _number)] = add_orders(station.engine, scene, ((f"SO-{sku}", [(sku, qty)]),))
    req = PickWorkRequest(kind=PickKind.SINGLE, limits=Limits(max_orders=1), order_ids=(order_id,))
    with station.uow(signed_in(station, "OP-9001")) as uow:
        made = create_pick_work(uow, req).lists[0]
    session = PickSession(station.uow, signed_in(station, "OP-1002"))
    assert session.scan(made.number).ok
    assert session.scan("T-0001").ok
    return session


def at_bin(station: StationContext, item: Item, role: str, scene: Scene) -> list[Any]:
    with station.engine.connect() as conn:
        return list(
            conn.execute(
                select(StockMovement.lot, func.sum(StockMovement.qty))
                .where(
                    StockMovement.product_id == item.id,
                    StockMovement.location_id == scene.bins[role].id,
                )
                .group_by(StockMovement.lot)
            ).all()
        )


def test_a_lot_on_the_label_of_an_item_kept_by_expiry_only_leaves_the_bin_right(
    station: StationContext, scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = add_item(station, scene, "PK-EXP", [("b1", 2, "2027-01-31", 3)], expiry=True)
    session = walking(station, scene, monkeypatch, "PK-EXP", 2)
    stop = session.stop
    assert stop is not None
    assert session.scan(stop.bin).ok
    for _ in range(2):  # the label carries a lot as well: the product is not kept by lot
        assert session.scan(f"01{item.gtin}1727013110L77").ok
    assert session.scan("T-0001").stop_recorded
    assert at_bin(station, item, "b1", scene) == [(None, 0)]  # both units left the bin
    with station.engine.connect() as conn:
        assert scene.warehouse_id is not None
        places = ledger.places(conn, scene.warehouse_id, [item.id])
    assert places == {}  # nothing left to promise there


def test_first_expiry_first_ranks_a_bin_by_the_units_still_in_it(
    station: StationContext, scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    """b1 holds units that expire in 2026 (its 2030 units were sold); b2 holds 2028 units:
    the 2026 units go first."""
    add_item(
        station,
        scene,
        "PK-EXP",
        [
            ("b1", 5, "2026-12-31", 5),
            ("b1", 5, "2030-01-31", 4),
            ("b1", -5, "2030-01-31", 1),
            ("b2", 5, "2028-06-30", 3),
        ],
        expiry=True,
    )
    session = walking(station, scene, monkeypatch, "PK-EXP", 2)
    stop = session.stop
    assert stop is not None
    assert (stop.bin, stop.expiry) == (scene.bins["b1"].code, "2026-12-31")


def test_an_item_kept_by_serial_takes_one_serial_a_unit(
    station: StationContext, scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = add_item(station, scene, "PK-SER", [("b1", 5, None, 3)], serial=True)
    session = walking(station, scene, monkeypatch, "PK-SER", 3)
    stop = session.stop
    assert stop is not None
    assert session.scan(stop.bin).ok
    typed = session.scan(f"01{item.gtin}21SN0001", qty=3)
    assert not typed.ok
    assert typed.message == (
        "Each PK-SER has a serial number of its own — scan every unit's label, one at a time, "
        "with no quantity typed."
    )
    assert session.in_hand == 0  # nothing counted
    for n in range(1, 4):
        assert session.scan(f"01{item.gtin}21SN000{n}").ok
    assert session.scan("T-0001").stop_recorded


@pytest.mark.parametrize("fails_at", ["write", "commit"])
def test_a_write_the_database_refuses_leaves_the_walk_where_it_was(
    station: StationContext, scene: Scene, monkeypatch: pytest.MonkeyPatch, fails_at: str
) -> None:
    """The tote scan's transaction fails, at a ledger row's write (a trigger refuses it) or at
    the commit (as a full disk refuses the log's sync): nothing is recorded, the units are
    still in hand at the same stop, and the same tote scan records it once the database takes
    writes again."""
    req = PickWorkRequest(
        kind=PickKind.CLUSTER, limits=Limits(max_orders=4), order_ids=scene.order_ids
    )
    with station.uow(signed_in(station, "OP-9001")) as uow:
        made = create_pick_work(uow, req).lists[0]
    session = picking_kit.started(station, made.number)
    stop = session.stop
    assert stop is not None and session.view is not None
    assert session.scan(stop.bin).ok
    code = picking_kit.code_for(scene, stop.sku, stop.lot, stop.expiry)
    for _ in range(stop.remaining):
        assert session.scan(code).ok
    tote = session.view.tote_of(stop.slot) or ""
    if fails_at == "write":
        with station.engine.begin() as conn:
            conn.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON stock_movement "
                    "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
                )
            )
    else:
        real_commit = Session.commit

        def refused(self: Session) -> None:
            self.rollback()
            raise OperationalError(
                "COMMIT", {}, sqlite3.OperationalError("database or disk is full")
            )

        monkeypatch.setattr(Session, "commit", refused)
    with pytest.raises((OperationalError, sqlite3.Error), match="database or disk is full"):
        session.scan(tote)
    assert (session.step, session.in_hand, session.stop) == (Step.TOTE, stop.remaining, stop)
    if fails_at == "write":
        with station.engine.begin() as conn:
            conn.execute(text("DROP TRIGGER refuse"))
    else:
        monkeypatch.setattr(Session, "commit", real_commit)
    with station.engine.connect() as conn:
        picked = conn.scalar(select(Allocation.picked).where(Allocation.id == stop.id))
    assert picked == 0
    result = session.scan(tote)
    assert result.stop_recorded, result.message
    with station.engine.connect() as conn:
        picked = conn.scalar(select(Allocation.picked).where(Allocation.id == stop.id))
    assert picked == stop.remaining


def test_a_short_is_reported_at_the_bin_and_says_what_comes_from_where(
    station: StationContext, scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five wanted from b1, where the shelf says five and the picker finds none; four are in
    b2: four come from there, one is short."""
    add_item(station, scene, "PK-FEW", [("b1", 5, None, 3), ("b2", 4, None, 3)])
    session = walking(station, scene, monkeypatch, "PK-FEW", 5)
    stop = session.stop
    assert stop is not None
    early = session.report_short()
    assert not early.ok
    assert early.message == (
        f"Scan the label of bin {stop.bin} first: a bin is reported short where the picker stands."
    )
    assert session.scan(stop.bin).ok
    result = session.report_short()
    assert result.ok, result.message
    assert (
        f"{stop.bin}: 5 short at the bin — 4 to come from {scene.bins['b2'].code}, 1 marked "
        "short for the supervisor; the bin will be counted."
    ) in result.message


def test_a_short_on_a_list_for_one_zone_takes_nothing_from_another_zone(
    station: StationContext, scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    with station.engine.connect() as conn:
        zone = conn.scalar(select(Location.zone).where(Location.id == scene.bins["b1"].id))
        other = conn.execute(
            select(Location.id, Location.code, Location.pick_seq)
            .where(Location.warehouse_id == scene.warehouse_id, Location.zone != zone)
            .limit(1)
        ).one()
    scene.bins["other_zone"] = picking_kit.Bin(*other)
    add_item(station, scene, "PK-FEW", [("b1", 5, None, 3), ("other_zone", 4, None, 3)])
    monkeypatch.setitem(picking_kit._HOME, "PK-FEW", "b1")
    [(order_id, _n)] = add_orders(station.engine, scene, (("SO-ZONE", [("PK-FEW", 5)]),))
    req = PickWorkRequest(
        kind=PickKind.SINGLE, limits=Limits(max_orders=1), order_ids=(order_id,), zones=(zone,)
    )
    with station.uow(signed_in(station, "OP-9001")) as uow:
        made = create_pick_work(uow, req).lists[0]
    session = picking_kit.started(station, made.number)
    stop = session.stop
    assert stop is not None and stop.bin == scene.bins["b1"].code
    assert session.scan(stop.bin).ok
    result = session.report_short()
    assert result.ok, result.message
    assert "5 short — marked for the supervisor; the bin will be counted" in result.message
    with station.engine.connect() as conn:
        open_stops = conn.scalar(
            select(func.count()).where(
                Allocation.pick_list_id == made.id, Allocation.status == "open"
            )
        )
    assert open_stops == 0  # nothing sent to the other zone
