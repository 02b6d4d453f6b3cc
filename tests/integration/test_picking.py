"""Picking at a station (SQLite): allocation, the picker's scan-verified walk, short picks,
skip / pause / hand over, and the totes at the pack bench.

The scene (tests/picking_kit.py) has four confirmed orders over twelve lines; a lot-tracked
item whose earliest lot lies further along the walk; an item whose first bin holds fewer than
the shelf says, with more further on.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app.bootstrap import StationContext, bootstrap
from app.config import PrinterConfig
from app.domain.errors import PermissionDeniedError, ValidationError
from app.domain.pick_docs import PickKind
from app.domain.picking import Limits
from app.services import auth, packages, picking, stock
from app.services.picking import ledger
from app.services.picking.session import PickSession, Step
from app.services.picking.views import read_list
from app.services.picking.work import PickWorkRequest, create_pick_work
from app.services.views import OperatorView
from app.store.models import (
    Allocation,
    Order,
    OutboxOp,
    ScanEvent,
    StockMovement,
    Tote,
)
from tests.picking_kit import (
    EARLY_LOT,
    LATE_EXPIRY,
    LATE_LOT,
    Scene,
    add_orders,
    build,
    code_for,
    gs1,
    one_stop,
    overpromised,
    walk,
)


def sign_in(ctx: StationContext, badge: str) -> OperatorView:
    with ctx.uow() as uow:
        return auth.sign_in_badge(uow, badge)


@pytest.fixture
def scene(station: StationContext) -> Scene:
    return build(station.engine)


@pytest.fixture
def supervisor(station: StationContext) -> OperatorView:
    return sign_in(station, "OP-9001")


@pytest.fixture
def picker(station: StationContext) -> OperatorView:
    return sign_in(station, "OP-1002")


def release(
    ctx: StationContext,
    who: OperatorView,
    scene: Scene,
    kind: PickKind = PickKind.CLUSTER,
    orders: tuple[uuid.UUID, ...] | None = None,
    **kw: object,
) -> picking.work.PickWork:
    req = PickWorkRequest(
        kind=kind,
        limits=Limits(max_orders=4),
        order_ids=scene.order_ids if orders is None else orders,
        **kw,  # type: ignore[arg-type]
    )
    with ctx.uow(who) as uow:
        return create_pick_work(uow, req)


def stops_of(ctx: StationContext, list_id: uuid.UUID) -> list[Allocation]:
    with ctx.sessions() as s:
        return list(
            s.scalars(
                select(Allocation)
                .where(Allocation.pick_list_id == list_id)
                .order_by(Allocation.seq, Allocation.id)
            )
        )


def on_hand(ctx: StationContext, product_id: uuid.UUID, location_id: uuid.UUID | None) -> int:
    with ctx.sessions() as s:
        where = (
            StockMovement.location_id.is_(None)
            if location_id is None
            else StockMovement.location_id == location_id
        )
        return int(
            s.scalar(
                select(func.coalesce(func.sum(StockMovement.qty), 0)).where(
                    StockMovement.product_id == product_id, where
                )
            )
            or 0
        )


def kinds(ctx: StationContext) -> list[str]:
    with ctx.sessions() as s:
        return list(s.scalars(select(OutboxOp.kind).order_by(OutboxOp.seq)))


# ----------------------------------------------------------------------------- allocation


def test_allocation_takes_the_first_expiry_first_and_keeps_to_the_walk(
    station: StationContext, scene: Scene, supervisor: OperatorView
) -> None:
    work = release(station, supervisor, scene)
    assert work.skipped == ()
    assert len(work.lists) == 1
    made = work.lists[0]
    assert made.orders == ("SO-9001", "SO-9002", "SO-9003", "SO-9004")
    assert made.stops == 12
    assert made.units == 17
    stops = stops_of(station, made.id)
    # FEFO: the lot that expires first, though its bin comes later on the walk.
    lot_stops = [a for a in stops if a.product_id == scene.items["PK-LOT"].id]
    assert {a.lot for a in lot_stops} == {EARLY_LOT}
    assert {a.location_id for a in lot_stops} == {scene.bins["lot_early"].id}
    # Plain items: the whole line from the first bin on the walk that has it.
    seven = [a for a in stops if a.product_id == scene.items["PK-7"].id]
    assert [(a.location_id, a.qty) for a in seven] == [(scene.bins["short_a"].id, 3)]
    # Stops follow the warehouse's pick sequence; one tote slot per order.
    seqs = {b.id: b.pick_seq for b in scene.bins.values()}
    walked = [seqs[a.location_id] for a in stops]
    assert walked == sorted(walked)
    by_order = {a.order_id: a.slot for a in stops}
    assert sorted(by_order.values()) == [1, 2, 3, 4]
    # One operation for the list, carrying every allocation.
    with station.sessions() as s:
        op = s.scalars(select(OutboxOp).where(OutboxOp.kind == picking.CREATED)).one()
    assert op.entity == "pick_list"
    assert op.entity_id == made.id
    assert len(op.payload["allocations"]) == 12


def test_reservations_never_promise_more_than_the_shelf_holds(
    station: StationContext, scene: Scene, supervisor: OperatorView
) -> None:
    release(station, supervisor, scene)
    # The same orders again: they are on a list already, so nothing new is made.
    again = release(station, supervisor, scene)
    assert again.lists == ()
    # More orders for the lot item: 3 of the early lot are promised; 10 of the late lot left.
    extra = add_orders(
        station.engine,
        scene,
        (("SO-9101", [("PK-LOT", 4)]), ("SO-9102", [("PK-LOT", 4)]), ("SO-9103", [("PK-LOT", 4)])),
    )
    work = release(station, supervisor, scene, PickKind.BATCH, tuple(o for o, _n in extra))
    assert [x.orders for x in work.lists] == [("SO-9101", "SO-9102")]
    assert work.skipped == (("SO-9103", "4 × PK-LOT wanted, 2 free to promise"),)
    with station.engine.connect() as conn:
        late = ledger.places(conn, scene.warehouse_id, [scene.items["PK-LOT"].id])
    free = {(p.location_id, p.lot): p.available for p in late[scene.items["PK-LOT"].id]}
    assert free == {(scene.bins["lot_late"].id, LATE_LOT): 2}
    # Every place: open reservations never exceed what the ledger holds there.
    assert overpromised(station.engine) == []


def test_pick_work_limits_and_filters(
    station: StationContext, scene: Scene, supervisor: OperatorView, picker: OperatorView
) -> None:
    single = release(station, supervisor, scene, PickKind.SINGLE, scene.order_ids[:2], max_lists=5)
    assert [x.orders for x in single.lists] == [("SO-9001",), ("SO-9002",)]
    # Units per list: SO-9003 (4 units) and SO-9004 (5 units) do not fit one list of 6.
    req = PickWorkRequest(
        kind=PickKind.BATCH,
        limits=Limits(max_orders=10, max_units=6),
        max_lists=3,
        order_ids=scene.order_ids[2:],
        wave="Morning",
    )
    with station.uow(supervisor) as uow:
        batch = create_pick_work(uow, req)
    assert [x.orders for x in batch.lists] == [("SO-9003",), ("SO-9004",)]
    assert batch.wave == "Morning"
    with pytest.raises(PermissionDeniedError, match="Kim Picker may not override"):
        release(station, picker, scene)
    with pytest.raises(ValidationError, match="at least one order"):
        Limits(max_orders=0)
    with pytest.raises(ValidationError, match="at most 12 orders"), station.uow(supervisor) as uow:
        create_pick_work(uow, PickWorkRequest(kind=PickKind.CLUSTER, limits=Limits(20)))


# ----------------------------------------------------------------------------- the walk


def test_a_walk_records_each_stop_once_and_the_ledger_balances(
    station: StationContext, scene: Scene, supervisor: OperatorView, picker: OperatorView
) -> None:
    made = release(station, supervisor, scene).lists[0]
    session = PickSession(station.uow, picker)
    first = session.scan(made.number)
    assert first.ok, first.message
    assert session.step is Step.TOTES
    # A tote that still holds an order cannot go on the cart.
    with station.sessions.begin() as s:
        s.execute(
            Tote.__table__.update().where(Tote.code == "T-0009").values(order_id=scene.order_ids[3])
        )
    held = session.scan("T-0009")
    assert not held.ok
    assert "T-0009 still holds order SO-9004" in held.message
    for n in range(1, 5):
        assert session.scan(f"T-000{n}").ok
    assert session.step is Step.BIN
    stop = session.stop
    assert stop is not None
    before = kinds(station).count(picking.STOP_PICKED)

    wrong_bin = session.scan(scene.bins["b8"].code)
    assert not wrong_bin.ok
    assert f"Wrong bin: {scene.bins['b8'].code}" in wrong_bin.message
    assert stop.bin in wrong_bin.message
    assert session.scan(stop.bin).ok
    wrong_item = session.scan(scene.items["PK-8"].ean)
    assert not wrong_item.ok
    assert f"Wrong item: {scene.items['PK-8'].ean}" in wrong_item.message
    assert session.in_hand == 0
    for _ in range(stop.remaining):
        assert session.scan(code_for(scene, stop.sku, stop.lot, stop.expiry)).ok
    wrong_tote = session.scan("T-0003")
    assert not wrong_tote.ok
    assert f"These go in slot {stop.slot} — tote T-000{stop.slot}" in wrong_tote.message
    assert kinds(station).count(picking.STOP_PICKED) == before  # nothing recorded
    with station.sessions() as s:
        rejected = s.scalars(
            select(ScanEvent.message).where(
                ScanEvent.workflow == "pick", ScanEvent.outcome == "rejected"
            )
        ).all()
    assert len(rejected) == 4  # every refused scan is kept, with its words
    done = session.scan(f"T-000{stop.slot}")
    assert done.ok and done.stop_recorded, done.message

    recorded = 1 + walk(session, scene, short_bin=scene.bins["short_a"].code, found=1)
    assert recorded == 13  # twelve stops, plus the one the short re-allocated
    assert session.step is Step.DONE
    view = session.view
    with station.engine.connect() as conn:
        assert view == read_list(conn, made.id)  # the view kept in step is what is stored
    assert view is not None and view.status == "done"
    assert view.units_picked == 17
    assert view.units_short == 2
    # The short: 1 from short_a, the other 2 re-allocated to short_b and picked there.
    seven = scene.items["PK-7"].id
    assert on_hand(station, seven, scene.bins["short_a"].id) == 5 - 1
    assert on_hand(station, seven, scene.bins["short_b"].id) == 4 - 2
    # The lot item left the early lot's bin only.
    lot_item = scene.items["PK-LOT"].id
    assert on_hand(station, lot_item, scene.bins["lot_early"].id) == 0
    assert on_hand(station, lot_item, scene.bins["lot_late"].id) == 10
    # Everything picked sits in totes: on hand, in no bin.
    units_in_totes = sum(on_hand(station, item.id, None) for item in scene.items.values())
    assert units_in_totes == 17
    with station.sessions() as s:
        statuses = dict(
            s.execute(select(Order.number, Order.status).where(Order.id.in_(scene.order_ids))).all()
        )
        totes = dict(
            s.execute(
                select(Tote.code, Tote.order_id).where(Tote.code.in_(["T-0001", "T-0004"]))
            ).all()
        )
    assert set(statuses.values()) == {"picked"}
    assert totes == {"T-0001": scene.order_ids[0], "T-0004": scene.order_ids[3]}
    ops = kinds(station)
    assert ops.count(picking.STOP_PICKED) == 13
    assert ops.count(picking.STOP_SHORT) == 1


def test_a_wrong_lot_is_refused_and_a_lot_item_needs_its_gs1_code(
    station: StationContext, scene: Scene, supervisor: OperatorView, picker: OperatorView
) -> None:
    lot_order = tuple(o for o, n in scene.orders if n == "SO-9001")
    made = release(station, supervisor, scene, PickKind.SINGLE, lot_order).lists[0]
    session = PickSession(station.uow, picker)
    session.scan(made.number)
    session.scan("T-0001")
    while session.stop is not None and session.stop.sku != "PK-LOT":
        session.skip()
    stop = session.stop
    assert stop is not None
    assert session.scan(stop.bin).ok
    plain = session.scan(scene.items["PK-LOT"].ean)
    assert not plain.ok
    assert "needs its lot number and expiry date" in plain.message
    wrong = session.scan(gs1(scene.items["PK-LOT"], LATE_LOT, LATE_EXPIRY))
    assert not wrong.ok
    assert f"Wrong lot: {LATE_LOT}. This stop takes lot {EARLY_LOT}" in wrong.message
    assert session.in_hand == 0
    right = session.scan(code_for(scene, "PK-LOT", stop.lot, stop.expiry))
    assert right.ok, right.message
    assert session.step is Step.TOTE


def test_a_short_with_no_stock_elsewhere_is_marked_for_the_supervisor(
    station: StationContext, scene: Scene, supervisor: OperatorView, picker: OperatorView
) -> None:
    only = add_orders(station.engine, scene, (("SO-9201", [("PK-ONE", 2)]),))
    made = release(station, supervisor, scene, PickKind.SINGLE, (only[0][0],)).lists[0]
    session = PickSession(station.uow, picker)
    session.scan(made.number)
    session.scan("T-0001")
    assert session.scan(scene.bins["b9"].code).ok
    result = session.report_short()
    assert result.ok, result.message
    assert "2 short — marked for the supervisor; the bin will be counted" in result.message
    assert session.step is Step.DONE
    [stop] = stops_of(station, made.id)
    assert (stop.qty, stop.picked, stop.short, stop.status) == (2, 0, 2, "done")
    assert kinds(station)[-1] == picking.STOP_SHORT
    # The ledger still says b9 holds PK-ONE, but the picker found it empty: nothing more is
    # promised from it until someone counts it.
    later = add_orders(station.engine, scene, (("SO-9202", [("PK-ONE", 1)]),))
    held = release(station, supervisor, scene, PickKind.SINGLE, (later[0][0],))
    assert held.lists == ()
    assert held.skipped == (("SO-9202", "1 × PK-ONE wanted, 0 free to promise"),)
    with station.uow(supervisor) as uow:  # counted: the units were behind the box after all
        stock.adjust_stock(uow, scene.items["PK-ONE"].id, scene.bins["b9"].id, 1, "counted 3")
    again = release(station, supervisor, scene, PickKind.SINGLE, (later[0][0],))
    assert [x.orders for x in again.lists] == [("SO-9202",)]


def test_an_order_none_of_whose_units_could_be_picked_waits_to_be_picked_again(
    station: StationContext, scene: Scene, supervisor: OperatorView, picker: OperatorView
) -> None:
    """Every unit short and none picked: the order is not "picked" (nothing would come to the
    pack bench, and it would sit there unseen) but stays confirmed, and goes on a later list
    once the bin is counted."""
    from app.store.models import Order

    [(order_id, _number)] = add_orders(station.engine, scene, (("SO-9211", [("PK-ONE", 2)]),))
    made = release(station, supervisor, scene, PickKind.SINGLE, (order_id,)).lists[0]
    session = PickSession(station.uow, picker)
    session.scan(made.number)
    session.scan("T-0001")
    assert session.scan(scene.bins["b9"].code).ok
    assert session.report_short().ok

    with station.sessions() as s:
        assert s.get_one(Order, order_id).status == "confirmed"
    not_yet = release(station, supervisor, scene, PickKind.SINGLE, (order_id,))
    assert not_yet.skipped == (("SO-9211", "2 × PK-ONE wanted, 0 free to promise"),)
    with station.uow(supervisor) as uow:  # counted: both units were there after all
        stock.adjust_stock(uow, scene.items["PK-ONE"].id, scene.bins["b9"].id, 2, "counted")
    again = release(station, supervisor, scene, PickKind.SINGLE, (order_id,))
    assert [x.orders for x in again.lists] == [("SO-9211",)]


def test_skip_pause_resume_after_a_restart_and_hand_over(
    station: StationContext,
    scene: Scene,
    supervisor: OperatorView,
    picker: OperatorView,
) -> None:
    made = release(station, supervisor, scene).lists[0]
    session = PickSession(station.uow, picker)
    session.scan(made.number)
    for n in range(1, 5):
        session.scan(f"T-000{n}")
    first = session.stop
    assert first is not None
    skipped = session.skip()
    assert skipped.ok, skipped.message
    assert session.stop is not None and session.stop.id != first.id
    assert session.view is not None and session.view.stops[-1].id == first.id  # at the end
    one_stop(session, scene)
    assert session.pause().ok

    # The station restarts: a new process, the same database.
    config = station.config
    station.dispose()
    again = bootstrap(config)
    try:
        resumed = PickSession(again.uow, picker)
        result = resumed.resume()
        assert result is not None and result.ok, result
        assert resumed.view is not None and resumed.view.id == made.id
        assert resumed.step is Step.BIN  # the cart is still set up
        assert resumed.view.stops_done == 1
        assert resumed.view.totes == {"1": "T-0001", "2": "T-0002", "3": "T-0003", "4": "T-0004"}

        handed = resumed.hand_over("OP-9001")
        assert handed.ok, handed.message
        assert "goes to Sam Supervisor" in handed.message
        mine_no_more = PickSession(again.uow, picker).scan(made.number)
        assert not mine_no_more.ok
        assert "is Sam Supervisor's" in mine_no_more.message
        sam = PickSession(again.uow, supervisor)
        assert sam.scan(made.number).ok
        assert walk(sam, scene) == 11
        assert sam.view is not None and sam.view.status == "done"
        assert sam.view.stops[-1].id == first.id
    finally:
        again.dispose()


# ----------------------------------------------------------------------------- packing


def test_a_cluster_tote_opens_its_order_at_the_bench_and_stock_leaves_once(
    station: StationContext, scene: Scene, supervisor: OperatorView, picker: OperatorView
) -> None:
    from app.services.picking.sorting import SortingBench

    made = release(station, supervisor, scene).lists[0]
    session = PickSession(station.uow, picker)
    session.scan(made.number)
    for n in range(1, 5):
        session.scan(f"T-000{n}")
    walk(session, scene)
    packer = sign_in(station, "OP-1001")
    bench = SortingBench(station.uow, packer)
    opened = bench.scan("T-0002")
    assert opened.ok, opened.message
    assert opened.order is not None and opened.order.number == "SO-9002"
    for line in opened.order.lines:
        for _ in range(line.ordered):
            assert bench.scan(scene_item_code(scene, line.sku)).ok
    bench.close_package(1, 900, packages.BOX_TYPES[0])
    bench.complete()
    one = scene.items["PK-1"].id
    # PK-1: 10 on the shelf, 3 picked (2 for SO-9001, 1 for SO-9002), 1 packed and gone.
    assert on_hand(station, one, scene.bins["b1"].id) == 7
    assert on_hand(station, one, None) == 2  # SO-9001's two, still in tote T-0001
    with station.sessions() as s:
        assert s.scalar(select(Tote.order_id).where(Tote.code == "T-0002")) is None


def scene_item_code(scene: Scene, sku: str) -> str:
    return scene.items[sku].ean


def test_a_batch_tote_is_sorted_to_its_orders_at_the_bench(
    station: StationContext, scene: Scene, supervisor: OperatorView, picker: OperatorView
) -> None:
    from app.services.bench import PackBench
    from app.services.picking.sorting import SortingBench

    plain = tuple(o for o, n in scene.orders if n in ("SO-9002", "SO-9004"))
    made = release(station, supervisor, scene, PickKind.BATCH, plain).lists[0]
    session = PickSession(station.uow, picker)
    session.scan(made.number)
    assert session.scan("T-0007").ok
    assert session.step is Step.BIN  # one tote for the whole batch
    walk(session, scene)
    packer = sign_in(station, "OP-1001")
    bench = SortingBench(station.uow, packer)
    sorted_ = bench.scan("T-0007")
    assert sorted_.ok, sorted_.message
    assert "Batch tote T-0007" in sorted_.message
    assert "SO-9002, SO-9004" in sorted_.message
    # An item only SO-9004 has (PK-7) opens SO-9004 and counts into it.
    r = bench.scan(scene.items["PK-7"].ean)
    assert r.ok, r.message
    assert r.order is not None and r.order.number == "SO-9004"
    assert r.order.units_packed == 1
    # An item only SO-9002 has switches to SO-9002.
    r = bench.scan(scene.items["PK-3"].ean)
    assert r.ok, r.message
    assert r.order is not None and r.order.number == "SO-9002"
    # While the tote is sorted, only the database can tell where an item goes: the screen
    # shows nothing ahead of the commit (the pack bench alone would guess SO-9002 here).
    assert bench.predict(r.order, scene.items["PK-1"].ean) is None
    assert PackBench.predict(bench, r.order, scene.items["PK-1"].ean) is not None
    # PK-1 is only on SO-9002: it stays there.
    r = bench.scan(scene.items["PK-1"].ean)
    assert r.order is not None and r.order.number == "SO-9002"
    assert r.order.units_packed == 2


def test_the_pack_bench_looks_each_scanned_code_up_once(
    station: StationContext, scene: Scene
) -> None:
    """The bench the pack screen runs (batch sorting on top of packing) reads a scan and looks
    it up once, whichever of the two decides what the scan means."""
    from sqlalchemy import event

    from app.services.picking.sorting import SortingBench

    statements: list[str] = []

    def traced(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.set_trace_callback(statements.append)

    event.listen(station.engine, "checkout", traced)
    try:
        bench = SortingBench(station.uow, sign_in(station, "OP-1001"))
        assert bench.scan("SO-9002").ok
        item = scene.items["PK-1"]
        statements.clear()
        done = bench.scan(item.ean)
        assert done.ok, done.message
        assert done.order is not None and done.order.units_packed == 1
    finally:
        event.remove(station.engine, "checkout", traced)
    look_ups = [s for s in statements if "FROM barcode" in s]
    assert len(look_ups) == 1, look_ups


def test_the_pick_list_prints_through_the_queue(
    station: StationContext, scene: Scene, supervisor: OperatorView, tmp_path: Path
) -> None:
    from printing.queue import print_pending
    from tests.pdf_reading import Pdf

    folder = tmp_path / "lists"
    station.config = replace(
        station.config,
        printers={
            **station.config.printers,
            "pick_list": PrinterConfig(kind="folder", folder=str(folder)),
        },
    )
    made = release(station, supervisor, scene, print_lists=True).lists[0]
    assert print_pending(station) == 1
    [pdf] = list(folder.glob("*.pdf"))
    doc = Pdf(pdf.read_bytes())
    text = "".join(doc.text(i) for i in range(len(doc)))
    doc.doc.close()
    assert made.number in text
    assert scene.bins["lot_early"].code in text
    assert EARLY_LOT in text
    for number in made.orders:
        assert number in text


def test_a_batch_tote_waiting_to_be_sorted_goes_on_no_other_list(
    station: StationContext, scene: Scene, supervisor: OperatorView, picker: OperatorView
) -> None:
    """A finished batch's tote names no order; until its orders are packed it is not empty."""
    first = tuple(o for o, n in scene.orders if n == "SO-9002")
    made = release(station, supervisor, scene, PickKind.BATCH, first).lists[0]
    session = PickSession(station.uow, picker)
    session.scan(made.number)
    assert session.scan("T-0007").ok
    walk(session, scene)
    assert session.step is Step.DONE
    second = tuple(o for o, n in scene.orders if n == "SO-9004")
    later = release(station, supervisor, scene, PickKind.BATCH, second).lists[0]
    session.scan(later.number)
    refused = session.scan("T-0007")
    assert not refused.ok
    assert refused.message == (
        f"Tote T-0007 still holds units of batch {made.number} (order SO-9002 among them) — "
        "sort it at the pack bench first; take an empty tote."
    )
    assert session.scan("T-0008").ok  # an empty tote
