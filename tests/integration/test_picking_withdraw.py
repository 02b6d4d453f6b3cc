"""A supervisor withdraws a pick list made by mistake, before anything was picked for it: its
stops are cancelled, their units free to promise again, its orders free for another list.
Once something was picked, or without a reason, or by someone who is not a supervisor, the
list stays and the words say why."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from app.bootstrap import StationContext
from app.domain.errors import InvalidTransitionError, PermissionDeniedError, ValidationError
from app.domain.pick_docs import PickKind
from app.domain.picking import Limits
from app.services import picking
from app.services.picking import ledger
from app.services.picking.lists import free, live_lists, withdraw
from app.services.picking.session import PickSession
from app.services.picking.work import PickWorkRequest, create_pick_work
from app.services.views import OperatorView
from app.store.models import Allocation, Order, OrderLine, OutboxOp, PickList
from tests.picking_kit import Scene, build, one_stop, signed_in, started


@pytest.fixture
def scene(station: StationContext) -> Scene:
    return build(station.engine)


@pytest.fixture
def supervisor(station: StationContext) -> OperatorView:
    return signed_in(station, "OP-9001")


def release(ctx: StationContext, who: OperatorView, orders: tuple[uuid.UUID, ...]) -> Any:
    req = PickWorkRequest(kind=PickKind.CLUSTER, limits=Limits(max_orders=4), order_ids=orders)
    with ctx.uow(who) as uow:
        return create_pick_work(uow, req)


def free_units(ctx: StationContext, scene: Scene) -> int:
    """Units free to promise over the scene's products, at every bin."""
    assert scene.warehouse_id is not None
    with ctx.engine.connect() as conn:
        places = ledger.places(conn, scene.warehouse_id, [i.id for i in scene.items.values()])
    return sum(p.available for ps in places.values() for p in ps)


def test_a_list_nobody_picked_goes_back_and_its_orders_can_be_released_again(
    station: StationContext, scene: Scene, supervisor: OperatorView
) -> None:
    before = free_units(station, scene)
    made = release(station, supervisor, scene.order_ids).lists[0]
    assert free_units(station, scene) == before - made.units
    with station.uow(supervisor).reading() as uow:
        [summary] = live_lists(uow)
    assert (summary.number, summary.stops, summary.stops_done) == (made.number, made.stops, 0)

    with station.uow(supervisor) as uow:
        view = withdraw(uow, made.id, "  made for the wrong   wave ")

    assert view.status == "cancelled"
    assert view.notes == "withdrawn by Sam Supervisor: made for the wrong wave"
    assert free_units(station, scene) == before  # every promised unit is free again
    with station.engine.connect() as conn:
        statuses = set(
            conn.scalars(select(Allocation.status).where(Allocation.pick_list_id == made.id))
        )
        orders = set(conn.scalars(select(Order.status).where(Order.id.in_(scene.order_ids))))
        op = conn.execute(
            select(OutboxOp.kind, OutboxOp.payload).where(OutboxOp.kind == picking.WITHDRAWN)
        ).one()
    assert statuses == {"cancelled"}
    assert orders == {"confirmed"}
    assert op.payload["pick_list_id"] == str(made.id)
    assert op.payload["notes"] == view.notes
    with station.uow(supervisor).reading() as uow:
        assert live_lists(uow) == []
    again = release(station, supervisor, scene.order_ids).lists[0]
    assert sorted(again.orders) == sorted(made.orders)  # the same orders, on a new list
    assert free_units(station, scene) == before - again.units


def test_a_stop_no_longer_open_takes_no_more_units(
    station: StationContext, scene: Scene, supervisor: OperatorView
) -> None:
    """The ledger counts units only into an open stop: a cancelled one (its list withdrawn)
    keeps what it had, and its order line keeps its bin."""
    made = release(station, supervisor, scene.order_ids).lists[0]
    with station.uow(supervisor) as uow:
        withdraw(uow, made.id, "wrong wave")
    with station.engine.begin() as conn:
        stops = ledger.ALLOC
        stop = conn.execute(select(stops).where(stops.c.pick_list_id == made.id).limit(1)).one()
        changed = ledger.resolve_stop(
            conn,
            stop.id,
            picked=1,
            short=1,
            tote="T-1",
            line_id=stop.order_line_id,
            at=datetime.now(UTC),
            by="someone",
        )
        after = conn.execute(select(stops).where(stops.c.id == stop.id)).one()
        bin_of_line = conn.scalar(
            select(OrderLine.location_id).where(OrderLine.id == stop.order_line_id)
        )
    assert changed == 0
    assert (after.status, after.picked, after.short, after.tote_code) == (
        "cancelled",
        stop.picked,
        stop.short,
        stop.tote_code,
    )
    assert bin_of_line is not None


def test_a_picker_holding_a_withdrawn_list_is_told_and_records_nothing(
    station: StationContext, scene: Scene, supervisor: OperatorView
) -> None:
    made = release(station, supervisor, scene.order_ids).lists[0]
    session = started(station, made.number)
    stop = session.stop
    assert stop is not None and session.view is not None
    assert session.scan(stop.bin).ok
    with station.uow(supervisor) as uow:
        withdraw(uow, made.id, "orders held for a recall")

    # The picker's next tote scan is refused: nothing is taken from the bin.
    for _ in range(stop.remaining):
        code = next(i for i in scene.items.values() if i.sku == stop.sku).gtin[1:]
        session.scan(code)
    result = session.scan(session.view.tote_of(stop.slot) or "")
    assert not result.ok
    assert f"Pick list {made.number} was withdrawn meanwhile" in result.message
    with station.engine.connect() as conn:
        picked = conn.scalar(select(Allocation.picked).where(Allocation.id == stop.id))
    assert picked == 0
    # Scanning the list again says who withdrew it and why.
    again = PickSession(station.uow, signed_in(station, "OP-1002")).scan(made.number)
    assert not again.ok
    assert again.message == (
        f"Pick list {made.number} was withdrawn (withdrawn by Sam Supervisor: orders held for "
        "a recall) — put back anything picked for it and scan another pick list."
    )


def test_a_list_with_a_stop_picked_stays(
    station: StationContext, scene: Scene, supervisor: OperatorView
) -> None:
    made = release(station, supervisor, scene.order_ids).lists[0]
    one_stop(started(station, made.number), scene)

    with pytest.raises(InvalidTransitionError) as refused, station.uow(supervisor) as uow:
        withdraw(uow, made.id, "wrong wave")
    assert refused.value.message == (
        f"Pick list {made.number} cannot be withdrawn: 1 of its {made.stops} stops are picked "
        "or reported short, so units are in its totes. Let Kim Picker finish it, reporting "
        "short what must not go."
    )
    with station.engine.connect() as conn:
        status = conn.scalar(select(PickList.status).where(PickList.id == made.id))
        ops = conn.scalars(select(OutboxOp.kind).where(OutboxOp.kind == picking.WITHDRAWN))
        assert list(ops) == []
    assert status == "in_progress"


def test_withdrawing_needs_a_reason_a_supervisor_and_a_live_list(
    station: StationContext, scene: Scene, supervisor: OperatorView
) -> None:
    made = release(station, supervisor, scene.order_ids).lists[0]
    with pytest.raises(ValidationError) as no_reason, station.uow(supervisor) as uow:
        withdraw(uow, made.id, "   ")
    assert no_reason.value.message == (
        "Say why the list is withdrawn (for example: made for the wrong wave)."
    )
    with pytest.raises(ValidationError) as too_long, station.uow(supervisor) as uow:
        withdraw(uow, made.id, "x" * 201)
    assert too_long.value.message == "Keep the reason under 200 characters."
    picker = signed_in(station, "OP-1002")
    with pytest.raises(PermissionDeniedError), station.uow(picker) as uow:
        withdraw(uow, made.id, "wrong wave")
    with station.uow(supervisor) as uow:
        withdraw(uow, made.id, "wrong wave")
    with pytest.raises(InvalidTransitionError) as twice, station.uow(supervisor) as uow:
        withdraw(uow, made.id, "wrong wave")
    assert twice.value.message == (
        f"Pick list {made.number} is withdrawn already — refresh the list."
    )
    with station.engine.connect() as conn:
        ops = list(conn.scalars(select(OutboxOp.kind).where(OutboxOp.kind == picking.WITHDRAWN)))
    assert ops == [picking.WITHDRAWN]  # refusals record nothing


def test_a_list_its_picker_left_is_freed_for_any_picker_to_carry_on(
    station: StationContext, scene: Scene, supervisor: OperatorView
) -> None:
    made = release(station, supervisor, scene.order_ids).lists[0]
    one_stop(started(station, made.number), scene)  # Kim picks one stop, then goes home
    other = PickSession(station.uow, signed_in(station, "OP-9001"))
    held = other.scan(made.number)
    assert not held.ok
    assert held.message.startswith(f"Pick list {made.number} is Kim Picker's")

    with station.uow(supervisor) as uow:
        view = free(uow, made.id)
    assert (view.status, view.picker_name) == ("open", "")
    with pytest.raises(InvalidTransitionError) as again, station.uow(supervisor) as uow:
        free(uow, made.id)
    assert again.value.message == (
        f"Pick list {made.number} is free already: any picker can scan it."
    )
    carry_on = other.scan(made.number)  # the stop done stays done; the walk goes on
    assert carry_on.ok, carry_on.message
    assert other.view is not None and other.view.stops_done == 1
    picker = signed_in(station, "OP-1002")
    with pytest.raises(PermissionDeniedError), station.uow(picker) as uow:
        free(uow, made.id)
