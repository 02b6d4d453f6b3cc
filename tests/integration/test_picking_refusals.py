"""Every way a picker or supervisor can get it wrong: nothing is recorded, and the words say
what happened and what to do next."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlalchemy import func, select, update

from app.bootstrap import StationContext
from app.domain.errors import ValidationError
from app.domain.pick_docs import PickKind
from app.domain.picking import Limits
from app.services import auth
from app.services.picking import actions
from app.services.picking.session import PickSession, Step
from app.services.picking.work import PickWorkRequest, create_pick_work
from app.services.views import OperatorView
from app.store.models import OutboxOp, PickList, Station, StockMovement
from tests.picking_kit import Scene, build, code_for, gs1


@pytest.fixture
def scene(station: StationContext) -> Scene:
    return build(station.engine)


def sign_in(ctx: StationContext, badge: str) -> OperatorView:
    with ctx.uow() as uow:
        return auth.sign_in_badge(uow, badge)


def release(ctx: StationContext, scene: Scene, kind: PickKind = PickKind.CLUSTER) -> str:
    req = PickWorkRequest(kind=kind, limits=Limits(max_orders=4), order_ids=scene.order_ids)
    with ctx.uow(sign_in(ctx, "OP-9001")) as uow:
        return create_pick_work(uow, req).lists[0].number


def counts(ctx: StationContext) -> tuple[int, int]:
    """Operations other than rejected scans, and ledger rows: what a refusal must not add."""
    with ctx.sessions() as s:
        ops = s.scalar(
            select(func.count()).select_from(OutboxOp).where(OutboxOp.kind != "scan.rejected")
        )
        rows = s.scalar(select(func.count()).select_from(StockMovement))
    return int(ops or 0), int(rows or 0)


@pytest.fixture
def walking(station: StationContext, scene: Scene) -> PickSession:
    """A picker at the first stop's bin step, cart ready."""
    session = PickSession(station.uow, sign_in(station, "OP-1002"))
    assert session.scan(release(station, scene)).ok
    for n in range(1, 5):
        assert session.scan(f"T-000{n}").ok
    return session


def test_nothing_is_picked_before_a_list_is_scanned(station: StationContext, scene: Scene) -> None:
    session = PickSession(station.uow, sign_in(station, "OP-1002"))
    r = session.scan(scene.bins["b1"].code)
    assert not r.ok
    assert r.message == f"{scene.bins['b1'].code} is a bin — scan a pick list first."
    r = session.scan("4006381333931")  # a real GTIN this warehouse does not stock
    assert r.outcome.value == "unknown"
    assert "4006381333931 is not a bin, item, tote or pick list this station knows" in r.message
    r = session.scan("ZZ-NOT-A-CODE")  # no GTIN, and none of the company's own codes
    assert not r.ok
    assert "ZZ-NOT-A-CODE is not a product number (GTIN)" in r.message
    r = session.report_short()
    assert r.message == "No stop is open — scan a pick list first."


@pytest.mark.parametrize(
    ("what", "expected"),
    [
        ("item_at_bin", "— scan the label of bin {bin} first, then the item."),
        ("tote_at_item", "This stop needs {n} more × {sku} — scan them, or report the bin short."),
        ("too_many", "but this stop needs {n} — put {extra} back."),
        ("typed_zero", "A quantity of 0 is not possible — type a number from 1 to 9999."),
        ("list_at_tote", "— the {n} × {sku} in hand go in slot {slot}: scan tote T-000{slot}."),
        ("foreign_tote", "Wrong tote: T-0050 is not on this cart. These go in slot {slot}"),
    ],
)
def test_a_scan_that_does_not_fit_the_step_records_nothing(
    station: StationContext, scene: Scene, walking: PickSession, what: str, expected: str
) -> None:
    stop = walking.stop
    assert stop is not None
    code = code_for(scene, stop.sku, stop.lot, stop.expiry)
    if what != "item_at_bin":
        assert walking.scan(stop.bin).ok
    if what in ("list_at_tote", "foreign_tote"):
        for _ in range(stop.remaining):
            assert walking.scan(code).ok
    before = counts(station)
    r: object
    if what == "item_at_bin":
        r = walking.scan(code)
    elif what == "tote_at_item":
        r = walking.scan("T-0001")
    elif what == "too_many":
        r = walking.scan(code, qty=stop.remaining + 1)
    elif what == "typed_zero":
        r = walking.scan(code, qty=0)
    elif what == "list_at_tote":
        r = walking.scan(scene.orders[0][1])
    else:
        r = walking.scan("T-0050")
    assert not r.ok  # type: ignore[attr-defined]
    words = expected.format(
        bin=stop.bin,
        n=stop.remaining,
        sku=stop.sku,
        extra=1,
        slot=stop.slot,
    )
    assert words in r.message  # type: ignore[attr-defined]
    assert counts(station) == before


def test_skip_and_leave_need_empty_hands(
    station: StationContext, scene: Scene, walking: PickSession
) -> None:
    stop = walking.stop
    assert stop is not None and stop.remaining > 1
    walking.scan(stop.bin)
    walking.scan(code_for(scene, stop.sku, stop.lot, stop.expiry))
    r = walking.skip()
    assert r.message == (
        f"1 × {stop.sku} in hand — put them back in {stop.bin} before skipping the stop."
    )
    r = walking.pause()
    assert r.message == "1 unit is in hand — put them in the tote or back on the shelf first."
    assert walking.hand_over(None).message.startswith("1 unit is in hand")


def test_the_last_stop_cannot_be_skipped(station: StationContext, scene: Scene) -> None:
    req = PickWorkRequest(
        kind=PickKind.SINGLE, limits=Limits(max_orders=1), order_ids=scene.order_ids[:1]
    )
    with station.uow(sign_in(station, "OP-9001")) as uow:
        number = create_pick_work(uow, req).lists[0].number
    session = PickSession(station.uow, sign_in(station, "OP-1002"))
    session.scan(number)
    session.scan("T-0001")
    while session.view is not None and sum(s.open for s in session.view.stops) > 1:
        stop = session.stop
        assert stop is not None
        session.scan(stop.bin)
        for _ in range(stop.remaining):
            session.scan(code_for(scene, stop.sku, stop.lot, stop.expiry))
        assert session.scan("T-0001").stop_recorded
    r = session.skip()
    assert r.message == "This is the last open stop — pick it, or report the bin short."


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("other_list", "Tote T-0001 is on pick list {other} — take an empty tote for slot 1."),
        (
            "same_cart",
            "Tote T-0001 is already in slot 1 of this cart — take another tote for slot 2.",
        ),
        ("unknown", "T-9999 is not a bin, item, tote or pick list this station knows"),
        ("bin", "— the cart needs an empty tote for slot 1 first: scan the tote's label."),
    ],
)
def test_a_tote_that_cannot_go_on_the_cart(
    station: StationContext, scene: Scene, setup: str, expected: str
) -> None:
    session = PickSession(station.uow, sign_in(station, "OP-1002"))
    other = ""
    if setup == "other_list":
        extra = PickWorkRequest(
            kind=PickKind.BATCH, limits=Limits(1), order_ids=scene.order_ids[3:]
        )
        with station.uow(sign_in(station, "OP-9001")) as uow:
            other = create_pick_work(uow, extra).lists[0].number
        first = PickSession(station.uow, sign_in(station, "OP-9001"))
        assert first.scan(other).ok
        assert first.scan("T-0001").ok
    session.scan(release(station, scene))
    if setup == "same_cart":
        assert session.scan("T-0001").ok
    code = {"unknown": "T-9999", "bin": scene.bins["b1"].code}.get(setup, "T-0001")
    r = session.scan(code)
    assert not r.ok
    assert expected.format(other=other) in r.message
    assert session.step is Step.TOTES


def test_lists_that_cannot_be_taken(station: StationContext, scene: Scene) -> None:
    number = release(station, scene)
    picker = sign_in(station, "OP-1002")
    with station.sessions.begin() as s:
        s.execute(
            update(PickList)
            .where(PickList.number == number)
            .values(status="cancelled", notes="SO-9001 left the list: it is on pick list PL-X")
        )
    r = PickSession(station.uow, picker).scan(number)
    assert r.message == (
        f"Pick list {number} was withdrawn (SO-9001 left the list: it is on pick list PL-X) — "
        "put back anything picked for it and scan another pick list."
    )
    with station.sessions.begin() as s:
        s.execute(update(PickList).where(PickList.number == number).values(status="done"))
    r = PickSession(station.uow, picker).scan(number)
    assert r.message == f"Pick list {number} is already finished — take the totes to packing."


def test_a_list_handed_to_someone_who_may_not_pick_is_refused(
    station: StationContext, scene: Scene, walking: PickSession
) -> None:
    r = walking.hand_over("OP-1001")
    assert r.message == "Pat Packer may not pick orders — hand the list to a picker, or to anyone."
    assert walking.view is not None  # still the picker's


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda r: replace(r, max_lists=0), "0 pick lists at once"),
        (lambda r: replace(r, wave="W" * 41), "A wave name is at most 40"),
    ],
)
def test_pick_work_out_of_range_is_refused(
    station: StationContext, change: Callable[[PickWorkRequest], PickWorkRequest], words: str
) -> None:
    req = change(PickWorkRequest())
    with pytest.raises(ValidationError, match=words), station.uow(sign_in(station, "OP-9001")) as u:
        create_pick_work(u, req)


def test_a_station_of_no_warehouse_among_several_cannot_hand_out_work(
    station: StationContext,
) -> None:
    from app.store.models import Warehouse

    with station.sessions.begin() as s:
        company = s.scalar(select(Warehouse.company_id))
        s.add(Warehouse(id=uuid.uuid4(), company_id=company, code="WH2", name="Second"))
        s.execute(update(Station).values(warehouse_id=None))
    supervisor = sign_in(station, "OP-9001")
    with (
        pytest.raises(ValidationError, match="This station belongs to no warehouse"),
        station.uow(supervisor) as uow,
    ):
        create_pick_work(uow, PickWorkRequest())


def test_finishing_a_stop_with_nothing_or_too_much_is_refused(
    station: StationContext, scene: Scene, walking: PickSession
) -> None:
    view, stop = walking.view, walking.stop
    assert view is not None and stop is not None
    nothing = actions.Capture()
    with (
        pytest.raises(ValidationError, match="Nothing was picked at this stop"),
        station.uow(walking.operator) as uow,
    ):
        actions.finish_stop(uow, view, stop, picked=0, tote="T-0001", capture=nothing)
    with (
        pytest.raises(ValidationError, match=f"This stop needs {stop.remaining} × {stop.sku}"),
        station.uow(walking.operator) as uow,
    ):
        actions.finish_stop(
            uow, view, stop, picked=stop.remaining + 1, tote="T-0001", capture=nothing
        )


def test_a_lot_item_scanned_without_its_expiry_is_refused(
    station: StationContext, scene: Scene, walking: PickSession
) -> None:
    while walking.stop is not None and walking.stop.sku != "PK-LOT":
        walking.skip()
    stop = walking.stop
    assert stop is not None and stop.lot
    walking.scan(stop.bin)
    # A GS1 code with the right lot but no expiry: the item needs both.
    item = scene.items["PK-LOT"]
    r = walking.scan(f"01{item.gtin}10{stop.lot}")
    assert "needs its expiry date" in r.message
    assert walking.scan(gs1(item, stop.lot, stop.expiry or "")).ok
