"""Picking across stations on a real central PostgreSQL with the hub.

Two stations that allocate while apart may promise the same units, or put the same order on
two lists: once both have synced, the hub's decision holds at all three places and no unit is
promised twice. A picker whose network goes away carries on; once it is back, central shows
every pick exactly once and the station's view equals central's.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from app.domain.pick_docs import PickKind
from app.domain.picking import Limits
from app.services import conflicts, picking
from app.services.picking.session import PickSession, Step
from app.services.picking.work import PickWorkRequest, create_pick_work
from app.store.models import (
    Allocation,
    ExceptionTask,
    Order,
    OutboxOp,
    PickList,
    StockMovement,
    Tote,
)
from app.sync import checksum
from app.sync.worker import SyncWorker
from tests.picking_kit import (
    EARLY_LOT,
    Scene,
    add_orders,
    build,
    one_stop,
    overpromised,
    started,
    walk,
)
from tests.sync.centralkit import Central, central
from tests.sync.harness.proxy import PgProxy
from tests.sync.stationkit import Bench, add_bench

pytestmark = pytest.mark.postgres
__all__ = ["central"]


def wait_until(what: str, check: Any, timeout: float = 30.0, differences: Any = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(
        f"not within {timeout:g} s: {what}" + (f": {differences()}" if differences else "")
    )


@pytest.fixture
def scene(central: Central) -> Scene:
    return build(central.engine)


def allocations(engine: Engine) -> set[tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Allocation.id,
                Allocation.pick_list_id,
                Allocation.order_id,
                Allocation.location_id,
                Allocation.lot,
                Allocation.qty,
                Allocation.picked,
                Allocation.short,
                Allocation.status,
            )
        ).all()
    return {tuple(r) for r in rows}


def release(b: Bench, orders: list[uuid.UUID]) -> picking.work.PickWork:
    who = b.sign_in("OP-9001")
    req = PickWorkRequest(
        kind=PickKind.CLUSTER, limits=Limits(max_orders=6), order_ids=tuple(orders)
    )
    with b.ctx.uow(who) as uow:
        return create_pick_work(uow, req)


def drain_with_two_hubs(c: Central) -> None:
    """Two hubs at once: each takes a station; their decisions on stock wait for each other."""
    hubs = [c.hub(), c.hub()]
    threads = [threading.Thread(target=h.drain) for h in hubs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    hubs[0].drain()  # anything one hub skipped while the other held its station


def test_two_stations_allocating_apart_never_promise_the_same_units(
    central: Central, scene: Scene, tmp_path: Path
) -> None:
    # Six orders of 3 × the lot item: 13 units exist (3 of the early lot, 10 of the late).
    extra = add_orders(
        central.engine, scene, tuple((f"SO-93{i:02d}", [("PK-LOT", 3)]) for i in range(6))
    )
    shared = scene.order_ids[0]  # SO-9001: both stations put it on their list
    a = add_bench(central, "PICK-A", tmp_path)
    b = add_bench(central, "PICK-B", tmp_path)
    try:
        made_a = release(a, [shared, *(o for o, _n in extra[:3])]).lists[0]
        made_b = release(b, [shared, *(o for o, _n in extra[3:])]).lists[0]
        # Apart, each promised the early lot and most of the late one to its own orders.
        for bench in (a, b):
            with bench.ctx.engine.connect() as conn:
                lots = conn.execute(
                    select(Allocation.lot, func.sum(Allocation.qty))
                    .where(Allocation.product_id == scene.items["PK-LOT"].id)
                    .group_by(Allocation.lot)
                ).all()
            assert dict(lots)[EARLY_LOT] == 3
        a.push()
        b.push()
        drain_with_two_hubs(central)
        a.sync()
        b.sync()

        # Central: no place promised beyond what it holds, no order on two live lists.
        assert overpromised(central.engine) == []
        with central.engine.connect() as conn:
            lists_of_shared = conn.scalars(
                select(func.count(func.distinct(Allocation.pick_list_id))).where(
                    Allocation.order_id == shared
                )
            ).one()
            lot_total = conn.scalar(
                select(func.sum(Allocation.qty)).where(
                    Allocation.product_id == scene.items["PK-LOT"].id
                )
            )
            notes = dict(conn.execute(select(PickList.number, PickList.notes)).all())
        assert lists_of_shared == 1
        assert lot_total <= 13
        # The hub's answer is at both stations: the same allocations as central.
        assert allocations(a.ctx.engine) == allocations(central.engine)
        assert allocations(b.ctx.engine) == allocations(central.engine)
        # The list that came second says what it lost, in words (or was refused with them).
        results = {}
        for bench, made in ((a, made_a), (b, made_b)):
            with bench.ctx.engine.connect() as conn:
                results[made.number] = conn.execute(
                    select(OutboxOp.result, OutboxOp.reason).where(OutboxOp.kind == picking.CREATED)
                ).one()
        losers = [n for n in (made_a.number, made_b.number) if "left the list" in notes.get(n, "")]
        refused = [n for n, (result, _r) in results.items() if result == "rejected"]
        assert len(losers) + len(refused) == 1, (notes, results)
        loser = (losers or refused)[0]
        words = notes.get(loser) or results[loser][1]
        assert "SO-9001 left the list: it is on pick list" in words
        for number, (result, reason) in results.items():
            if result == "rejected":
                assert reason.startswith(f"Pick list {number} was not accepted centrally")
    finally:
        a.close()
        b.close()


@pytest.fixture
def hub_running(central: Central) -> Iterator[None]:
    hub = central.hub(poll_interval=0.3)
    thread = threading.Thread(target=hub.run, name="test-hub", daemon=True)
    thread.start()
    yield
    hub.stop()
    thread.join(10)


def test_a_picker_carries_on_offline_and_central_shows_every_pick_once(
    central: Central, scene: Scene, tmp_path: Path, hub_running: None
) -> None:
    bench = add_bench(central, "PICK-01", tmp_path)
    proxy = PgProxy(bench.login.central.port)
    port = proxy.start()
    config = replace(bench.ctx.config, central=replace(bench.login.central, port=port))
    worker = SyncWorker(config, poll_s=0.3)
    worker.start()
    try:
        wait_until("online", lambda: worker.status.online)
        made = release(bench, list(scene.order_ids)).lists[0]
        worker.wake()
        wait_until("the list is accepted", lambda: _all_done(bench.ctx.engine))
        session = PickSession(bench.ctx.uow, bench.sign_in("OP-1002"))
        assert session.scan(made.number).ok
        for n in range(1, 5):
            assert session.scan(f"T-000{n}").ok
        # Two stops online...
        for _ in range(2):
            one_stop(session, scene)
            worker.wake()
        # ...then the network goes, and the picker carries on to the end (with a short).
        proxy.offline = True
        proxy.drop_all()
        wait_until("offline", lambda: not worker.status.online)
        recorded = walk(session, scene, short_bin=scene.bins["short_a"].code, found=1)
        assert recorded == 11
        assert session.step is Step.DONE
        worker.wake()
        time.sleep(0.5)
        assert not worker.status.online
        assert worker.status.unsent > 0
        proxy.calm()
        wait_until(
            "back and everything done",
            lambda: worker.status.online and _all_done(bench.ctx.engine),
            60,
        )
        wait_until(
            "caught up",
            lambda: _converged(central, bench),
            differences=lambda: _diff(central, bench),
        )

        # Every pick once centrally: the same ledger rows, by id, as the station wrote.
        with bench.ctx.engine.connect() as conn:
            local = set(
                conn.scalars(select(StockMovement.id).where(StockMovement.reason == "pick"))
            )
            local_ops = conn.scalar(select(func.count()).select_from(OutboxOp))
        with central.engine.connect() as conn:
            central_picks = list(
                conn.scalars(select(StockMovement.id).where(StockMovement.reason == "pick"))
            )
            results = conn.scalar(
                select(func.count())
                .select_from(central_results_table())
                .where(central_results_table().c.station_id == bench.ctx.station_id)
            )
            listed = conn.execute(
                select(PickList.status).where(PickList.id == made.id)
            ).scalar_one()
            tasks = set(conn.scalars(select(ExceptionTask.kind)))
        assert len(local) == 2 * 13  # bin out and tote in, for 13 stops (one re-allocated)
        assert len(central_picks) == len(set(central_picks)) == len(local)
        assert set(central_picks) == local
        assert results == local_ops  # each operation applied once
        assert listed == "done"
        assert "recount" in tasks  # the short bin gets counted
        with bench.ctx.uow(bench.sign_in("OP-9001")) as uow:
            [recount] = [t for t in conflicts.list_exceptions(uow) if t.kind == "recount"]
        short_bin = scene.bins["short_a"].code
        assert f" in {short_bin}: the picker of {made.number} found " in recount.summary
        assert allocations(bench.ctx.engine) == allocations(central.engine)
    finally:
        worker.stop()
        proxy.close()
        bench.close()


def central_results_table() -> Any:
    from app.store.models import OpResult

    return OpResult.__table__


def _all_done(engine: Engine) -> bool:
    with engine.connect() as conn:
        return set(conn.scalars(select(OutboxOp.status))) <= {"done"}


def _diff(c: Central, bench: Bench) -> list[str]:
    mine = checksum.station_view(bench.ctx.engine)
    theirs = checksum.central_view(c.engine, bench.who.warehouse_id)
    return mine.differences(theirs)


def _converged(c: Central, bench: Bench) -> bool:
    mine = checksum.station_view(bench.ctx.engine)
    theirs = checksum.central_view(c.engine, bench.who.warehouse_id)
    return mine.position == theirs.position and mine.digest == theirs.digest


def test_a_list_that_loses_every_order_is_refused_with_words_and_leaves_the_station(
    central: Central, scene: Scene, tmp_path: Path
) -> None:
    a = add_bench(central, "PICK-A", tmp_path)
    try:
        who = a.sign_in("OP-9001")
        req = PickWorkRequest(kind=PickKind.SINGLE, limits=Limits(1), order_ids=scene.order_ids[:1])
        with a.ctx.uow(who) as uow:
            made = create_pick_work(uow, req).lists[0]
        # Meanwhile the order was cancelled centrally.
        with central.engine.begin() as conn:
            conn.execute(
                Order.__table__.update()
                .where(Order.id == scene.order_ids[0])
                .values(status="cancelled")
            )
        a.push()
        central.hub().drain()
        a.sync()
        with a.ctx.engine.connect() as conn:
            result, reason = conn.execute(
                select(OutboxOp.result, OutboxOp.reason).where(OutboxOp.kind == picking.CREATED)
            ).one()
            left = conn.scalar(select(func.count()).select_from(PickList))
            stops = conn.scalar(select(func.count()).select_from(Allocation))
        assert result == "rejected"
        assert reason == (
            f"Pick list {made.number} was not accepted centrally: SO-9001 left the list: it is "
            "cancelled centrally. Create pick work again for the orders still open."
        )
        assert (left, stops) == (0, 0)  # the station's list is gone, as central has none
    finally:
        a.close()


def test_picking_operations_central_cannot_use_are_refused_and_facts_kept(
    central: Central, scene: Scene
) -> None:
    from app.ids import new_id
    from tests.sync.centralkit import make_op

    login = central.add_station("ODD-1")
    sid = login.station_id
    unknown = new_id()
    at = "2026-12-01T09:00:00+00:00"
    item, where = scene.items["PK-1"], scene.bins["b1"]
    moves = [
        {
            "id": str(new_id()),
            "product_id": str(item.id),
            "location_id": str(where.id),
            "qty": -1,
            "reason": "pick",
            "ref": "T-0005",
            "at": at,
        },
        {
            "id": str(new_id()),
            "product_id": str(item.id),
            "location_id": None,
            "qty": 1,
            "reason": "pick",
            "ref": "T-0005",
            "at": at,
        },
    ]
    ops = [
        make_op(
            sid, 1, picking.CREATED, {"pick_list": "x", "allocations": []}, "pick_list", unknown
        ),
        make_op(sid, 2, picking.STARTED, {"pick_list_id": str(unknown)}, "pick_list", unknown),
        make_op(
            sid,
            3,
            picking.STOP_PICKED,
            {
                "pick_list_id": str(unknown),
                "allocation_id": str(new_id()),
                "order_id": str(scene.order_ids[0]),
                "line_id": str(new_id()),
                "sku": "PK-1",
                "qty": 1,
                "tote": "T-0005",
                "movements": moves,
            },
            "pick_list",
            unknown,
        ),
    ]
    central.push(login, ops)
    central.hub().drain()
    results = [(r.result, r.reason) for r in central.results(sid)]
    assert results[0] == (
        "rejected",
        "Picking operation picklist.created (#1) was not recorded centrally: a pick_list row is "
        "not a record. Tell support; the station keeps what it did.",
    )
    assert results[1][0] == "rejected"
    assert results[1][1].startswith("That pick list is not in the central database")
    assert results[2] == ("applied", "")  # the units are in a tote: a fact, kept
    with central.engine.connect() as conn:
        kept = set(conn.scalars(select(StockMovement.id).where(StockMovement.ref == "T-0005")))
        task = conn.execute(
            select(ExceptionTask.kind, ExceptionTask.details).where(
                ExceptionTask.kind == "pick_conflict"
            )
        ).one()
    assert kept == {uuid.UUID(m["id"]) for m in moves}
    assert task.details["why"] == "its pick list was not accepted centrally"
    assert task.details["sku"] == "PK-1"


def test_a_stop_picked_at_two_stations_counts_once_and_the_extra_units_are_a_task(
    central: Central, scene: Scene, tmp_path: Path
) -> None:
    """The first picker's station was offline when the list went on to another picker, who
    picked the same stop again: central keeps both movements (the units did move), counts the
    stop once, and asks a supervisor to put the second tote's units back."""
    from app.ids import new_id
    from tests.sync.centralkit import make_op

    a = add_bench(central, "PICK-A", tmp_path)
    try:
        made = release(a, list(scene.order_ids)).lists[0]
        session = started(a.ctx, made.number)
        one_stop(session, scene)
        a.push()
        central.hub().drain()
        with a.ctx.engine.connect() as conn:
            first = outbox_op(conn, picking.STOP_PICKED)
        stop_id = uuid.UUID(first.payload["allocation_id"])
        qty = int(first.payload["qty"])
        at_b = "T-0009"
        moves = [
            {**m, "id": str(new_id()), "ref": at_b if m["location_id"] is None else m["ref"]}
            for m in first.payload["movements"]
        ]
        b = central.add_station("PICK-B")
        again = make_op(
            b.station_id,
            1,
            picking.STOP_PICKED,
            {**first.payload, "tote": at_b, "movements": moves},
            "pick_list",
            made.id,
        )
        central.push(b, [again])
        central.hub().drain()

        assert [(r.result, r.reason) for r in central.results(b.station_id)] == [("applied", "")]
        with central.engine.connect() as conn:
            picked, status = conn.execute(
                select(Allocation.picked, Allocation.status).where(Allocation.id == stop_id)
            ).one()
            kept = set(conn.scalars(select(StockMovement.id).where(StockMovement.reason == "pick")))
            task = conn.execute(
                select(ExceptionTask.details).where(ExceptionTask.kind == "pick_conflict")
            ).scalar_one()
        assert (picked, status) == (qty, "done")  # counted once
        assert {uuid.UUID(m["id"]) for m in moves} <= kept  # the second picker's units moved
        assert task["qty"] == qty
        assert task["tote"] == at_b
        assert task["why"] == f"the stop at {first.payload['bin']} was picked already"
        # The supervisor's list at the station says it in words.
        a.sync()
        with a.ctx.uow(a.sign_in("OP-9001")) as uow:
            [shown] = [t for t in conflicts.list_exceptions(uow) if t.kind == "pick_conflict"]
        assert shown.title == "Units picked that no stop wanted"
        assert shown.summary == (
            f"{qty} × {first.payload['sku']} in tote T-0009 were not counted on the pick list: "
            f"the stop at {first.payload['bin']} was picked already."
        )
        assert shown.todo.startswith("Take those units out of the tote")
    finally:
        a.close()


def outbox_op(conn: Any, kind: str) -> Any:
    from app.sync.ops import Op

    row = conn.execute(select(OutboxOp).where(OutboxOp.kind == kind)).one()
    return Op.from_row(row)


def test_a_withdrawal_holds_centrally_unless_a_station_picked_meanwhile(
    central: Central, scene: Scene, tmp_path: Path
) -> None:
    """The supervisor's station (A) withdraws a list the picker's station (P) started on
    meanwhile: central refuses it with words and A gets the list back as it stands. A list
    nobody picked from is withdrawn centrally, and a pick of it that arrives late (its
    station was offline) is kept as movements and raised as a task, the order not picked."""
    from app.ids import new_id
    from app.services.picking.lists import withdraw
    from tests.sync.centralkit import make_op

    a = add_bench(central, "PICK-A", tmp_path)
    p = add_bench(central, "PICK-P", tmp_path)
    try:
        first = release(a, list(scene.order_ids[:2])).lists[0]
        second = release(a, list(scene.order_ids[2:])).lists[0]
        a.push()
        central.hub().drain()
        a.sync()
        p.sync()
        session = PickSession(p.ctx.uow, p.sign_in("OP-1002"))
        assert session.scan(first.number).ok
        for slot in session.view.slots if session.view else ():
            assert session.scan(f"T-000{slot}").ok
        one_stop(session, scene)
        p.push()
        central.hub().drain()

        with a.ctx.uow(a.sign_in("OP-9001")) as uow:  # A has not heard of the pick
            withdraw(uow, first.id, "made for the wrong wave")
            withdraw(uow, second.id, "orders held for a recall")
        a.push()
        central.hub().drain()
        a.sync()

        results = [(r.result, r.reason) for r in central.results(a.ctx.station_id)][-2:]
        assert results == [
            (
                "rejected",
                f"Pick list {first.number} was not withdrawn: 1 of its stops were picked at a "
                "station meanwhile, so units are in its totes. Let the picker finish it, "
                "reporting short what must not go.",
            ),
            ("applied", ""),
        ]
        with central.engine.connect() as conn:
            lists = dict(conn.execute(select(PickList.number, PickList.status)).all())
            stops = set(
                conn.scalars(select(Allocation.status).where(Allocation.pick_list_id == second.id))
            )
        assert lists == {first.number: "in_progress", second.number: "cancelled"}
        assert stops == {"cancelled"}
        with a.ctx.engine.connect() as conn:  # A shows both lists as central holds them
            assert dict(conn.execute(select(PickList.number, PickList.status)).all()) == lists

        # A pick of the withdrawn list, from a station that was offline all along.
        with central.engine.connect() as conn:
            stop = conn.execute(
                select(Allocation).where(Allocation.pick_list_id == second.id).limit(1)
            ).one()
        at = "2026-12-01T09:00:00+00:00"
        moves = [
            {
                "id": str(new_id()),
                "product_id": str(stop.product_id),
                "location_id": where,
                "qty": qty,
                "reason": "pick",
                "ref": "T-0009",
                "at": at,
            }
            for where, qty in ((str(stop.location_id), -stop.qty), (None, stop.qty))
        ]
        late = central.add_station("PICK-LATE")
        central.push(
            late,
            [
                make_op(
                    late.station_id,
                    1,
                    picking.STOP_PICKED,
                    {
                        "pick_list_id": str(second.id),
                        "allocation_id": str(stop.id),
                        "order_id": str(stop.order_id),
                        "line_id": str(stop.order_line_id),
                        "sku": "PK-LATE",
                        "qty": stop.qty,
                        "tote": "T-0009",
                        "movements": moves,
                    },
                    "pick_list",
                    second.id,
                )
            ],
        )
        central.hub().drain()
        assert [r.result for r in central.results(late.station_id)] == ["applied"]
        with central.engine.connect() as conn:
            task = conn.execute(
                select(ExceptionTask.details).where(ExceptionTask.kind == "pick_conflict")
            ).scalar_one()
            order_status = conn.scalar(select(Order.status).where(Order.id == stop.order_id))
            kept = set(conn.scalars(select(StockMovement.id).where(StockMovement.ref == "T-0009")))
        assert (task["why"], task["qty"], task["tote"]) == (
            "its pick list was withdrawn",
            stop.qty,
            "T-0009",
        )
        assert order_status == "confirmed"  # not picked by units from a withdrawn list
        assert kept == {uuid.UUID(m["id"]) for m in moves}
    finally:
        a.close()
        p.close()


def test_a_late_short_of_a_stop_picked_elsewhere_reallocates_nothing(
    central: Central, scene: Scene, tmp_path: Path
) -> None:
    """Station A picked the whole list; station B, offline, had reported one of its stops
    short: central counts the bin, but promises no units again for a stop that wants none."""
    from tests.sync.centralkit import make_op

    a = add_bench(central, "PICK-A", tmp_path)
    try:
        made = release(a, list(scene.order_ids)).lists[0]
        session = started(a.ctx, made.number)
        walk(session, scene)
        a.push()
        central.hub().drain()
        with a.ctx.engine.connect() as conn:
            seven = conn.execute(
                select(Allocation).where(Allocation.product_id == scene.items["PK-7"].id)
            ).one()
        b = central.add_station("PICK-B")
        short = {
            "pick_list_id": str(made.id),
            "allocation_id": str(seven.id),
            "order_id": str(seven.order_id),
            "line_id": str(seven.order_line_id),
            "sku": "PK-7",
            "at": "2026-12-01T09:00:00+00:00",
            "short": 3,
            "product_id": str(seven.product_id),
            "location_id": str(seven.location_id),
            "bin": scene.bins["short_a"].code,
            "lot": None,
            "reason": "bin empty",
            "reallocated": [],
        }
        central.push(b, [make_op(b.station_id, 1, picking.STOP_SHORT, short, "pick_list", made.id)])
        central.hub().drain()

        assert [r.result for r in central.results(b.station_id)] == ["applied"]
        with central.engine.connect() as conn:
            stops = conn.execute(
                select(
                    Allocation.qty, Allocation.picked, Allocation.short, Allocation.status
                ).where(Allocation.product_id == scene.items["PK-7"].id)
            ).all()
            listed = conn.scalar(select(PickList.status).where(PickList.id == made.id))
            tasks = list(conn.scalars(select(ExceptionTask.kind)))
        assert stops == [(3, 3, 0, "done")]  # picked whole, and no new stop promised
        assert listed == "done"
        assert tasks == ["recount"]  # the bin B found short is counted; nothing is short
        assert overpromised(central.engine) == []
    finally:
        a.close()


def test_an_order_none_of_whose_units_could_be_picked_stays_confirmed_centrally_too(
    central: Central, scene: Scene, tmp_path: Path
) -> None:
    """The picker found the only bin empty and nothing was picked: central keeps the order
    confirmed, as the station does, instead of sending it on as picked, and the supervisor
    has the short."""
    from app.store.models import Order

    [(order_id, _n)] = add_orders(central.engine, scene, (("SO-9211", [("PK-ONE", 2)]),))
    a = add_bench(central, "PICK-A", tmp_path)
    try:
        made = release(a, [order_id]).lists[0]
        session = started(a.ctx, made.number)
        stop = session.stop
        assert stop is not None and stop.sku == "PK-ONE"
        assert session.scan(stop.bin).ok
        assert session.report_short().ok
        a.push()
        central.hub().drain()

        assert {r.result for r in central.results(a.ctx.station_id)} == {"applied"}
        for engine in (central.engine, a.ctx.engine):
            with engine.connect() as conn:
                status = conn.scalar(select(Order.status).where(Order.id == order_id))
            assert status == "confirmed"
        with central.engine.connect() as conn:
            tasks = sorted(conn.scalars(select(ExceptionTask.kind)))
        assert tasks == ["recount", "short_pick"]
    finally:
        a.close()


def test_a_tote_is_bound_centrally_only_to_an_order_on_the_live_list(
    central: Central, scene: Scene, tmp_path: Path
) -> None:
    """A station set a tote for an order central dropped from the list (decided again at its
    creation): central does not bind the tote to it, or the tote would wait forever for an
    order nobody picks into it."""
    from tests.sync.centralkit import make_op

    a = add_bench(central, "PICK-A", tmp_path)
    try:
        made = release(a, list(scene.order_ids[:2])).lists[0]
        a.push()
        central.hub().drain()
    finally:
        a.close()
    on_list, dropped = scene.order_ids[0], scene.order_ids[3]
    login = central.add_station("ODD-1")

    def tote_set(seq: int, tote: str, order_id: uuid.UUID) -> Any:
        payload = {"pick_list_id": str(made.id), "slot": seq, "tote": tote}
        return make_op(
            login.station_id,
            seq,
            picking.TOTE_SET,
            {**payload, "order_id": str(order_id), "orders": []},
            "pick_list",
            made.id,
        )

    central.push(login, [tote_set(1, "T-0005", on_list), tote_set(2, "T-0006", dropped)])
    central.hub().drain()
    assert [r.result for r in central.results(login.station_id)] == ["applied", "applied"]
    with central.engine.connect() as conn:
        bound = dict(
            conn.execute(
                select(Tote.code, Tote.order_id).where(Tote.code.in_(["T-0005", "T-0006"]))
            ).all()
        )
    assert bound == {"T-0005": on_list, "T-0006": None}
